"""The gate applied to what the engine sends: a machine's rendered entries (the verdict a guard and
`submit_entries` share) and the operator's ad-hoc order, each against the account's exposure this tick."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exchange import Instrument
from fsm.engine.ladder import render_ladder
from fsm.risk.exposure import Held, account_exposure, machine_states
from fsm.risk.gate import Exposure, GateRequest, Refusal, gate, order_line
from fsm.risk.trading import ACTIVE, Trading, TradingState
from fsm.spec.ladder import LadderParams
from fsm.spec.limits import Limits

if TYPE_CHECKING:
    from fsm.engine.context import TickContext
    from fsm.engine.roles import OrderRoles
    from fsm.engine.view import ExchangeView

LAST_PRICE_BAR = "1m"  # a market order is valued at the close of the newest 1m candle (the last price)


@dataclass(frozen=True)
class RiskSetup:
    """What a machine's gate judges with besides the tick: its limits, where every machine's state
    lives, and the account's trading state this tick (fsm.risk.ledger)."""

    limits: Limits
    state_path: Path  # this machine's state file; its folder holds every machine's
    trading: Trading = ACTIVE


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
        leverage=_leverage(ctx.view, p.symbol, p.td_mode, p.leverage) if risk.limits.max_leverage else None,
    )
    sent = sum(
        (
            (r.sz if roles.tracked(r.state) else r.accFillSz) * instrument.ctVal * r.px
            for r in s.rungs
            if r not in to_send
        ),
        Decimal(0),
    )
    if risk.trading.state is not TradingState.ACTIVE:  # refused whatever the exposure: none is read
        return gate(request, Exposure(cycle_notional=sent), risk.limits, risk.trading)
    held = [Held(p.symbol, s), *machine_states(risk.state_path.parent, skip=risk.state_path)]
    exposure = account_exposure(held, roles, ctx.view, sent)
    return gate(request, exposure, risk.limits, risk.trading)


def order_refusal(
    body: Mapping[str, Any],
    limits: Limits,
    view: ExchangeView,
    state_dir: Path,
    roles: OrderRoles,
    trading: Trading = ACTIVE,
) -> Refusal | None:
    """None when the ad-hoc order may go out, else why not (no machine's cycle: max_cycle_notional
    does not apply)."""
    inst_id = str(body["instId"])
    instrument = view.instrument(inst_id)
    last = None if body.get("px") else last_price(view, inst_id)
    request = GateRequest(
        name=f"order {body['side']} {body['sz']} {inst_id} {body['ordType']}",
        orders=(order_line(body, instrument, last),),
        leverage=_leverage(view, inst_id, str(body["tdMode"]), None) if limits.max_leverage else None,
    )
    if request.reduces_only:
        return None  # no exposure to read for what only reduces
    if trading.state is not TradingState.ACTIVE:  # refused whatever the exposure: none is read
        return gate(request, Exposure(), limits, trading)
    exposure = account_exposure(machine_states(state_dir), roles, view, Decimal(0))
    return gate(request, exposure, replace(limits, max_cycle_notional=None), trading)


def last_price(view: ExchangeView, inst_id: str) -> Decimal | None:
    """The last traded price: the close of the newest 1m candle (None when OKX gives none)."""
    candles = view.candles(inst_id, LAST_PRICE_BAR, 1)
    return candles[-1].c if candles else None


def _leverage(view: ExchangeView, symbol: str, td_mode: str, declared: Decimal | None) -> Decimal | None:
    """The leverage orders go out at: the YAML's (set before the send), else OKX's current."""
    if declared is not None:
        return declared
    return max((row.lever for row in view.leverage(symbol, td_mode)), default=None)


@dataclass(frozen=True)
class SizingVerdict:
    """Whether a machine's shipped sizing can pass its limits at a price: each rung's arithmetic and
    the refusal an empty account would still give (None: it can pass)."""

    rungs: tuple[str, ...]  # "sz x ctVal x px = notional" per rung
    refusal: Refusal | None


def shipped_sizing(
    params: LadderParams, limits: Limits, instrument: Instrument, last_px: Decimal
) -> SizingVerdict:
    """The ladder rendered at `last_px` as its reference, judged by the gate on an empty account: a
    refusal here means the machine can never send its entries."""
    payloads = render_ladder(last_px, params, instrument, 0, 0, pos_side=params.pos_side)
    lines = tuple(order_line(pl, instrument) for pl in payloads)
    shown = tuple(
        f"{pl['sz']} x {instrument.ctVal} x {pl['px']} = {line.notional.quantize(Decimal('0.01'))}"
        for pl, line in zip(payloads, lines, strict=True)
    )
    request = GateRequest(name=f"{params.strategy_id} entries at reference {last_px}", orders=lines)
    return SizingVerdict(shown, gate(request, Exposure(), limits, ACTIVE))
