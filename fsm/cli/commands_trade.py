"""Commands that may send: one tick, the operator's machine commands (submit-entries, cancel, close,
flatten; pause and resume, which send nothing) and one ad-hoc order. Only --submit arms a client;
without it each prints what it would send and writes nothing."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from fsm.cli.command import add, alias
from fsm.cli.options import (
    DEFAULT_STATE_DIR,
    AcceptSpecOpt,
    AdoptOpt,
    BaseUrlOpt,
    Common,
    JsonOpt,
    LimitsOpt,
    LiveOpt,
    MachineArg,
    StateDirOpt,
    SubmitOpt,
    YesOpt,
    account_limits,
    console,
    per_minute,
    say_unlimited,
)

if TYPE_CHECKING:
    from exchange import OkxClient
    from fsm.engine.control import Outcome, Request
    from fsm.engine.machine import LoadedMachine
    from fsm.engine.state import LadderState
    from fsm.persist.spool import OperatorRequest
    from fsm.persist.store import StateStore

Plan = Callable[["LoadedMachine", "LadderState"], "Request | None"]
Act = Callable[["LoadedMachine", "StateStore", "LadderState", "OkxClient"], "Outcome"]


@dataclass(frozen=True)
class Arming:
    """Whether a command may send (--submit), whether the LIVE confirmation is skipped (--yes), and the
    hard limits file it sends under (--limits)."""

    submit: bool = False
    yes: bool = False
    limits: Path | None = None

    def client(self, common: Common, orders_per_minute: int | None = None) -> OkxClient:
        """A client armed only with --submit (a live one only after the confirmation), held to the
        limits file's order budget."""
        venue = common.venue(submit=self.submit, yes=self.yes)
        return venue.client(armed=self.submit, orders_per_minute=orders_per_minute)


def tick(
    machine: MachineArg,
    submit: SubmitOpt = False,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    accept_spec_change: AcceptSpecOpt = False,
    adopt: AdoptOpt = False,
    limits: LimitsOpt = None,
) -> None:
    """One reconcile tick: observe OKX, fire the first passing rows, journal every step."""
    from fsm.cli.render import print_json
    from fsm.cli.render_status import fired_lines, print_state
    from fsm.cli.reports_status import state_document
    from fsm.engine.machine import load_machine
    from fsm.engine.tick import open_machine_state, run_tick
    from fsm.engine.view import ExchangeView

    account = account_limits(limits)
    loaded = load_machine(machine, state_dir=state_dir, limits=account)
    client = Arming(submit, yes).client(Common(state_dir, base_url, live, as_json), per_minute(account))
    with open_machine_state(loaded, allow_spec_change=accept_spec_change) as (store, state):
        if submit and loaded.limits is None:  # said once the state is usable: a refusal stays one line
            say_unlimited(loaded.name)
        result = run_tick(
            loaded, store, state, ExchangeView(client), trader=client if submit else None, adopt=adopt
        )
        doc = state_document(loaded.name, result.state, {"seq": store.cursor.seq, "hash": store.cursor.hash})
    fired = [f.__dict__ for f in result.fired]
    if as_json:
        doc["tick"] = {
            "before": result.before,
            "after": result.after,
            "fired": fired,
            "journaled": result.journaled,
            "rolled_forward": result.rolled_forward,
            "armed": submit,
        }
        print_json(doc)
        return
    screen = console()
    fired_lines(screen, fired)
    if not result.fired:
        screen.print(
            f"no transition: stays in {result.after}"
            + ("" if submit else " (read-only; --submit arms actions that send)"),
            markup=False,
        )
    print_state(screen, doc)


# --- the operator's machine commands -----------------------------------------------------------


@dataclass
class Shown:
    """What a machine command reports: the POST the state file says it sends (None: nothing), what it
    sent (read back from the journal's write-ahead records) and did, and the direct command's
    superseded queue."""

    command: str
    request: Request | None
    outcome: Outcome | None = None
    sent: list[Request] = field(default_factory=list)
    state_doc: dict[str, Any] | None = None
    note: str | None = None
    superseded: list[OperatorRequest] = field(default_factory=list)

    def show(self, as_json: bool) -> None:
        from fsm.cli.render import print_json
        from fsm.cli.render_reads import print_request
        from fsm.cli.render_status import fired_lines, print_state

        outcome = self.outcome
        tick = outcome.tick if outcome is not None else None
        fired = [f.__dict__ for f in tick.fired] if tick is not None else []
        note = self.note or (outcome.said if outcome is not None else None)
        if as_json:
            print_json(
                {
                    "command": self.command,
                    "submitted": outcome is not None,
                    "request": None if self.request is None else self.request.to_dict(),
                    "sent": [r.to_dict() for r in self.sent],
                    "journaled": (outcome.journaled if outcome else [])
                    + (tick.journaled if tick else [])
                    + ["operator"] * len(self.superseded),
                    "fired": fired,
                    "state": self.state_doc,
                    "note": note,
                    "superseded": [{"id": r.id, "command": r.command} for r in self.superseded],
                }
            )
            return
        screen = console()
        if note is not None:
            screen.print(f"{self.command}: {note}", markup=False, soft_wrap=True)
        _say_superseded(self.superseded)
        if outcome is not None:
            for request in self.sent:
                print_request(screen, request.to_dict(), sent=True)
            if not self.sent:
                screen.print(f"{self.command}: sent nothing", markup=False)
        elif self.request is not None:
            print_request(screen, self.request.to_dict(), sent=False)
        elif note is None:
            screen.print(f"{self.command}: would send nothing now", markup=False)
        fired_lines(screen, fired)
        if self.state_doc is not None:
            print_state(screen, self.state_doc)


def _say_superseded(superseded: list[OperatorRequest]) -> None:
    if superseded:
        print(
            f"superseded {len(superseded)} older request(s) queued for a runner that never took them "
            "(journaled, never carried out): " + ", ".join(f"{r.command} ({r.id})" for r in superseded)
        )


def _machine_command(
    command: str,
    machine: str,
    common: Common,
    arming: Arming,
    plan: Plan,
    act: Act,
    rung: int | None = None,
) -> None:
    """Without --submit: plan from the state file (no lock, no network). With it: lock, plan, send,
    and supersede what was queued for a runner before; when a runner holds the lock, queue the request
    in its spool instead. A command with nothing to act on says so and writes nothing."""
    import time

    from fsm.cli.reports_status import state_document
    from fsm.engine import control
    from fsm.engine.machine import load_machine
    from fsm.engine.tick import open_machine_state, read_state_unlocked
    from fsm.engine.view import ExchangeView
    from fsm.errors import StateLocked

    account = account_limits(arming.limits)
    loaded = load_machine(machine, state_dir=common.state_dir, limits=account)
    try:
        if not arming.submit:
            Shown(command, plan(loaded, read_state_unlocked(loaded)[0])).show(common.as_json)
            return
        client = arming.client(common, per_minute(account))
        with open_machine_state(loaded) as (store, state):
            since = time.time()
            request = plan(loaded, state)
            if loaded.limits is None:  # said once the state is usable and there is something to send
                say_unlimited(loaded.name)
            outcome = act(loaded, store, state, client)
            superseded = control.supersede_queued(loaded, store, state, ExchangeView(client), command, since)
            cursor = {"seq": store.cursor.seq, "hash": store.cursor.hash}
            doc = state_document(loaded.name, state, cursor)
            sent = outcome.sent(loaded, state)
            shown = Shown(command, request, outcome, sent, doc, superseded=superseded)
    except control.NothingToDo as exc:
        Shown(command, None, note=str(exc)).show(common.as_json)
        return
    except StateLocked:
        _queue_for_runner(loaded, command, rung, common.as_json)
        return
    shown.show(common.as_json)


def _queue_for_runner(loaded: LoadedMachine, command: str, rung: int | None, as_json: bool) -> None:
    """A runner holds the state: leave the request in its spool; it is carried out on its next tick."""
    from fsm.cli.render import print_json
    from fsm.persist import spool

    request = spool.enqueue(loaded.state_path, command, rung)
    if as_json:
        print_json({"command": command, "queued": request.to_dict(), "submitted": False})
        return
    print(
        f"queued for the running runner: {command} (request {request.id}); it is carried out and "
        "journaled on the machine's next tick (`okx-fsm history` shows it)"
    )


def _operator_flag(command: str, machine: str, common: Common) -> None:
    """pause/resume: carried out now when no runner holds the state (superseding what was queued for
    a runner before), else queued for it. They send nothing."""
    import time

    from fsm.engine import control
    from fsm.engine.machine import load_machine
    from fsm.engine.tick import open_machine_state
    from fsm.engine.view import ExchangeView
    from fsm.errors import StateLocked
    from fsm.persist import spool

    loaded = load_machine(machine, state_dir=common.state_dir)
    client = common.reader()
    try:
        with open_machine_state(loaded) as (store, state):
            since = time.time()
            view = ExchangeView(client)
            request = spool.OperatorRequest(id=f"direct{spool.new_id()}", command=command)
            said = control.carry_out(loaded, store, state, view, None, request)
            superseded = control.supersede_queued(loaded, store, state, view, command, since)
    except StateLocked:
        _queue_for_runner(loaded, command, None, False)
        return
    print(f"{command}: {said}")
    _say_superseded(superseded)


def _flag_command(name: str, doc: str) -> Callable[..., None]:
    """pause (resume takes --account too): carried out by `_operator_flag`."""

    def command(
        machine: MachineArg,
        state_dir: StateDirOpt = DEFAULT_STATE_DIR,
        base_url: BaseUrlOpt = None,
        live: LiveOpt = False,
    ) -> None:
        _operator_flag(name, machine, Common(state_dir, base_url, live))

    command.__doc__ = doc
    return command


PAUSE_DOC = "No new cycles start (working orders are left as they are); works while `run` holds the state."


def resume(
    machine: Annotated[
        str | None, typer.Argument(help="machine name (machines/NAME.yaml) or path to a YAML file")
    ] = None,
    account: Annotated[
        bool, typer.Option("--account", help="clear the account's halt or reduce (not a machine's pause)")
    ] = False,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
) -> None:
    """Undo `pause` (and the pause a flatten leaves): new cycles may start again. With --account (and
    no MACHINE): clear the account's halted or reducing state, journaled in the account journal."""
    if (machine is None) == (not account):
        raise typer.BadParameter("give MACHINE (its pause) or --account (the account's halt), not both")
    common = Common(state_dir, base_url, live)
    if machine is not None:
        _operator_flag("resume", machine, common)
        return
    from fsm.engine.halt import mark_account
    from fsm.engine.view import ExchangeView

    now = ExchangeView(common.reader()).now_ms()
    if mark_account(state_dir, "resume", now) is None:
        print("resume --account: queued for the running runner; it journals it on its next round")
        return
    print(f"resume --account: the account is active again (journaled in {state_dir / 'account.jsonl'})")


RungOpt = Annotated[
    int | None, typer.Option("--rung", help="only this rung (its level); default every working rung", min=1)
]


def _sending_options(
    *,
    submit: SubmitOpt = False,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    limits: LimitsOpt = None,
) -> None:
    """The options every machine command that may send takes, declared once (each command's signature
    ends with these): --submit arms (without it the command prints what it would send and writes
    nothing), --live --submit asks the typed confirmation unless --yes, --json prints the document,
    --limits names the hard limits file."""


SENDING_OPTIONS = tuple(inspect.signature(_sending_options, eval_str=True).parameters.values())


def _sending_command(name: str, doc: str, plan: str, act: str, *, rung: bool = False) -> Callable[..., None]:
    """A machine command that may send: MACHINE (and --rung when `rung`), then SENDING_OPTIONS; planned
    by `fsm.engine.control.<plan>` and carried out by `control.<act>` (imported when it runs, so the CLI
    loads fast), both given the --rung value as `rung` when the command takes it."""

    def command(machine: str, **options: Any) -> None:
        from fsm.engine import control

        extra = {"rung": options["rung"]} if rung else {}
        _machine_command(
            name,
            machine,
            Common(**{f.name: options[f.name] for f in fields(Common)}),
            Arming(**{f.name: options[f.name] for f in fields(Arming)}),
            plan=functools.partial(getattr(control, plan), **extra),
            act=functools.partial(getattr(control, act), **extra),
            rung=extra.get("rung"),
        )

    machine_arg = inspect.Parameter("machine", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=MachineArg)
    rung_opt = inspect.Parameter("rung", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=RungOpt)
    params = [machine_arg, *([rung_opt] if rung else []), *SENDING_OPTIONS]
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]  # what typer reads
    command.__doc__ = doc
    command.__name__ = name.replace("-", "_")  # typer names the command after it
    return command


SENDING_COMMANDS = (
    _sending_command(
        "submit-entries",
        "Send the rendered entry rungs (one batch-orders request). Without --submit: print it, send nothing.",
        plan="entries_request",
        act="submit_entries",
    ),
    _sending_command(
        "cancel",
        "Cancel working rungs (one cancel-batch-orders request), then observe. Without --submit: print it.",
        plan="cancel_plan",
        act="cancel_rungs",
        rung=True,
    ),
    _sending_command(
        "close",
        "Exit the machine's own position now (reduce-only market order), journaled as an operator "
        "request. Without --submit: print it.",
        plan="close_request",
        act="close_position",
    ),
    _sending_command(
        "flatten",
        "Cancel every working rung, then exit the machine's own position; the machine stays paused until "
        "`resume`. Without --submit: print what it would send. With no cycle in flight: nothing to do.",
        plan="flatten_request",
        act="flatten",
    ),
)


# --- the kill switch ---------------------------------------------------------------------------


def _account_machines(names: list[str], state_dir: Path, limits: Path | None) -> list[LoadedMachine]:
    """The machines named, else every ladder in ./machines and the shipped machines/ whose state file
    is in `state_dir`."""
    from fsm.engine.machine import REPO_MACHINES, load_machine
    from fsm.errors import EngineError
    from fsm.spec.model import SpecError

    account = account_limits(limits)
    if names:
        return [load_machine(name, state_dir=state_dir, limits=account) for name in names]
    found: dict[Path, LoadedMachine] = {}
    for folder in (Path.cwd() / "machines", REPO_MACHINES):
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            try:
                loaded = load_machine(str(path), state_dir=state_dir, limits=account)
            except (SpecError, EngineError):
                continue  # an order or stop machine, or a file that is no ladder
            if loaded.state_path.exists():
                found.setdefault(loaded.state_path, loaded)
    return list(found.values())


MachinesArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="the machines to act on when no runner runs (default: every ladder in ./machines and "
        "the shipped machines/ with a state file in --state-dir)"
    ),
]
WaitOpt = Annotated[
    float, typer.Option("--wait", help="seconds to wait for OKX to agree before giving up", min=1)
]


def _set_account(
    command: Literal["halt", "reduce"],
    machines: list[str] | None,
    flatten: bool,
    wait: float,
    common: Common,
    yes: bool,
    limits: Path | None,
) -> None:
    """halt and reduce: the mark, the withdrawal of the entries it withdraws, one line per machine;
    exit 3 unless OKX agrees within `wait`."""
    from fsm.engine.halt import set_account
    from fsm.errors import ExitStatus

    state_dir = common.state_dir
    loaded = _account_machines(machines or [], state_dir, limits)
    client = common.venue(submit=True, yes=yes).client(armed=True)
    by_runner, found = set_account(state_dir, command, loaded, client, flatten=flatten, ceiling_s=wait)
    how = "queued for the running runner" if by_runner else f"journaled in {state_dir / 'account.jsonl'}"
    state = "halted" if command == "halt" else "reducing: no new entries"
    print(
        f"{command}{' --flatten' * flatten}: the account is {state} ({how}); "
        "`okx-fsm resume --account` clears it"
    )
    for standing in found:
        print(standing.line())
    if not all(s.done for s in found):
        raise typer.Exit(int(ExitStatus.STATE_REFUSED))


def halt(
    machines: MachinesArg = None,
    flatten: Annotated[
        bool, typer.Option("--flatten", help="also exit every machine's own size (reduce-only market)")
    ] = False,
    wait: WaitOpt = 60.0,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    yes: YesOpt = False,
    limits: LimitsOpt = None,
) -> None:
    """The kill switch: set the account HALTED at once (through a running runner's spool when one
    runs), cancel every machine's working entries and with --flatten exit every machine's own size.
    It sends only cancels and reduce-only exits, so it needs no --submit. One line per machine; exit 0
    only when OKX shows no working entry (and with --flatten every own size flat)."""
    _set_account("halt", machines, flatten, wait, Common(state_dir, base_url, live), yes, limits)


def reduce(
    machines: MachinesArg = None,
    wait: WaitOpt = 60.0,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    yes: YesOpt = False,
    limits: LimitsOpt = None,
) -> None:
    """Set the account REDUCING (through a running runner's spool when one runs): no new entries
    anywhere; each machine's working entries are cancelled, or rest with its on_reducing `keep`; exits
    and stops go on. It sends only cancels, so it needs no --submit. One line per machine; exit 0 only
    when OKX shows no working entry it withdraws."""
    _set_account("reduce", machines, False, wait, Common(state_dir, base_url, live), yes, limits)


# --- one ad-hoc order --------------------------------------------------------------------------


SWAP_TD_MODES = ("isolated", "cross")


def _swap_td_mode(value: str) -> str:
    """A swap's tdMode is its margin mode: OKX refuses cash and spot_isolated for it, so the dry run
    does too."""
    if value not in SWAP_TD_MODES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(SWAP_TD_MODES)} (a swap's margin mode)")
    return value


def order(
    symbol: Annotated[str, typer.Argument(help="instrument, e.g. ETH-USDT-SWAP")],
    side: Annotated[str, typer.Option("--side", help="buy | sell")],
    sz: Annotated[str, typer.Option("--sz", help="size in contracts")],
    px: Annotated[str | None, typer.Option("--px", help="price (limit and post_only)")] = None,
    ord_type: Annotated[str, typer.Option("--ord-type", help="market | limit | post_only")] = "limit",
    pos_side: Annotated[str | None, typer.Option("--pos-side", help="long | short | net")] = None,
    td_mode: Annotated[
        str, typer.Option("--td-mode", help="isolated | cross", callback=_swap_td_mode)
    ] = "isolated",
    submit: SubmitOpt = False,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    limits: LimitsOpt = None,
) -> None:
    """One ad-hoc order through place_order, never through a machine; one that adds exposure passes the
    hard limits first (against every machine's state in --state-dir and OKX's own view). Without
    --submit: print it."""
    from decimal import Decimal, InvalidOperation

    from fsm.cli.render import print_json
    from fsm.cli.render_reads import print_request
    from fsm.engine.control import AdHocOrder

    try:
        size, price = Decimal(sz), None if px is None else Decimal(px)
    except InvalidOperation:
        raise typer.BadParameter(f"--sz and --px must be decimal numbers, got {sz!r} and {px!r}") from None
    adhoc = AdHocOrder(symbol, side, ord_type, size, price, pos_side, td_mode)
    request = adhoc.request()
    ack = None
    if submit:
        account = account_limits(limits)
        client = Arming(submit, yes).client(Common(base_url=base_url, live=live), per_minute(account))
        if account is None:
            say_unlimited("this order")
        ack = adhoc.send(client, None if account is None else account.limits, state_dir)
    ack_doc = None if ack is None else {"ordId": ack.ordId, "clOrdId": ack.clOrdId, "sCode": ack.sCode}
    if as_json:
        print_json({"command": "order", "submitted": submit, "request": request.to_dict(), "ack": ack_doc})
        return
    screen = console()
    print_request(screen, request.to_dict(), sent=submit)
    if ack_doc is not None:
        screen.print(f"accepted: ordId {ack_doc['ordId']}", markup=False)


def register(app: typer.Typer) -> None:
    """Add the commands that may send to `app`, and the seed's name of `order` as a hidden alias."""
    add(app, tick)
    add(app, _flag_command("pause", PAUSE_DOC), "pause")
    add(app, resume)
    for command in SENDING_COMMANDS:
        add(app, command)
    add(app, halt)
    add(app, reduce)
    add(app, order)
    alias(app, "okx-order", order)
