"""The account's exposure for the gate: what every machine's state file says it holds and works, and
what OKX shows this tick (positions, pending orders), never only what the machines believe.

Per instrument, a position counts at the larger of OKX's and the machines' own sizes (a fill OKX has
not shown yet, or a hand trade the machines do not know); working orders count OKX's pending entries
plus the machines' working rungs OKX does not list (a place whose answer is still in flight).
State files are read unlocked, like `status` does: a runner may hold them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from exchange import OkxOrder, Position
from fsm.engine.roles import OrderRoles
from fsm.engine.state import LadderState
from fsm.engine.view import ExchangeView
from fsm.persist.statefile import read_state_file
from fsm.persist.store import StateStore
from fsm.risk.gate import CLOSING_SIDE, Exposure
from fsm.service.heartbeat import HEARTBEAT_SUFFIX

ZERO = Decimal(0)


@dataclass(frozen=True)
class Held:
    """One machine's state as the exposure reads it."""

    symbol: str
    state: LadderState


ACCOUNT_FILE = "account.json"  # the account journal's state file (fsm.risk.ledger): no machine's


def saved_machines(state_dir: Path, skip: Path | None = None) -> list[tuple[Path, Held]]:
    """Every machine's saved state file in `state_dir` and its state, but `skip` (a machine that
    brings its own from memory, fresher than its file)."""
    from fsm.engine.tick import typed_state  # the tick's own typing of a snapshot (here: no import cycle)

    out: list[tuple[Path, Held]] = []
    for path in sorted(state_dir.glob("*.json")):
        if path == skip or path.name.endswith(HEARTBEAT_SUFFIX) or path.name == ACCOUNT_FILE:
            continue
        saved = read_state_file(path)  # a state file that cannot be read is refused: exposure unknown
        if saved is not None:
            store = StateStore(path, saved.identity, allow_spec_change=True)
            out.append((path, Held(saved.identity.symbol, typed_state(store, saved.snapshot))))
    return out


def machine_states(state_dir: Path, skip: Path | None = None) -> list[Held]:
    """Every machine's saved state in `state_dir`, but `skip`."""
    return [held for _, held in saved_machines(state_dir, skip)]


def _entry_side(state: LadderState) -> str | None:
    return next((r.payload.get("side") for r in state.rungs if r.payload.get("side")), None)


def _own_position(held: Held) -> Decimal:
    """The machine's own open contracts x ctVal x its average entry price."""
    s, side = held.state, _entry_side(held.state)
    if side is None or s.ct_val is None:
        return ZERO
    entries = [f for f in s.fills if f.side == side]
    size = sum((f.fillSz for f in entries), ZERO)
    if size == 0:
        return ZERO
    avg = sum((f.fillPx * f.fillSz for f in entries), ZERO) / size
    return s.own_open(side) * s.ct_val * avg


def _working_rungs(held: Held, roles: OrderRoles, on_okx: set[str]) -> Decimal:
    """Sent rungs not ended that OKX does not list as pending: they may still rest."""
    s = held.state
    if s.ct_val is None:
        return ZERO
    return sum(
        (
            (r.sz - r.accFillSz) * s.ct_val * r.px
            for r in s.rungs
            if roles.tracked(r.state) and r.clOrdId not in on_okx
        ),
        ZERO,
    )


def _okx_position(position: Position, ct_val: Decimal) -> Decimal:
    price = position.markPx or position.avgPx or ZERO
    return abs(position.pos) * ct_val * price


def _adds(order: OkxOrder) -> bool:
    return not order.reduceOnly and CLOSING_SIDE.get(order.posSide or "") != order.side


def account_exposure(held: Iterable[Held], roles: OrderRoles, view: ExchangeView, cycle: Decimal) -> Exposure:
    """Exposure per instrument from the machines' states and OKX's positions and pending orders read
    this tick; `cycle` is what the requesting machine's cycle already sent."""
    held = list(held)
    pending = view.venue_pending_all()
    on_okx = {o.clOrdId for o in pending if o.clOrdId}
    symbols = {h.symbol for h in held} | {o.instId for o in pending} | {p.instId for p in view.positions()}
    out: dict[str, Decimal] = {}
    for symbol in sorted(symbols):
        ct_val = view.instrument(symbol).ctVal
        okx_pos = sum((_okx_position(p, ct_val) for p in view.positions() if p.instId == symbol), ZERO)
        own_pos = sum((_own_position(h) for h in held if h.symbol == symbol), ZERO)
        okx_orders = sum(
            (
                (o.sz - o.accFillSz) * ct_val * (o.px or ZERO)
                for o in pending
                if o.instId == symbol and _adds(o)
            ),
            ZERO,
        )
        unlisted = sum((_working_rungs(h, roles, on_okx) for h in held if h.symbol == symbol), ZERO)
        total = max(okx_pos, own_pos) + okx_orders + unlisted
        if total:
            out[symbol] = total
    return Exposure(open_by_instrument=out, cycle_notional=cycle)
