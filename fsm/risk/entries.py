"""The gate applied to a machine's rendered entries: the request its unsent rungs make, the exposure of
the account this tick, and the verdict a guard and `submit_entries` share."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from fsm.risk.exposure import Held, account_exposure, machine_states
from fsm.risk.gate import GateRequest, Refusal, TradingState, gate, order_line
from fsm.spec.limits import Limits

if TYPE_CHECKING:
    from fsm.engine.context import TickContext


@dataclass(frozen=True)
class RiskSetup:
    """What a machine's gate judges with besides the tick: its limits, where every machine's state
    lives, and the account's trading state (ACTIVE until the account journal sets another)."""

    limits: Limits
    state_path: Path  # this machine's state file; its folder holds every machine's
    trading: TradingState = TradingState.ACTIVE


def entries_refusal(ctx: TickContext, risk: RiskSetup) -> Refusal | None:
    """None when the machine's unsent rungs may go out as one batch, else why not."""
    p, s, roles = ctx.params, ctx.state, ctx.orders
    to_send = [r for r in s.rungs if r.state in roles.unsent]
    if not to_send:
        return None
    instrument = ctx.view.instrument(p.symbol)
    ids = ", ".join(r.clOrdId for r in to_send)
    request = GateRequest(
        name=f"{ctx.ladder.name} entries {ids}",
        orders=tuple(order_line(r.payload, instrument) for r in to_send),
        leverage=_leverage(ctx) if risk.limits.max_leverage is not None else None,
    )
    sent = sum(
        (
            (r.sz if roles.tracked(r.state) else r.accFillSz) * instrument.ctVal * r.px
            for r in s.rungs
            if r not in to_send
        ),
        Decimal(0),
    )
    held = machine_states(risk.state_path.parent, risk.state_path, Held(p.symbol, s))
    exposure = account_exposure(held, roles, ctx.view, sent)
    return gate(request, exposure, risk.limits, risk.trading)


def _leverage(ctx: TickContext) -> Decimal | None:
    """The leverage the entries go out at: the YAML's (set before the send), else OKX's current."""
    p = ctx.params
    if p.leverage is not None:
        return p.leverage
    return max((row.lever for row in ctx.view.leverage(p.symbol, p.td_mode)), default=None)
