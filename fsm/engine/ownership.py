"""What this machine owns on a shared instrument: the net of its own fills, never OKX's whole position.

Several machines and the trader's own hand trades can hold the same instrument and side. A machine's
position is what its own fills (entries and exits, by clOrdId) net to; OKX's position is only evidence:
less than ours means someone closed part of it by hand (the exit shrinks, never sells into a short),
more than ours is someone else's and is never touched. Pure functions of (params, state, view).
"""

from __future__ import annotations

from decimal import Decimal

from fsm.engine.state import LadderState
from fsm.engine.view import ExchangeView
from fsm.spec.ladder import LadderParams

NET_MODE = "net_mode"
ZERO = Decimal("0")


def okx_pos_side(params: LadderParams, state: LadderState) -> str:
    """The posSide orders and positions carry on OKX: `net` in net mode, the YAML's long/short else."""
    return "net" if state.pos_mode == NET_MODE else params.pos_side


def exit_side(params: LadderParams) -> str:
    return "sell" if params.side == "buy" else "buy"


def okx_held(params: LadderParams, state: LadderState, view: ExchangeView) -> Decimal:
    """Contracts OKX's position holds in the machine's direction on its side (never below zero)."""
    pos = view.position(params.symbol, okx_pos_side(params, state))
    if pos is None:
        return ZERO
    if state.pos_mode != NET_MODE:
        return max(pos.pos, ZERO)
    signed = pos.pos if params.side == "buy" else -pos.pos
    return max(signed, ZERO)


def filled_by(state: LadderState, client_order_id: str) -> Decimal:
    """What the journaled fills of one of our orders add up to."""
    return sum((f.fillSz for f in state.fills if f.clOrdId == client_order_id), ZERO)


def filled_by_order(state: LadderState, ord_id: str) -> Decimal:
    """What the journaled fills of one order, by ordId, add up to (a stop's child has no clOrdId of ours)."""
    return sum((f.fillSz for f in state.fills if f.ordId == ord_id), ZERO)


def fills_accounted(state: LadderState) -> bool:
    """Every contract OKX says our orders filled (accFillSz) has its fill journaled: entries, the exit and
    the orders our stops placed when they fired."""
    if any(filled_by(state, r.clOrdId) < r.accFillSz for r in state.rungs):
        return False
    children = [child for stop in state.stops for child in stop.children if child.ordId]
    if any(filled_by_order(state, str(child.ordId)) < child.accFillSz for child in children):
        return False
    req = state.close_request
    return req is None or filled_by(state, req.clOrdId) >= req.okx.accFillSz


def exit_in_flight(state: LadderState) -> bool:
    """An exit order was sent and OKX has not shown it ended with its fills journaled yet."""
    req = state.close_request
    if req is None or req.sent_ts is None:
        return False
    return not req.terminal_on_okx or filled_by(state, req.clOrdId) < req.okx.accFillSz


def exit_size(params: LadderParams, state: LadderState, view: ExchangeView) -> Decimal:
    """What the exit may sell: our own open contracts, capped by what OKX still holds on the side."""
    return min(state.own_open(params.side), okx_held(params, state, view))
