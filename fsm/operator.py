"""Operator commands that may send orders: each can say exactly what it would send; only --submit sends.

The machine commands (submit-entries, cancel, close) go through the ladder's own actions and its
tick, so the journal records them like any tick, with an "operator" record for the operator's
request. `order` is the seed's ad-hoc single order, never routed through a machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from exchange import (
    OkxClient,
    OkxInvalidRequest,
    OkxOrderAck,
    build_client_order_id,
    cancel_item,
    close_position_body,
    order_body,
)
from fsm import actions
from fsm.actions import CANCELLABLE_STATES, CLOSE_LEVEL, ActionEnv
from fsm.errors import EXIT_STATE_REFUSED, EXIT_USAGE, EngineError
from fsm.guards import TickContext
from fsm.machine import LoadedMachine
from fsm.model import CloseOrder, LadderState, Rung
from fsm.store import StateStore
from fsm.tick import TickResult, run_tick
from fsm.view import ExchangeView

BATCH_ORDERS = "/api/v5/trade/batch-orders"
CANCEL_BATCH_ORDERS = "/api/v5/trade/cancel-batch-orders"
CLOSE_POSITION = "/api/v5/trade/close-position"
ORDER = "/api/v5/trade/order"


class OperatorRefused(EngineError):
    """The command does not apply to the machine's current state; nothing was sent or written."""

    exit_code = EXIT_STATE_REFUSED


class BadOrder(EngineError):
    """The ad-hoc order's options do not make an order OKX would take; nothing was sent."""

    exit_code = EXIT_USAGE


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


# --- submit-entries ----------------------------------------------------------------------------


def entries_request(machine: LoadedMachine, state: LadderState) -> Request:
    if state.state != "intent_rendered":
        raise OperatorRefused(
            f"{machine.name} is in {state.state}: entries are submitted from intent_rendered only "
            "(`okx-fsm tick` renders the intent when a signal appears)"
        )
    payloads = [r.payload for r in state.rungs if r.state == "rendered"]
    return Request("POST", BATCH_ORDERS, payloads)


def submit_entries(
    machine: LoadedMachine, store: StateStore, state: LadderState, client: OkxClient
) -> Outcome:
    """An armed tick from intent_rendered: the machine's own row sends the batch."""
    entries_request(machine, state)
    return Outcome(tick=run_tick(machine, store, state, ExchangeView(client), trader=client))


# --- cancel ------------------------------------------------------------------------------------


def cancel_targets(machine: LoadedMachine, state: LadderState, rung: int | None) -> list[Rung]:
    working = [r for r in state.rungs if r.state in CANCELLABLE_STATES]
    if rung is not None:
        chosen = [r for r in state.rungs if r.level == rung]
        if not chosen:
            levels = [r.level for r in state.rungs]
            raise OperatorRefused(f"{machine.name} has no rung {rung} (rungs: {levels})")
        working = [r for r in chosen if r.state in CANCELLABLE_STATES]
        if not working:
            raise OperatorRefused(f"rung {rung} is {chosen[0].state}: nothing to cancel")
    if not working:
        raise OperatorRefused(f"{machine.name} is in {state.state} with no working rung: nothing to cancel")
    return working


def cancel_request(machine: LoadedMachine, targets: Sequence[Rung]) -> Request:
    body = [cancel_item(machine.params.symbol, r.ordId, r.clOrdId) for r in targets]
    return Request("POST", CANCEL_BATCH_ORDERS, body)


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

    commit("operator", {"command": "cancel", "rung": rung, "clOrdIds": [r.clOrdId for r in targets]})
    ctx = TickContext(params=machine.params, state=state, view=view, armed=True)
    actions.cancel_rungs(
        ActionEnv(ctx=ctx, order_spec=machine.order_spec, commit=commit, trader=client), targets
    )
    outcome.tick = run_tick(machine, store, state, ExchangeView(client), trader=None)
    return outcome


# --- close -------------------------------------------------------------------------------------


def close_states(machine: LoadedMachine) -> list[str]:
    """The states from which a row guarded by `close_requested` leaves."""
    return sorted({s for row in machine.spec.rows if "close_requested" in row.guards for s in row.sources})


def close_cl_ord_id(machine: LoadedMachine, state: LadderState) -> str:
    """The clOrdId of this cycle's close, if the operator may ask for it now (else OperatorRefused)."""
    allowed = close_states(machine)
    if state.state not in allowed:
        raise OperatorRefused(
            f"{machine.name} is in {state.state}: the operator's close applies in {', '.join(allowed)} "
            "(the states with a close_requested row)"
        )
    req = state.close_request
    if req is not None and req.sent_ts is not None:
        raise OperatorRefused(
            f"the close {req.clOrdId} was already sent (outcome {req.outcome or 'unknown'}); "
            "a close is never sent twice blindly: run `okx-fsm reconcile` to see the position"
        )
    prefix = machine.params.cl_ord_id_prefix
    return build_client_order_id(prefix, state.last_signal_candle_ts or 0, CLOSE_LEVEL, 0)


def close_request(machine: LoadedMachine, cl_ord_id: str) -> Request:
    """The body `OkxClient.close_position` sends."""
    p = machine.params
    return Request("POST", CLOSE_POSITION, close_position_body(p.symbol, p.pos_side, p.td_mode, cl_ord_id))


def close_position(
    machine: LoadedMachine, store: StateStore, state: LadderState, client: OkxClient
) -> Outcome:
    """Journal the operator's close request, then tick armed so the close_requested row sends it."""
    view = ExchangeView(client)
    now = view.now_ms()
    state.close_request = CloseOrder(
        requested_by="operator", requested_ts=now, clOrdId=close_cl_ord_id(machine, state)
    )
    record = {"command": "close", "close": state.close_request.to_dict()}
    store.commit("operator", record, state.to_dict(), ts_ms=now)
    return Outcome(journaled=["operator"], tick=run_tick(machine, store, state, view, trader=client))


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

    def send(self, client: OkxClient) -> OkxOrderAck:
        self.request()  # refuses bad options before any I/O
        return client.place_order(self.symbol, **self._arguments())
