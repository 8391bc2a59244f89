"""The `okx-fsm` command line.

Imports that a command does not need stay inside that command, so `okx-fsm --help` stays fast.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="okx-fsm",
    help="An explicit finite-state-machine engine for OKX v5 order lifecycles.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """okx-fsm: explicit, recoverable OKX order lifecycles."""


def main() -> None:
    """Console-script entry point."""
    app()
