"""What a cycle bought and sold and what it made, from its own journaled fills (never a fresh query)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fsm.engine.orders import Fill, dec
from fsm.engine.state import LadderState

ZERO = Decimal("0")


@dataclass(frozen=True)
class CycleSummary:
    """Entries are the fills on the machine's side, exits the rest; realized PnL is net of all fees
    (for a short ladder, what its exits bought back below the entries' average is the gain)."""

    bought: Decimal  # contracts entered (sold short, on a sell ladder): the key is kept for the JSON
    sold: Decimal  # contracts exited (bought back, on a sell ladder)
    avg_entry: Decimal | None
    avg_exit: Decimal | None
    fees: Decimal
    fee_ccy: str | None
    realized_pnl: Decimal | None  # None until the contract value is known

    def to_dict(self) -> dict[str, Any]:
        def opt(value: Decimal | None) -> str | None:
            return None if value is None else dec(value)

        return {
            "bought": dec(self.bought),
            "sold": dec(self.sold),
            "avg_entry": opt(self.avg_entry),
            "avg_exit": opt(self.avg_exit),
            "fees": dec(self.fees),
            "fee_ccy": self.fee_ccy,
            "realized_pnl": opt(self.realized_pnl),
        }


def _average(fills: list[Fill]) -> tuple[Decimal, Decimal | None]:
    size = sum((f.fillSz for f in fills), ZERO)
    value = sum((f.fillPx * f.fillSz for f in fills), ZERO)
    return size, (value / size if size else None)


def cycle_summary(state: LadderState, entry_side: str) -> CycleSummary:
    """The cycle's entries, exits, fees and realized PnL (the exited part, in the settle currency)."""
    return fills_summary(state.fills, state.ct_val, entry_side)


def fills_summary(fills: Sequence[Fill], ct_val: Decimal | None, entry_side: str) -> CycleSummary:
    """What `fills` (one cycle's own) entered, exited, paid and made; realized is None without ct_val.
    The report reads archived cycles through this, so a live cycle and a journaled one add up alike."""
    entries = [f for f in fills if f.side == entry_side]
    exits = [f for f in fills if f.side != entry_side]
    bought, avg_entry = _average(entries)
    sold, avg_exit = _average(exits)
    fees = sum((f.fee for f in fills), ZERO)
    realized: Decimal | None = None
    if ct_val is not None:
        direction = 1 if entry_side == "buy" else -1
        gross = ZERO
        if avg_entry is not None and avg_exit is not None:
            gross = (avg_exit - avg_entry) * sold * ct_val * direction
        realized = gross + fees
    fee_ccy = next((f.feeCcy for f in fills), None)
    return CycleSummary(bought, sold, avg_entry, avg_exit, fees, fee_ccy, realized)


# Why our own exit order was sent (CloseOrder.requested_by) -> the cycle's exit reason.
_EXIT_REASONS = {"exit": "timed", "operator": "operator", "flatten": "operator", "stop": "stop"}


def exit_reason(state: LadderState, entry_side: str) -> str | None:
    """How the cycle's position ended, from the evidence of its exit fills: a fired stop's child order
    (stop, or take_profit when its tp leg fired), our own exit (timed, operator, or stop when the stop
    could not be placed), or nothing of ours (hand: closed outside the machine). The reason that closed
    the most contracts wins; None when nothing was entered."""
    entered, exited = state.bought_and_sold(entry_side)
    if entered == 0:
        return None
    fired = {child: stop for stop in state.stops for child in stop.okx.ordIdList}
    req = state.close_request
    closed: dict[str, Decimal] = {}
    for f in state.fills:
        if f.side == entry_side:
            continue
        stop = fired.get(f.ordId)
        if stop is not None:
            reason = "take_profit" if stop.okx.actualSide == "tp" else "stop"
        else:
            reason = _EXIT_REASONS.get(req.requested_by, "timed") if req is not None else "hand"
        closed[reason] = closed.get(reason, ZERO) + f.fillSz
    if entered > exited:
        closed["hand"] = closed.get("hand", ZERO) + entered - exited
    return max(closed, key=lambda reason: closed[reason])


def realized_by_fill(fills: list[Fill], entry_side: str, ct_val: Decimal) -> list[tuple[int, Decimal]]:
    """(fillTime, realized PnL) per fill of one cycle, in exchange-time order: an exit fill realizes
    its size against the average entry so far (net of its fee), an entry fill only its fee; the sum is
    `cycle_summary`'s realized_pnl once the cycle is exited whole."""
    direction = 1 if entry_side == "buy" else -1
    held, cost = ZERO, ZERO  # contracts held and what they cost (size x price)
    out: list[tuple[int, Decimal]] = []
    for f in sorted(fills, key=lambda f: (f.fillTime, int(f.billId) if f.billId.isdigit() else 0)):
        gain = ZERO
        if f.side == entry_side:
            held, cost = held + f.fillSz, cost + f.fillSz * f.fillPx
        elif held > 0:
            avg = cost / held
            closed = min(f.fillSz, held)
            gain = (f.fillPx - avg) * closed * ct_val * direction
            held, cost = held - closed, cost - avg * closed
        out.append((f.fillTime, gain + f.fee))
    return out
