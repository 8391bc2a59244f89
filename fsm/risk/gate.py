"""The risk gate (NautilusTrader's RiskEngine, in small): a pure function of (request, exposure,
limits, trading state) that passes a request or refuses it naming the limit, the value and the request.

One small check per rule. A request that only reduces (cancels, reduce-only exits, stops, flatten)
always passes, in every trading state: a gate that denies the order that closes the risk makes the risk
(NautilusTrader #4761). A batch passes whole or is refused whole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from exchange import Instrument
from fsm.errors import EngineError, ExitStatus
from fsm.risk.trading import Trading, TradingState
from fsm.spec.limits import Limits

RISK_RECORD = "risk"  # the journal kind (and notification) of a refusal
TRADING_RULE = "trading state"  # the rule a refusal by the account's trading state names
RequestKind = Literal["place", "cancel", "stop", "flatten"]
REDUCING_KINDS = ("cancel", "stop", "flatten")
CLOSING_SIDE = {"long": "sell", "short": "buy"}  # long/short mode: the side that closes each posSide


class RiskRefused(EngineError):
    """The hard limits refuse what was about to be sent; nothing was sent."""

    exit_code = ExitStatus.STATE_REFUSED


@dataclass(frozen=True)
class OrderLine:
    """One order of a request, as the quote notional it adds (contracts x ctVal x price)."""

    inst_id: str
    notional: Decimal  # 0 for a reducing order: it adds nothing and is never valued
    reduce_only: bool = False


@dataclass(frozen=True)
class GateRequest:
    """One POST (or one batch) that a machine or the operator is about to send."""

    name: str  # what is asked, for the refusal: "eth_robust_twap_15m entries ertw..." or "order ..."
    kind: RequestKind = "place"
    orders: tuple[OrderLine, ...] = ()
    leverage: Decimal | None = None  # the leverage the orders are placed at, when known

    @property
    def reduces_only(self) -> bool:
        """Nothing in it can add exposure."""
        return self.kind in REDUCING_KINDS or all(o.reduce_only for o in self.orders)

    def adds(self) -> dict[str, Decimal]:
        """The notional it adds, per instrument."""
        out: dict[str, Decimal] = {}
        for o in self.orders:
            if not o.reduce_only:
                out[o.inst_id] = out.get(o.inst_id, Decimal(0)) + o.notional
        return out


@dataclass(frozen=True)
class Exposure:
    """What the account holds and works, in quote notional, before the request: own positions and
    working entry orders per instrument, and what the requesting machine's cycle already sent."""

    open_by_instrument: Mapping[str, Decimal] = field(default_factory=dict)
    cycle_notional: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        return sum(self.open_by_instrument.values(), Decimal(0))


@dataclass(frozen=True)
class Refusal:
    """Why the gate refused: which limit, its value, what the request would make it, and the request.
    A refusal by the trading state names the state (its `value`) and what set it, with that limit's
    own numbers (`set_by`, e.g. "max_daily_loss 200: realized -213.4 on 2026-12-07 (UTC)")."""

    rule: str
    limit: Decimal | str
    value: Decimal | str
    request: str
    set_by: str = ""

    def __str__(self) -> str:
        if self.rule == TRADING_RULE:
            return ": ".join(part for part in (str(self.value), self.set_by, self.request) if part)
        return f"{self.rule} {self.limit}: {self.request} would make it {self.value}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "limit": str(self.limit),
            "value": str(self.value),
            "request": self.request,
            "set_by": self.set_by,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Refusal:
        """A `risk` record's refusal (one journaled before `set_by` was recorded has none)."""
        return cls(raw["rule"], raw["limit"], raw["value"], raw["request"], str(raw.get("set_by", "")))


Check = Callable[[GateRequest, Exposure, Limits, Trading], Refusal | None]


def _q(value: Decimal) -> Decimal:
    """A notional as shown: quantized to 0.01 quote for reading, never for comparing."""
    return value.quantize(Decimal("0.01"))


def trading_state(
    request: GateRequest, exposure: Exposure, limits: Limits, trading: Trading
) -> Refusal | None:
    """Only an ACTIVE account adds exposure; the refusal names what set the state, with its numbers."""
    if trading.state is TradingState.ACTIVE:
        return None
    return trading_refusal(trading, request.name)


def trading_refusal(trading: Trading, request: str) -> Refusal:
    """The refusal (or the withdrawal) the account's trading state makes of `request`."""
    return Refusal(TRADING_RULE, TradingState.ACTIVE.value, trading.state.value, request, trading.set_by)


def max_order_notional(
    request: GateRequest, exposure: Exposure, limits: Limits, trading: Trading
) -> Refusal | None:
    """No one order above the ceiling."""
    if limits.max_order_notional is None:
        return None
    for o in request.orders:
        if not o.reduce_only and o.notional > limits.max_order_notional:
            return Refusal("max_order_notional", limits.max_order_notional, _q(o.notional), request.name)
    return None


def max_open_notional(
    request: GateRequest, exposure: Exposure, limits: Limits, trading: Trading
) -> Refusal | None:
    """Positions and working entries, after the request, per instrument and in total."""
    ceiling = limits.max_open_notional
    if ceiling is None:
        return None
    adds = request.adds()
    for inst_id, added in sorted(adds.items()):
        after = exposure.open_by_instrument.get(inst_id, Decimal(0)) + added
        if after > ceiling:
            return Refusal(f"max_open_notional ({inst_id})", ceiling, _q(after), request.name)
    total = exposure.total + sum(adds.values(), Decimal(0))
    if total > ceiling:
        return Refusal("max_open_notional (total)", ceiling, _q(total), request.name)
    return None


def max_leverage(
    request: GateRequest, exposure: Exposure, limits: Limits, trading: Trading
) -> Refusal | None:
    """No entry at a leverage above the ceiling."""
    if limits.max_leverage is None or request.leverage is None or request.leverage <= limits.max_leverage:
        return None
    return Refusal("max_leverage", limits.max_leverage, request.leverage, request.name)


def max_cycle_notional(
    request: GateRequest, exposure: Exposure, limits: Limits, trading: Trading
) -> Refusal | None:
    """What one machine's cycle sends to enter, the request included."""
    if limits.max_cycle_notional is None:
        return None
    after = exposure.cycle_notional + sum(request.adds().values(), Decimal(0))
    if after > limits.max_cycle_notional:
        return Refusal("max_cycle_notional", limits.max_cycle_notional, _q(after), request.name)
    return None


CHECKS: tuple[Check, ...] = (
    trading_state,
    max_order_notional,
    max_leverage,
    max_cycle_notional,
    max_open_notional,
)


def gate(request: GateRequest, exposure: Exposure, limits: Limits, trading: Trading) -> Refusal | None:
    """None when the request may go out whole, else the first rule it breaks."""
    if request.reduces_only:
        return None
    for check in CHECKS:
        refusal = check(request, exposure, limits, trading)
        if refusal is not None:
            return refusal
    return None


def order_notional(payload: Mapping[str, Any], instrument: Instrument, market_px: Decimal | None) -> Decimal:
    """A rendered order's quote notional: sz x ctVal x px (a market order at the last/mark price)."""
    px = payload.get("px")
    price = Decimal(str(px)) if px not in (None, "") else market_px
    if price is None:  # nothing to judge it by: refused, never sent unjudged
        raise RiskRefused(f"no price to value the {payload.get('ordType')} order at: nothing sent")
    return Decimal(str(payload["sz"])) * instrument.ctVal * price


def order_line(
    payload: Mapping[str, Any], instrument: Instrument, market_px: Decimal | None = None
) -> OrderLine:
    """One rendered payload as the gate sees it: reduce-only when it says so, or when it closes its
    side in long/short mode (a sell of posSide long, a buy of posSide short). A reducing order passes
    whatever its size, so it is never valued: a stop (no price, it executes at market) is never refused
    for want of one."""
    closes = CLOSING_SIDE.get(str(payload.get("posSide", ""))) == payload.get("side")
    inst_id = str(payload["instId"])
    if closes or str(payload.get("reduceOnly", "")).lower() == "true":
        return OrderLine(inst_id, Decimal(0), reduce_only=True)
    return OrderLine(inst_id, order_notional(payload, instrument, market_px))
