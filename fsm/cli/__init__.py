"""The `okx-fsm` command line: commands, documents for --json, and what is shown on a terminal."""
