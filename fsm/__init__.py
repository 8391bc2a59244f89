"""okx-fsm engine: YAML machines, the reconcile tick, durable state and journal, the CLI."""
