"""How a command is registered and run: the engine's and the exchange's errors become one line on
stderr and their stable exit code."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import typer
from typer._click.core import Context
from typer.core import TyperCommand


def exit_code_of(exc: Exception) -> tuple[int, str] | None:
    """The exit code and the line to print for an error the operator can act on; None for a bug."""
    from exchange import OkxError
    from fsm.errors import EXIT_EXCHANGE, EngineError

    if isinstance(exc, EngineError):
        return exc.exit_code, f"error: {exc}"
    if isinstance(exc, OkxError):
        return EXIT_EXCHANGE, f"exchange error: {type(exc).__name__}: {exc}"
    return None


class Command(TyperCommand):
    """A command whose operator errors end it with their exit code, never a traceback."""

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            known = exit_code_of(exc)
            if known is None:
                raise
            code, line = known
            print(line, file=sys.stderr)
            raise typer.Exit(code) from None


def add(app: typer.Typer, fn: Callable[..., Any], name: str | None = None, *, hidden: bool = False) -> None:
    """Register `fn` as a command of `app` (named after the function unless `name`)."""
    app.command(name, cls=Command, hidden=hidden)(fn)


def alias(app: typer.Typer, name: str, fn: Callable[..., Any]) -> None:
    """Register one of the seed's command names for `fn`: it keeps working, out of --help."""
    add(app, fn, name, hidden=True)
