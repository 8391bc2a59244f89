"""The options the commands share, typed once, and what they select: the venue and the output.

Loaded with the CLI itself, so it imports only typer and the standard library; what the options lead
to (clients, consoles, renderers) is imported when a command uses it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from exchange import OkxClient
    from fsm.engine.machine import LoadedMachine
    from fsm.engine.state import LadderState
    from fsm.engine.venue import Venue
    from fsm.spec.limits import LimitsFile

MAX_SECONDS = 86_400.0  # a day: the longest wait any option may ask for


def state_dir_usable(value: Path | None) -> Path | None:
    """Refuse a --state-dir that is a file or lies under one, before a command reads or writes there."""
    if value is not None:
        for path in (value, *value.parents):
            if path.exists():
                if not path.is_dir():
                    where = "" if path == value else f"{value}: "
                    raise typer.BadParameter(f"{where}{path} is not a directory")
                break
    return value


def url_option(
    env: str | None = None, *, schemes: tuple[str, ...] = ("https", "http"), endpoint: bool = False
) -> Callable[[str | None], str | None]:
    """A callback refusing a URL that cannot be connected to (see exchange.urls), from its option or
    else from `env`, before any request: every command that takes the option refuses it, whether or
    not it would connect this time."""

    def check(value: str | None) -> str | None:
        url = value or (os.environ.get(env) if env else None)
        if url:
            from exchange.urls import url_problem

            problem = url_problem(url, schemes, endpoint=endpoint)
            if problem is not None:  # the URL itself is not echoed: it may carry a password
                raise typer.BadParameter(f"a bad URL: {problem}", param_hint=None if value else env)
        return value

    return check


def seconds(*, zero: bool = False) -> Callable[[float], float]:
    """A callback for a number of seconds: finite, above 0 (or at least 0 with `zero`), at most a day.
    0 would busy-loop where it means a wait, and nan slips through a plain range check (every comparison
    with it is false)."""
    low = "0<=x" if zero else "0<x"

    def check(value: float) -> float:
        if not (math.isfinite(value) and (value >= 0 if zero else value > 0) and value <= MAX_SECONDS):
            raise typer.BadParameter(f"{value:g} is not in the range {low}<={MAX_SECONDS:g} (seconds)")
        return value

    return check


MachineArg = Annotated[str, typer.Argument(help="machine name (machines/NAME.yaml) or path to a YAML file")]
StateDirOpt = Annotated[
    Path, typer.Option("--state-dir", help="where state files and journals live", callback=state_dir_usable)
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="venue base URL (default $OKX_BASE_URL or OKX)",
        callback=url_option("OKX_BASE_URL"),
    ),
]
LiveOpt = Annotated[bool, typer.Option("--live", help="trade live (default: demo trading header)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON document")]
AdoptOpt = Annotated[
    bool,
    typer.Option(
        "--adopt",
        help="take over orders with this machine's clOrdId prefix that OKX holds and the state does not know",
    ),
]
AcceptSpecOpt = Annotated[
    bool,
    typer.Option(
        "--accept-spec-change",
        help="the machine's YAML changed on purpose: journal the new spec hash and go on",
    ),
]
SubmitOpt = Annotated[bool, typer.Option("--submit", help="arm the client: this command may POST orders")]
YesOpt = Annotated[bool, typer.Option("--yes", help="skip the typed confirmation that --live --submit asks")]
LimitsOpt = Annotated[
    Path | None,
    typer.Option(
        "--limits",
        envvar="OKX_FSM_LIMITS",
        show_envvar=True,
        help="the hard limits file (default machines/limits.yaml when present)",
    ),
]

DEFAULT_STATE_DIR = Path("state")
LIVE_WORD = "LIVE"


def console(stderr: bool = False) -> Console:
    """The terminal's console (plain when piped or NO_COLOR)."""
    from fsm.cli.render import make_console

    return make_console(stderr=stderr)


@dataclass(frozen=True)
class Common:
    """The options most commands take: where the state lives, which venue, and how to print."""

    state_dir: Path = DEFAULT_STATE_DIR
    base_url: str | None = None
    live: bool = False
    as_json: bool = False

    def venue(self, *, submit: bool = False, yes: bool = False) -> Venue:
        """Where to connect; with --live and --submit, only after the operator types LIVE (or --yes)."""
        from fsm.engine.venue import Venue
        from fsm.errors import NotConfirmed

        venue = Venue.from_options(self.base_url, self.live)
        if venue.live and submit and not yes:
            err = console(stderr=True)
            err.print(f"LIVE trading on {venue.base_url}: this command may send real orders.", markup=False)
            try:
                answer = typer.prompt(
                    f"Type {LIVE_WORD} to continue", default="", show_default=False, err=True
                )
            except typer.Abort:
                answer = ""
            if answer.strip() != LIVE_WORD:
                raise NotConfirmed("not confirmed: nothing was sent")
        return venue

    def reader(self) -> OkxClient:
        """An unarmed client: its trading methods refuse before any I/O."""
        return self.venue().client(armed=False)

    def read_only(self, machine: str) -> tuple[LoadedMachine, LadderState, OkxClient]:
        """Where read commands start: the machine, its last saved state (no lock), an unarmed client."""
        from fsm.engine.machine import load_machine
        from fsm.engine.tick import read_state_unlocked

        loaded = load_machine(machine, state_dir=self.state_dir)
        state, _ = read_state_unlocked(loaded)
        return loaded, state, self.reader()

    def emit(self, doc: dict[str, Any], show: Callable[[Console, dict[str, Any]], None]) -> None:
        """A read command's ending: one JSON document with --json, else the rich view of the same."""
        if self.as_json:
            from fsm.cli.render import print_json

            print_json(doc)
        else:
            show(console(), doc)


def account_limits(option: Path | None) -> LimitsFile | None:
    """The limits file a command runs under, checked (a refusal names the file, the line, the field)."""
    from fsm.spec.limits import limits_path, load_limits

    path = limits_path(option)
    return None if path is None else load_limits(path)


def per_minute(account: LimitsFile | None) -> int | None:
    """The order budget a sending command's client keeps: the limits file's max_orders_per_minute."""
    return None if account is None else account.orders_per_minute


def say_unlimited(what: str) -> None:
    """An armed command that runs with no limits at all says so, once, on stderr."""
    import sys

    print(
        f"no limits: nothing caps what {what} sends (--limits FILE, $OKX_FSM_LIMITS or machines/limits.yaml)",
        file=sys.stderr,
    )
