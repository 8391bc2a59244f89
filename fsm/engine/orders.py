"""Our orders and fills as the state holds them: each entry rung, the exit and the protective stop, with
what OKX last showed of them (OKX's field names), the fills they own, and the position beside them.

Money is Decimal in memory and a plain decimal string (no exponent) on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from exchange.records.orders import OKX_ENDED_STATES


def dec(value: Decimal) -> str:
    """A Decimal as OKX writes it: no exponent."""
    return format(value, "f")


def opt_dec(value: Decimal | None) -> str | None:
    return None if value is None else dec(value)


def to_opt_dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass
class OkxMirror:
    """What OKX last showed for one order (OKX field names)."""

    ordId: str | None = None
    state: str | None = None
    accFillSz: Decimal = Decimal("0")
    avgPx: Decimal | None = None
    fillSz: Decimal | None = None
    tradeId: str | None = None
    cancelSource: str | None = None
    uTime: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ordId": self.ordId,
            "state": self.state,
            "accFillSz": dec(self.accFillSz),
            "avgPx": opt_dec(self.avgPx),
            "fillSz": opt_dec(self.fillSz),
            "tradeId": self.tradeId,
            "cancelSource": self.cancelSource,
            "uTime": self.uTime,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OkxMirror:
        return cls(
            ordId=d.get("ordId"),
            state=d.get("state"),
            accFillSz=Decimal(d.get("accFillSz", "0")),
            avgPx=to_opt_dec(d.get("avgPx")),
            fillSz=to_opt_dec(d.get("fillSz")),
            tradeId=d.get("tradeId"),
            cancelSource=d.get("cancelSource"),
            uTime=d.get("uTime"),
        )


@dataclass
class Rung:
    """One entry order of the ladder: the bot's plan and order-machine state, plus the OKX mirror."""

    level: int
    clOrdId: str
    px: Decimal
    sz: Decimal
    state: str  # order-machine state (machines/okx_order.yaml)
    attempt: int = 0
    payload: dict[str, str] = field(default_factory=dict)
    submit_ts: int | None = None
    exp_time_ms: int | None = None  # the expTime deadline of the last place request (exchange ms)
    cancel_sent_ts: int | None = None
    reject: dict[str, str] | None = None  # {"sCode", "sMsg"} of an explicit rejection
    last_anomaly: str | None = None  # the last anomaly journaled for this rung (journaled once)
    stray: bool = False  # OKX shows the order working although the rung holds it as ended
    okx: OkxMirror = field(default_factory=OkxMirror)

    @property
    def identity(self) -> dict[str, str]:
        """How journal records name this rung."""
        return {"clOrdId": self.clOrdId}

    @property
    def ordId(self) -> str | None:
        return self.okx.ordId

    @property
    def accFillSz(self) -> Decimal:
        return self.okx.accFillSz

    @property
    def avgPx(self) -> Decimal | None:
        return self.okx.avgPx

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "clOrdId": self.clOrdId,
            "px": dec(self.px),
            "sz": dec(self.sz),
            "state": self.state,
            "attempt": self.attempt,
            "payload": dict(self.payload),
            "submit_ts": self.submit_ts,
            "exp_time_ms": self.exp_time_ms,
            "cancel_sent_ts": self.cancel_sent_ts,
            "reject": None if self.reject is None else dict(self.reject),
            "last_anomaly": self.last_anomaly,
            "stray": self.stray,
            "okx": self.okx.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Rung:
        return cls(
            level=int(d["level"]),
            clOrdId=str(d["clOrdId"]),
            px=Decimal(d["px"]),
            sz=Decimal(d["sz"]),
            state=str(d["state"]),
            attempt=int(d.get("attempt", 0)),
            payload={str(k): str(v) for k, v in d.get("payload", {}).items()},
            submit_ts=d.get("submit_ts"),
            exp_time_ms=d.get("exp_time_ms"),
            cancel_sent_ts=d.get("cancel_sent_ts"),
            reject=None if d.get("reject") is None else {str(k): str(v) for k, v in d["reject"].items()},
            last_anomaly=d.get("last_anomaly"),
            stray=bool(d.get("stray", False)),
            okx=OkxMirror.from_dict(d.get("okx", {})),
        )


@dataclass(frozen=True)
class Fill:
    """One OKX fill of one of our rungs (OKX field names; deduplicated by tradeId)."""

    tradeId: str
    billId: str
    ordId: str
    clOrdId: str | None
    fillPx: Decimal
    fillSz: Decimal
    fee: Decimal
    feeCcy: str
    fillTime: int
    side: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "tradeId": self.tradeId,
            "billId": self.billId,
            "ordId": self.ordId,
            "clOrdId": self.clOrdId,
            "fillPx": dec(self.fillPx),
            "fillSz": dec(self.fillSz),
            "fee": dec(self.fee),
            "feeCcy": self.feeCcy,
            "fillTime": self.fillTime,
            "side": self.side,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Fill:
        return cls(
            tradeId=str(d["tradeId"]),
            billId=str(d["billId"]),
            ordId=str(d["ordId"]),
            clOrdId=d.get("clOrdId"),
            fillPx=Decimal(d["fillPx"]),
            fillSz=Decimal(d["fillSz"]),
            fee=Decimal(d["fee"]),
            feeCcy=str(d["feeCcy"]),
            fillTime=int(d["fillTime"]),
            side=str(d["side"]),
        )


@dataclass
class PositionMirror:
    """The OKX position of the machine's symbol and posSide, as last observed."""

    instId: str
    posSide: str
    pos: Decimal
    avgPx: Decimal | None
    upl: Decimal | None
    uTime: int | None
    observed_ts: int  # exchange time of the observation (bot-owned)

    def to_dict(self) -> dict[str, Any]:
        return {
            "instId": self.instId,
            "posSide": self.posSide,
            "pos": dec(self.pos),
            "avgPx": opt_dec(self.avgPx),
            "upl": opt_dec(self.upl),
            "uTime": self.uTime,
            "observed_ts": self.observed_ts,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PositionMirror:
        return cls(
            instId=str(d["instId"]),
            posSide=str(d["posSide"]),
            pos=Decimal(d["pos"]),
            avgPx=to_opt_dec(d.get("avgPx")),
            upl=to_opt_dec(d.get("upl")),
            uTime=d.get("uTime"),
            observed_ts=int(d["observed_ts"]),
        )


@dataclass
class CloseOrder:
    """The cycle's exit: a reduce-only market order for what this machine's own fills hold.

    Bot-owned: who asked and when, the attempt (each attempt has its own deterministic clOrdId), the
    size and deadline sent. Mirrored: `okx`, what OKX last showed of the attempt's order.
    """

    requested_by: str  # "exit" (hold time up), "operator" (close), "flatten" or "stop" (it cannot protect)
    requested_ts: int
    clOrdId: str
    sent_ts: int | None = None
    outcome: str | None = None  # "accepted", "rejected:<code>", "ambiguous"
    attempt: int = 0
    sz: Decimal | None = None
    exp_time_ms: int | None = None
    okx: OkxMirror = field(default_factory=OkxMirror)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requested_by": self.requested_by,
            "requested_ts": self.requested_ts,
            "clOrdId": self.clOrdId,
            "sent_ts": self.sent_ts,
            "outcome": self.outcome,
            "attempt": self.attempt,
            "sz": opt_dec(self.sz),
            "exp_time_ms": self.exp_time_ms,
            "okx": self.okx.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CloseOrder:
        return cls(
            requested_by=str(d["requested_by"]),
            requested_ts=int(d["requested_ts"]),
            clOrdId=str(d["clOrdId"]),
            sent_ts=d.get("sent_ts"),
            outcome=d.get("outcome"),
            attempt=int(d.get("attempt", 0)),
            sz=to_opt_dec(d.get("sz")),
            exp_time_ms=d.get("exp_time_ms"),
            okx=OkxMirror.from_dict(d.get("okx", {})),
        )

    @property
    def terminal_on_okx(self) -> bool:
        return self.okx.state in OKX_ENDED_STATES


@dataclass
class AlgoMirror:
    """What OKX last showed for one algo order (OKX field names)."""

    algoId: str | None = None
    state: str | None = None
    sz: Decimal | None = None
    slTriggerPx: Decimal | None = None
    slTriggerPxType: str | None = None
    tpTriggerPx: Decimal | None = None
    ordIdList: list[str] = field(default_factory=list)  # the child orders OKX placed when it fired
    actualSz: Decimal | None = None
    actualPx: Decimal | None = None
    actualSide: str | None = None  # sl or tp: which leg fired
    triggerTime: int | None = None
    failCode: str | None = None
    uTime: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "algoId": self.algoId,
            "state": self.state,
            "sz": opt_dec(self.sz),
            "slTriggerPx": opt_dec(self.slTriggerPx),
            "slTriggerPxType": self.slTriggerPxType,
            "tpTriggerPx": opt_dec(self.tpTriggerPx),
            "ordIdList": list(self.ordIdList),
            "actualSz": opt_dec(self.actualSz),
            "actualPx": opt_dec(self.actualPx),
            "actualSide": self.actualSide,
            "triggerTime": self.triggerTime,
            "failCode": self.failCode,
            "uTime": self.uTime,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AlgoMirror:
        return cls(
            algoId=d.get("algoId"),
            state=d.get("state"),
            sz=to_opt_dec(d.get("sz")),
            slTriggerPx=to_opt_dec(d.get("slTriggerPx")),
            slTriggerPxType=d.get("slTriggerPxType"),
            tpTriggerPx=to_opt_dec(d.get("tpTriggerPx")),
            ordIdList=[str(x) for x in d.get("ordIdList", [])],
            actualSz=to_opt_dec(d.get("actualSz")),
            actualPx=to_opt_dec(d.get("actualPx")),
            actualSide=d.get("actualSide"),
            triggerTime=d.get("triggerTime"),
            failCode=d.get("failCode"),
            uTime=d.get("uTime"),
        )


@dataclass
class StopOrder:
    """One placement of the cycle's protective stop (an OKX conditional algo order).

    Bot-owned: its number in the cycle and deterministic algoClOrdId, its stop-machine state, what was
    last asked of OKX (size, trigger prices, when), cancel and refusal bookkeeping. Mirrored: `okx`, what
    OKX last showed of the algo, and `children`, its child orders (by ordId) once it fired.
    """

    n: int  # placements in the cycle before this one
    algoClOrdId: str
    state: str  # stop-machine state (machines/okx_stop.yaml)
    sz: Decimal  # the size last asked for (placed or amended): the machine's own size then
    slTriggerPx: Decimal
    tpTriggerPx: Decimal | None
    trigger_px_type: str  # slTriggerPxType (and tpTriggerPxType) sent
    payload: dict[str, Any] = field(default_factory=dict)  # the place request's body, as sent
    submit_ts: int | None = None  # exchange ms of the place request's send
    amend_ts: int | None = None  # exchange ms of the last amend's send
    cancel_sent_ts: int | None = None
    reject: dict[str, str] | None = None  # {"sCode", "sMsg"} of an explicit refusal of the place
    last_anomaly: str | None = None  # the last anomaly journaled for this stop (journaled once)
    stray: bool = False  # OKX shows it working although this state holds it as ended
    okx: AlgoMirror = field(default_factory=AlgoMirror)
    children: list[OkxMirror] = field(default_factory=list)

    @property
    def identity(self) -> dict[str, str]:
        """How journal records name this stop."""
        return {"algoClOrdId": self.algoClOrdId}

    @property
    def asked_ts(self) -> int | None:
        """When OKX was last asked to make this stop what `sz` and the trigger prices say."""
        return max((t for t in (self.submit_ts, self.amend_ts) if t is not None), default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "algoClOrdId": self.algoClOrdId,
            "state": self.state,
            "sz": dec(self.sz),
            "slTriggerPx": dec(self.slTriggerPx),
            "tpTriggerPx": opt_dec(self.tpTriggerPx),
            "trigger_px_type": self.trigger_px_type,
            "payload": dict(self.payload),
            "submit_ts": self.submit_ts,
            "amend_ts": self.amend_ts,
            "cancel_sent_ts": self.cancel_sent_ts,
            "reject": None if self.reject is None else dict(self.reject),
            "last_anomaly": self.last_anomaly,
            "stray": self.stray,
            "okx": self.okx.to_dict(),
            "children": [c.to_dict() for c in self.children],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StopOrder:
        return cls(
            n=int(d["n"]),
            algoClOrdId=str(d["algoClOrdId"]),
            state=str(d["state"]),
            sz=Decimal(d["sz"]),
            slTriggerPx=Decimal(d["slTriggerPx"]),
            tpTriggerPx=to_opt_dec(d.get("tpTriggerPx")),
            trigger_px_type=str(d["trigger_px_type"]),
            payload=dict(d.get("payload", {})),
            submit_ts=d.get("submit_ts"),
            amend_ts=d.get("amend_ts"),
            cancel_sent_ts=d.get("cancel_sent_ts"),
            reject=None if d.get("reject") is None else {str(k): str(v) for k, v in d["reject"].items()},
            last_anomaly=d.get("last_anomaly"),
            stray=bool(d.get("stray", False)),
            okx=AlgoMirror.from_dict(d.get("okx", {})),
            children=[OkxMirror.from_dict(c) for c in d.get("children", [])],
        )
