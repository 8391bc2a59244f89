"""The `okx-fsm` application: the root command, every command module's commands, and main().

Imports that a command does not need stay inside that command, so `okx-fsm --help` stays fast.
Exit codes: 0 ok; 1 the demo's story broke; 2 usage or spec error; 3 state refused; 4 exchange
error; 5 lock held. Read commands hold an unarmed client; only --submit arms one, and --live with
--submit asks for a typed confirmation (--yes for scripts).
"""

from __future__ import annotations

import sys

import typer

from fsm.cli import commands_read, commands_service, commands_spec, commands_trade

app = typer.Typer(
    name="okx-fsm",
    help="An explicit finite-state-machine engine for OKX v5 order lifecycles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """okx-fsm: explicit, recoverable OKX order lifecycles."""


for _module in (commands_spec, commands_service, commands_read, commands_trade):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
