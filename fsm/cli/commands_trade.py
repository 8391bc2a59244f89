"""Commands that may send: one tick, the operator's machine commands (submit-entries, cancel, close,
pause, resume, flatten) and one ad-hoc order. Only --submit arms a client (flatten always sends);
without it each prints what it would send and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fsm.cli.command import add, alias
from fsm.cli.options import (
    DEFAULT_STATE_DIR,
    AcceptSpecOpt,
    AdoptOpt,
    BaseUrlOpt,
    Common,
    JsonOpt,
    LiveOpt,
    MachineArg,
    StateDirOpt,
    SubmitOpt,
    YesOpt,
    console,
)

if TYPE_CHECKING:
    from exchange import OkxClient
    from fsm.engine.control import Outcome, Request
    from fsm.engine.machine import LoadedMachine
    from fsm.engine.state import LadderState
    from fsm.persist.store import StateStore

Plan = Callable[["LoadedMachine", "LadderState"], "Request"]
Act = Callable[["LoadedMachine", "StateStore", "LadderState", "OkxClient"], "Outcome"]


@dataclass(frozen=True)
class Arming:
    """Whether a command may send (--submit) and whether the LIVE confirmation is skipped (--yes)."""

    submit: bool = False
    yes: bool = False

    def client(self, common: Common) -> OkxClient:
        """A client armed only with --submit (a live one only after the confirmation)."""
        return common.venue(submit=self.submit, yes=self.yes).client(armed=self.submit)


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
) -> None:
    """One reconcile tick: observe OKX, fire the first passing rows, journal every step."""
    from fsm.cli.render import print_json
    from fsm.cli.render_status import fired_lines, print_state
    from fsm.cli.reports_status import state_document
    from fsm.engine.machine import load_machine
    from fsm.engine.tick import open_machine_state, run_tick
    from fsm.engine.view import ExchangeView

    loaded = load_machine(machine, state_dir=state_dir)
    client = Arming(submit, yes).client(Common(state_dir, base_url, live, as_json))
    with open_machine_state(loaded, allow_spec_change=accept_spec_change) as (store, state):
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


def _show_operator(
    command: str, request: Request, outcome: Outcome | None, state_doc: dict[str, Any] | None, as_json: bool
) -> None:
    """What a submit-capable command sent (or would send) and what the tick after it did."""
    from fsm.cli.render import print_json
    from fsm.cli.render_reads import print_request
    from fsm.cli.render_status import fired_lines, print_state

    tick = outcome.tick if outcome is not None else None
    fired = [f.__dict__ for f in tick.fired] if tick is not None else []
    if as_json:
        print_json(
            {
                "command": command,
                "submitted": outcome is not None,
                "request": request.to_dict(),
                "journaled": (outcome.journaled if outcome else []) + (tick.journaled if tick else []),
                "fired": fired,
                "state": state_doc,
            }
        )
        return
    screen = console()
    print_request(screen, request.to_dict(), sent=outcome is not None)
    fired_lines(screen, fired)
    if state_doc is not None:
        print_state(screen, state_doc)


def _machine_command(
    command: str,
    machine: str,
    common: Common,
    arming: Arming,
    plan: Plan,
    act: Act,
    rung: int | None = None,
) -> None:
    """Without --submit: plan from the state file (no lock, no network). With it: lock, plan, send;
    when a runner holds the lock, queue the request in its spool instead."""
    from fsm.cli.reports_status import state_document
    from fsm.engine.machine import load_machine
    from fsm.engine.tick import open_machine_state, read_state_unlocked
    from fsm.errors import StateLocked

    loaded = load_machine(machine, state_dir=common.state_dir)
    if not arming.submit:
        _show_operator(command, plan(loaded, read_state_unlocked(loaded)[0]), None, None, common.as_json)
        return
    client = arming.client(common)
    try:
        with open_machine_state(loaded) as (store, state):
            request = plan(loaded, state)
            outcome = act(loaded, store, state, client)
            state_doc = state_document(
                loaded.name, state, {"seq": store.cursor.seq, "hash": store.cursor.hash}
            )
    except StateLocked:
        _queue_for_runner(loaded, command, rung, common.as_json)
        return
    _show_operator(command, request, outcome, state_doc, common.as_json)


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
    """pause/resume/flatten: carried out now when no runner holds the state, else queued for it."""
    from fsm.engine import control
    from fsm.engine.machine import load_machine
    from fsm.engine.tick import open_machine_state, run_tick
    from fsm.engine.view import ExchangeView
    from fsm.errors import StateLocked
    from fsm.persist import spool

    loaded = load_machine(machine, state_dir=common.state_dir)
    sends = command == "flatten"
    client = Arming(submit=sends).client(common)
    try:
        with open_machine_state(loaded) as (store, state):
            request = spool.OperatorRequest(id=f"direct{spool.new_id()}", command=command)
            view = ExchangeView(client)
            outcome = control.carry_out(loaded, store, state, view, client if sends else None, request)
            print(f"{command}: {outcome}")
            if sends:
                result = run_tick(loaded, store, state, ExchangeView(client), trader=client)
                for f in result.fired:
                    print(f"{f.source} -> {f.dest}  (row {f.index}: {f.description})")
    except StateLocked:
        _queue_for_runner(loaded, command, None, False)


def _flag_command(name: str, doc: str) -> Callable[..., None]:
    """pause, resume or flatten: one signature, carried out by `_operator_flag`."""

    def command(
        machine: MachineArg,
        state_dir: StateDirOpt = DEFAULT_STATE_DIR,
        base_url: BaseUrlOpt = None,
        live: LiveOpt = False,
    ) -> None:
        _operator_flag(name, machine, Common(state_dir, base_url, live))

    command.__doc__ = doc
    return command


FLAG_COMMANDS = (
    (
        "pause",
        "No new cycles start (working orders are left as they are); works while `run` holds the state.",
    ),
    ("resume", "Undo `pause`: new cycles may start again."),
    (
        "flatten",
        "Cancel every working rung, then exit the machine's own position, from any state (sends orders).",
    ),
)


def submit_entries(
    machine: MachineArg,
    submit: SubmitOpt = False,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Send the rendered entry rungs (one batch-orders request). Without --submit: print it, send nothing."""
    from fsm.engine import control

    _machine_command(
        "submit-entries",
        machine,
        Common(state_dir, base_url, live, as_json),
        Arming(submit, yes),
        plan=control.entries_request,
        act=control.submit_entries,
    )


def cancel(
    machine: MachineArg,
    rung: Annotated[
        int | None,
        typer.Option("--rung", help="only this rung (its level); default every working rung", min=1),
    ] = None,
    submit: SubmitOpt = False,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Cancel working rungs (one cancel-batch-orders request), then observe. Without --submit: print it."""
    from fsm.engine import control

    _machine_command(
        "cancel",
        machine,
        Common(state_dir, base_url, live, as_json),
        Arming(submit, yes),
        plan=lambda m, s: control.cancel_request(m, control.cancel_targets(m, s, rung)),
        act=lambda m, store, s, client: control.cancel_rungs(m, store, s, client, rung),
        rung=rung,
    )


def close(
    machine: MachineArg,
    submit: SubmitOpt = False,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Exit the machine's own position now (reduce-only market order), journaled as an operator request."""
    from fsm.engine import control

    _machine_command(
        "close",
        machine,
        Common(state_dir, base_url, live, as_json),
        Arming(submit, yes),
        plan=control.close_request,
        act=control.close_position,
    )


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
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """One ad-hoc order through place_order, never through a machine. Without --submit: print it."""
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
        ack = adhoc.send(Arming(submit, yes).client(Common(base_url=base_url, live=live)))
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
    for name, doc in FLAG_COMMANDS:
        add(app, _flag_command(name, doc), name)
    add(app, submit_entries, "submit-entries")
    add(app, cancel)
    add(app, close)
    add(app, order)
    alias(app, "okx-order", order)
