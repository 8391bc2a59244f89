"""`--help` as click users know it, and the root's epilog of exit codes and environment variables.

Typer shows a flag as `--submit <bool>` and an argument as `{machine}`; here a flag is bare, a value
is named by its metavar or click's type name (`--state-dir PATH`), and an argument by its upper-case
name (`MACHINE`, `[MACHINE]` when it has a default, `MACHINES...` for several).
"""

from __future__ import annotations

from collections.abc import Iterable

from typer._click.core import Context, Parameter
from typer.core import TyperArgument, TyperOption

CLICK_TYPE_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "path": "PATH", "bool": "BOOLEAN"}

CREDENTIALS = (
    ("OKX_API_KEY, OKX_API_SECRET, OKX_API_PASSPHRASE", "the API key (never printed, journaled or logged)"),
    ("OKX_BASE_URL", "the venue when --base-url is not given (default https://www.okx.com)"),
    ("OKX_WS_URL", "the private WebSocket of run --push when --ws-url is not given (default OKX's)"),
    ("NO_COLOR", "plain output on a terminal too"),
)


class ClickOption(TyperOption):
    """An option shown the click way: a flag bare, a value by its metavar or type name."""

    def display_type_rich(self, ctx: Context) -> str | None:
        if self.is_flag or self.count:
            return None
        if self.metavar is not None:
            return self.metavar
        label = self.display_type(ctx).strip("<>")
        return CLICK_TYPE_NAMES.get(label, label.upper())


class ClickArgument(TyperArgument):
    """An argument shown the click way: by its upper-case name, bracketed when optional."""

    @property
    def display_name_raw(self) -> str:
        return self.metavar or (self.name or "").upper()

    def display_type_rich(self, ctx: Context) -> str | None:
        return None

    def get_usage_pieces(self, ctx: Context) -> list[str]:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return [name + ("..." if self.nargs != 1 else "")]


def click_style(params: Iterable[Parameter]) -> None:
    """Show `params` the click way. Typer builds them itself, so their class is swapped in place for a
    subclass that only changes how they are displayed."""
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = ClickOption
        elif type(param) is TyperArgument:
            param.__class__ = ClickArgument


def environment_variables(commands: Iterable[tuple[str, Iterable[Parameter]]]) -> list[tuple[str, str]]:
    """Every variable a command reads an argument or option from, with the command and option it sets."""
    found = []
    for name, params in commands:
        for param in params:
            if isinstance(param.envvar, str):
                if isinstance(param, TyperOption):
                    where = param.opts[0]
                else:
                    where = (param.name or "").upper() + ("..." if param.nargs != 1 else "")
                found.append((param.envvar, f"{name} {where}"))
    return found


def root_epilog(exit_statuses: Iterable[tuple[int, str]], env: Iterable[tuple[str, str]]) -> str:
    """The root's epilog: one line per exit code, then one per environment variable."""
    codes = [f"  {code}  {meaning}" for code, meaning in exit_statuses]
    variables = [*CREDENTIALS, *env]
    width = max(len(name) for name, _ in variables)
    lines = [f"  {name.ljust(width)}  {what}" for name, what in variables]
    return "\n".join(["Exit codes:", *codes, "", "Environment:", *lines])
