"""Operator commands that may send orders: each can say exactly what it would send; only --submit sends.

The machine commands (submit-entries, cancel, close, flatten) go through the ladder's own actions and
its tick, so the journal records them like any tick, with an "operator" record for the operator's
request. `order` is the seed's ad-hoc single order, never routed through a machine. Requests queued
for a runner are carried out here too (`carry_out`), or superseded by a newer direct command.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exchange import (
    OkxInvalidRequest,
    OkxOrderAck,
    amend_algo_body,
    build_client_order_id,
    cancel_algo_item,
    cancel_item,
    order_body,
)
from exchange.paths import AMEND_ALGOS, CANCEL_ALGOS, ORDER_ALGO
from fsm.engine import actions, ownership
from fsm.engine.actions import CLOSE_LEVEL
from fsm.engine.env import ActionEnv
from fsm.engine.machine import ORDER_MACHINE, REPO_MACHINES, TICK, LoadedMachine, load_order_machine
from fsm.engine.orders import CloseOrder, Rung
from fsm.engine.roles import OrderRoles
from fsm.engine.state import LadderState
from fsm.engine.stop_actions import STOP, STOP_AMEND
from fsm.engine.tick import TickResult, run_tick
from fsm.engine.view import ExchangeView
from fsm.errors import EngineError, ExitStatus
from fsm.persist import spool
from fsm.persist.spool import OperatorRequest
from fsm.persist.store import StateStore
from fsm.risk.entries import order_refusal
from fsm.risk.gate import RiskRefused
from fsm.risk.ledger import current_trading
from fsm.risk.trading import TradingState
from fsm.spec.limits import Limits

BATCH_ORDERS = "/api/v5/trade/batch-orders"
CANCEL_BATCH_ORDERS = "/api/v5/trade/cancel-batch-orders"
ORDER = "/api/v5/trade/order"

if TYPE_CHECKING:
    from exchange import OkxClient


class OperatorRefused(EngineError):
    """The command does not apply to the machine's current state; nothing was sent or written."""

    exit_code = ExitStatus.STATE_REFUSED


class NothingToDo(Exception):
    """The command has nothing to act on in the machine's current state: it says so (not an error),
    and sends and writes nothing."""


class BadOrder(EngineError):
    """The ad-hoc order's options do not make an order OKX would take; nothing was sent."""

    exit_code = ExitStatus.USAGE


@dataclass(frozen=True)
class Request:
    """One POST as it would go on the wire (body as JSON)."""

    method: str
    path: str
    body: Any

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "body": self.body}


@dataclass
class Outcome:
    """What a submitted machine command did: the operator's records, then the tick that followed."""

    journaled: list[str] = field(default_factory=list)
    tick: TickResult | None = None
    said: str | None = None  # the operator record's outcome, when the command journals one
    records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (kind, data) before the tick

    def sent(self, machine: LoadedMachine, state: LadderState) -> list[Request]:
        """The POSTs the command made, read back from their write-ahead records (each journaled just
        before its POST), so what is shown is what was sent, not what the state file suggested."""
        records = self.records + (self.tick.records if self.tick is not None else [])
        sent = []
        symbol = machine.params.symbol
        for kind, data in records:
            what = data.get("what")
            if kind == "cancel" and what == STOP:
                algo_ids = {stop.algoClOrdId: stop.okx.algoId for stop in state.stops}
                items = [cancel_algo_item(symbol, algo_ids.get(cl), cl) for cl in data["algoClOrdIds"]]
                sent.append(Request("POST", CANCEL_ALGOS, items))
            elif kind == "cancel":
                rungs = [r for cl in data["clOrdIds"] if (r := state.rung_by_client_order_id(cl)) is not None]
                sent.append(cancel_request(machine, rungs))
            elif kind == "submit" and what == "entries":
                sent.append(Request("POST", BATCH_ORDERS, data["payloads"]))
            elif kind == "submit" and what == "close":
                close = data["close"]
                sent.append(exit_request(machine, state, Decimal(close["sz"]), close["clOrdId"]))
            elif kind == "submit" and what == STOP:
                sent.append(Request("POST", ORDER_ALGO, data["stop"]["payload"]))
            elif kind == "submit" and what == STOP_AMEND:
                sent.append(Request("POST", AMEND_ALGOS, [_amend_body(symbol, state, data)]))
        return sent


def _amend_body(symbol: str, state: LadderState, data: dict[str, Any]) -> dict[str, Any]:
    """The amend-algos item a stop_amend write-ahead record stands for (as stop_actions sends it)."""
    to, cl = data["to"], data["algoClOrdId"]
    algo_id = next((stop.okx.algoId for stop in state.stops if stop.algoClOrdId == cl), None)
    return amend_algo_body(
        symbol,
        algo_id=algo_id,
        algo_client_order_id=cl,
        new_sz=Decimal(to["sz"]),
        new_sl_trigger_px=Decimal(to["slTriggerPx"]),
        new_tp_trigger_px=None if to["tpTriggerPx"] is None else Decimal(to["tpTriggerPx"]),
    )


SUBMIT_ENTRIES = "submit_entries"  # the action of the row that sends the rendered batch
CANCEL_WORKING_RUNGS = "cancel_working_rungs"  # the action of a row that cancels the working rungs
CLOSE_POSITION = "close_position"  # the action of a row that exits our own size
FLATTEN_REQUESTED = "flatten_requested"  # the guard of the rows that carry out the operator's flatten


# --- submit-entries ----------------------------------------------------------------------------


def entries_request(machine: LoadedMachine, state: LadderState) -> Request:
    """The batch the machine's submit row would send; refused outside the states that have such a row."""
    sending = [name for name in machine.spec.state_names if _has_action(machine, name, SUBMIT_ENTRIES)]
    if state.state not in sending:
        raise OperatorRefused(
            f"{machine.name} is in {state.state}: entries are submitted from {', '.join(sending)} only "
            "(`okx-fsm tick` renders the intent when a signal appears)"
        )
    payloads = [r.payload for r in state.rungs if r.state in machine.orders.unsent]
    return Request("POST", BATCH_ORDERS, payloads)


def _has_action(machine: LoadedMachine, state: str, action: str) -> bool:
    return any(action in row.actions for row in machine.spec.rows_from(state, TICK))


def submit_entries(
    machine: LoadedMachine, store: StateStore, state: LadderState, client: OkxClient
) -> Outcome:
    """An armed tick from the rendered intent: the machine's own row sends the batch."""
    entries_request(machine, state)
    return Outcome(tick=run_tick(machine, store, state, ExchangeView(client), trader=client))


# --- cancel ------------------------------------------------------------------------------------


def cancel_targets(machine: LoadedMachine, state: LadderState, rung: int | None) -> list[Rung]:
    working = [r for r in state.rungs if r.state in machine.orders.cancellable]
    if rung is not None:
        chosen = [r for r in state.rungs if r.level == rung]
        if not chosen:
            levels = [r.level for r in state.rungs]
            raise OperatorRefused(f"{machine.name} has no rung {rung} (rungs: {levels})")
        working = [r for r in chosen if r.state in machine.orders.cancellable]
        if not working:
            raise OperatorRefused(f"rung {rung} is {chosen[0].state}: nothing to cancel")
    if not working:
        raise OperatorRefused(f"{machine.name} is in {state.state} with no working rung: nothing to cancel")
    return working


def cancel_request(machine: LoadedMachine, targets: Sequence[Rung]) -> Request:
    body = [cancel_item(machine.params.symbol, r.ordId, r.clOrdId) for r in targets]
    return Request("POST", CANCEL_BATCH_ORDERS, body)


def cancel_plan(machine: LoadedMachine, state: LadderState, rung: int | None = None) -> Request:
    """The cancel the operator's `cancel [--rung N]` sends (refused when nothing works)."""
    return cancel_request(machine, cancel_targets(machine, state, rung))


def cancel_rungs(
    machine: LoadedMachine, store: StateStore, state: LadderState, client: OkxClient, rung: int | None
) -> Outcome:
    """Journal the operator's cancel, send it with the ladder's cancel action, then observe unarmed."""
    targets = cancel_targets(machine, state, rung)
    view = ExchangeView(client)
    outcome = Outcome()

    def commit(kind: str, data: dict[str, Any]) -> None:
        store.commit(kind, data, state.to_dict(), ts_ms=view.now_ms())
        outcome.journaled.append(kind)
        outcome.records.append((kind, data))

    commit("operator", {"command": "cancel", "rung": rung, "clOrdIds": [r.clOrdId for r in targets]})
    ctx = machine.context(state, view, armed=True)
    actions.cancel_rungs(ActionEnv(ctx=ctx, commit=commit, trader=client), targets)
    outcome.tick = run_tick(machine, store, state, ExchangeView(client), trader=None)
    return outcome


# --- close -------------------------------------------------------------------------------------


def close_states(machine: LoadedMachine) -> list[str]:
    """The states from which a row guarded by `close_requested` leaves."""
    return sorted({s for row in machine.spec.rows if "close_requested" in row.guards for s in row.sources})


def close_client_order_id(machine: LoadedMachine, state: LadderState) -> str:
    """The clOrdId the operator's exit will carry, if it may be asked for now (else OperatorRefused)."""
    allowed = close_states(machine)
    if state.state not in allowed:
        raise OperatorRefused(
            f"{machine.name} is in {state.state}: the operator's close applies in {', '.join(allowed)} "
            "(the states with a close_requested row)"
        )
    req = state.close_request
    if ownership.exit_in_flight(state):
        assert req is not None
        raise OperatorRefused(
            f"the exit {req.clOrdId} was already sent (outcome {req.outcome or 'not known yet'}); "
            "an exit is never sent twice blindly: run `okx-fsm reconcile` to see it end"
        )
    attempt = 0 if req is None else req.attempt + (1 if req.terminal_on_okx else 0)
    prefix = machine.params.client_order_id_prefix
    return build_client_order_id(prefix, state.last_signal_candle_ts or 0, CLOSE_LEVEL, attempt)


def close_request(machine: LoadedMachine, state: LadderState) -> Request:
    """The exit `close_position` sends: a reduce-only market order for what our own fills hold (on
    submit, capped by what OKX still holds on the side)."""
    p = machine.params
    return exit_request(machine, state, state.own_open(p.side), close_client_order_id(machine, state))


def exit_request(machine: LoadedMachine, state: LadderState, sz: Decimal, client_order_id: str) -> Request:
    """The machine's exit as `close_position` sends it: reduce-only market, the other side, this size."""
    p = machine.params
    body = order_body(
        p.symbol,
        side=ownership.exit_side(p),
        ord_type="market",
        sz=sz,
        pos_side=ownership.okx_pos_side(p, state),
        td_mode=p.td_mode,
        client_order_id=client_order_id,
        reduce_only=True if state.pos_mode == ownership.NET_MODE else None,
    )
    return Request("POST", ORDER, body)


def close_position(
    machine: LoadedMachine, store: StateStore, state: LadderState, client: OkxClient
) -> Outcome:
    """Journal the operator's close request, then tick armed so the close_requested row sends it."""
    view = ExchangeView(client)
    now = view.now_ms()
    client_order_id = close_client_order_id(machine, state)
    if state.close_request is None:
        state.close_request = CloseOrder(requested_by="operator", requested_ts=now, clOrdId=client_order_id)
    else:  # the hold-time exit ended short (or never landed): the operator's request takes it over
        state.close_request.requested_by, state.close_request.requested_ts = "operator", now
    record = {"command": "close", "close": state.close_request.to_dict()}
    store.commit("operator", record, state.to_dict(), ts_ms=now)
    return Outcome(journaled=["operator"], tick=run_tick(machine, store, state, view, trader=client))


# --- flatten -----------------------------------------------------------------------------------


def check_cycle_in_flight(machine: LoadedMachine, state: LadderState) -> None:
    """Flatten acts on the cycle in flight; with none (idle, or archived) it has nothing to do."""
    if state.cycle_id is None or state.archived_cycle_id == state.cycle_id:
        raise NothingToDo(
            f"{machine.name} is in {state.state} with no cycle in flight: nothing to flatten "
            "(nothing sent, nothing written; `okx-fsm pause` stops new cycles)"
        )


def flatten_request(machine: LoadedMachine, state: LadderState) -> Request | None:
    """What flatten's armed tick sends now, as the first flatten_requested row from the current state
    says: a cancel of the working rungs, or the exit of our own size; None when it sends nothing now
    (an unsent intent is dropped; cancels already in flight end first, then the exit follows)."""
    check_cycle_in_flight(machine, state)
    row = next((r for r in machine.spec.rows_from(state.state, TICK) if FLATTEN_REQUESTED in r.guards), None)
    if row is None:
        return None
    working = [r for r in state.rungs if r.state in machine.orders.cancellable]
    if CANCEL_WORKING_RUNGS in row.actions and working:
        return cancel_request(machine, working)
    held = state.own_open(machine.params.side) > 0
    if CLOSE_POSITION in row.actions and held and not ownership.exit_in_flight(state):
        return close_request(machine, state)
    return None


def flatten(machine: LoadedMachine, store: StateStore, state: LadderState, client: OkxClient) -> Outcome:
    """Journal the operator's flatten (it pauses the machine too), then tick armed: the flatten rows
    cancel every working rung, then exit our own position."""
    check_cycle_in_flight(machine, state)
    view = ExchangeView(client)
    said = carry_out(
        machine, store, state, view, client, OperatorRequest(f"direct{spool.new_id()}", "flatten")
    )
    tick = run_tick(machine, store, state, view, trader=client)
    return Outcome(journaled=["operator"], tick=tick, said=said)


# --- order -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdHocOrder:
    symbol: str
    side: str
    ord_type: str
    sz: Decimal
    px: Decimal | None
    pos_side: str | None
    td_mode: str

    def _arguments(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "ord_type": self.ord_type,
            "sz": self.sz,
            "px": self.px,
            "pos_side": self.pos_side,
            "td_mode": self.td_mode,
        }

    def request(self) -> Request:
        """The body `OkxClient.place_order` sends for these arguments."""
        try:
            return Request("POST", ORDER, order_body(self.symbol, **self._arguments()))
        except OkxInvalidRequest as exc:
            raise BadOrder(str(exc)) from exc

    def send(self, client: OkxClient, limits: Limits | None, state_dir: Path) -> OkxOrderAck:
        """Send it, after the hard limits (when any) let it pass; RiskRefused and nothing sent if not."""
        body = self.request().body  # refuses bad options before any I/O
        view = ExchangeView(client)
        trading = current_trading(state_dir, limits, view.now_ms())
        if limits is not None or trading.state is not TradingState.ACTIVE:
            roles = OrderRoles.of(load_order_machine(REPO_MACHINES / f"{ORDER_MACHINE}.yaml"))
            refusal = order_refusal(body, limits or Limits(), view, state_dir, roles, trading)
            if refusal is not None:
                raise RiskRefused(f"refused by the hard limits, nothing sent: {refusal}")
        return client.place_order(self.symbol, **self._arguments())


# --- requests carried out by a running runner, or at once -------------------------------------


def carry_out(
    machine: LoadedMachine,
    store: StateStore,
    state: LadderState,
    view: ExchangeView,
    trader: OkxClient | None,
    request: OperatorRequest,
) -> str:
    """Apply one operator request and journal it with its id, once (the id is kept in the state).

    pause/resume/flatten/close change the state the machine's rows read on the tick that follows;
    cancel sends its cancel-batch request now. `trader` is the armed client, or None when the runner is
    read-only: then what would send is refused. Returns what happened, as journaled.
    """
    if request.id in state.operator_done:
        return "already carried out"
    now = view.now_ms()
    try:
        outcome = _apply(machine, state, trader, request, now)
    except OperatorRefused as exc:
        outcome = f"refused: {exc}"
    except NothingToDo as exc:
        outcome = str(exc)
    _remember_done(state, request.id)  # journaled just below
    record = {"command": request.command, "id": request.id, "rung": request.rung, "outcome": outcome}
    store.commit("operator", record, state.to_dict(), ts_ms=now)
    if request.command == "cancel" and trader is not None and not outcome.startswith("refused"):

        def commit(kind: str, data: dict[str, Any]) -> None:
            store.commit(kind, data, state.to_dict(), ts_ms=view.now_ms())

        env = ActionEnv(ctx=machine.context(state, view, armed=True), commit=commit, trader=trader)
        actions.cancel_rungs(env, cancel_targets(machine, state, request.rung))
    return outcome


KEEP_DONE = 100  # ids of carried-out requests the state remembers (requests are removed once journaled)


def _remember_done(state: LadderState, request_id: str) -> None:
    state.operator_done = [*state.operator_done[-(KEEP_DONE - 1) :], request_id]


def supersede_queued(
    machine: LoadedMachine,
    store: StateStore,
    state: LadderState,
    view: ExchangeView,
    by: str,
    since: float,
) -> list[OperatorRequest]:
    """A direct command supersedes the requests queued for a runner before it (`since`, wall time):
    a runner that never took them (it was stopped) must not carry out an older wish after a newer one.
    Each is journaled as superseded (remembered as done), then removed from the spool; returns them."""
    older = [(path, r) for path, r in spool.pending(machine.state_path) if r.queued_at < since]
    if not older:
        return []
    now = view.now_ms()
    events = []
    for _, request in older:
        _remember_done(state, request.id)
        outcome = f"superseded by the direct {by}: never carried out"
        data = {"command": request.command, "id": request.id, "rung": request.rung, "outcome": outcome}
        events.append(("operator", data, now))
    store.commit_many(events, state.to_dict())
    for path, _ in older:
        path.unlink(missing_ok=True)
    return [r for _, r in older]


def _apply(
    machine: LoadedMachine,
    state: LadderState,
    client: OkxClient | None,
    request: OperatorRequest,
    now: int,
) -> str:
    """The request's effect on the state (cancel: only its targets are checked here)."""
    sends = request.command in ("close", "cancel", "flatten")
    if sends and client is None:
        raise OperatorRefused(
            f"{request.command} sends orders and the runner is read-only (run it with --submit)"
        )
    if request.command == "pause":
        state.paused = True
        return "paused: no new cycle starts; working orders are left as they are"
    if request.command == "resume":
        state.paused = False
        return "resumed"
    if request.command == "flatten":
        check_cycle_in_flight(machine, state)
        state.flatten_requested = True
        state.paused = True  # a flattened machine does not enter again on the next candle
        return (
            "flatten requested: the working rungs are cancelled, then our own position is exited; "
            "paused until `okx-fsm resume`"
        )
    if request.command == "close":
        client_order_id = close_client_order_id(machine, state)
        if state.close_request is None:
            state.close_request = CloseOrder(
                requested_by="operator", requested_ts=now, clOrdId=client_order_id
            )
        else:
            state.close_request.requested_by, state.close_request.requested_ts = "operator", now
        return f"close requested: {client_order_id}"
    targets = cancel_targets(machine, state, request.rung)
    return f"cancel sent for {', '.join(r.clOrdId for r in targets)}"
