"""The `okx-fsm` application: the root command (--version, -h), every command module's commands, and
main(). Importing it loads no engine, client or renderer: each command imports what it needs.

Read commands hold an unarmed client; only --submit arms one, and --live with --submit asks for a
typed confirmation (--yes for scripts). The exit codes and environment variables are in `--help`.
"""

from __future__ import annotations

import sys
import traceback
from typing import Annotated

import typer

from fsm.cli import (
    commands_candles,
    commands_read,
    commands_replay,
    commands_report,
    commands_service,
    commands_spec,
    commands_trade,
)
from fsm.cli.command import RootGroup

app = typer.Typer(
    name="okx-fsm",
    help="An explicit finite-state-machine engine for OKX v5 order lifecycles.",
    cls=RootGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        print(f"okx-fsm {version('okx-fsm')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", help="print the version and exit", is_eager=True, callback=_print_version),
    ] = False,
) -> None:
    """okx-fsm: explicit, recoverable OKX order lifecycles."""


for _module in (
    commands_spec,
    commands_service,
    commands_read,
    commands_trade,
    commands_candles,
    commands_replay,
    commands_report,
):
    _module.register(app)


def main() -> None:
    """Console-script entry point. Operator errors end in their one line (fsm.cli.command); a bug's
    traceback is still printed, with the credentials masked, since its text may quote one."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        from fsm.engine.venue import mask_credentials

        print(mask_credentials("".join(traceback.format_exception(exc))), end="", file=sys.stderr)
        sys.exit(1)  # Python's own status for an uncaught exception
