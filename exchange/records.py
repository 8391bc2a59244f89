"""Typed OKX records (frozen dataclasses with OKX's own field names) and their parsers.

Conventions: ids stay `str`, numbers become `Decimal`, times are `int` ms, OKX's `""` becomes `None`,
and each record keeps `raw`, the OKX object exactly as received (the journal's evidence). Parsers
ignore fields they do not know (OKX adds fields); a missing or mistyped field they need raises
`OkxInvalidPayload` naming the record and the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from exchange.errors import OkxInvalidPayload

ORDER_STATES = frozenset({"live", "partially_filled", "filled", "canceled", "mmp_canceled"})
SIDES = frozenset({"buy", "sell"})
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?")
_DIGITS = re.compile(r"\d{1,20}")
_VALUE_CHARS = 60

# Contract terms that spot-like instruments leave "": one unit of sz is one unit of the base currency.
_UNIT_CONTRACT_TYPES = frozenset({"SPOT", "MARGIN"})


class _Fields:
    """Typed access to one OKX object; every failure names the record and the field."""

    def __init__(self, record: str, obj: Any) -> None:
        if not isinstance(obj, Mapping):
            raise OkxInvalidPayload(f"{record}: expected an object, got {type(obj).__name__}")
        self.record = record
        self.obj: Mapping[str, Any] = obj

    def _bad(self, name: str, expected: str) -> OkxInvalidPayload:
        if name not in self.obj:
            return OkxInvalidPayload(f"{self.record}.{name}: missing ({expected} expected)")
        shown = repr(self.obj[name])[:_VALUE_CHARS]
        return OkxInvalidPayload(f"{self.record}.{name}: expected {expected}, got {shown}")

    def opt_text(self, name: str) -> str | None:
        """A string field; "" and absent mean None."""
        value = self.obj.get(name, "")
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._bad(name, "a string")
        return value or None

    def text(self, name: str) -> str:
        """A required, non-empty string field."""
        value = self.opt_text(name)
        if value is None:
            raise self._bad(name, "a non-empty string")
        return value

    def id_text(self, name: str) -> str:
        """An id that must be present as a string but may be "" (e.g. ordId of a block-trade fill)."""
        value = self.obj.get(name)
        if not isinstance(value, str):
            raise self._bad(name, "a string")
        return value

    def digits(self, name: str) -> str:
        """A numeric-string id that callers compare as an integer (billId)."""
        value = self.obj.get(name)
        if not isinstance(value, str) or not _DIGITS.fullmatch(value):
            raise self._bad(name, "a numeric string id")
        return value

    def choice(self, name: str, allowed: frozenset[str]) -> str:
        value = self.text(name)
        if value not in allowed:
            raise self._bad(name, "one of " + "|".join(sorted(allowed)))
        return value

    def opt_decimal(self, name: str) -> Decimal | None:
        """A decimal given as a string (or a JSON number, which some account fields use); "" is None."""
        value = self.obj.get(name, "")
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self._bad(name, "a decimal string")
        text = value if isinstance(value, str) else repr(value)
        if not _DECIMAL.fullmatch(text):
            raise self._bad(name, "a decimal string")
        return Decimal(text)

    def decimal(self, name: str) -> Decimal:
        value = self.opt_decimal(name)
        if value is None:
            raise self._bad(name, "a decimal string")
        return value

    def positive(self, name: str) -> Decimal:
        value = self.decimal(name)
        if value <= 0:
            raise self._bad(name, "a positive decimal")
        return value

    def opt_ms(self, name: str) -> int | None:
        """A Unix-ms time as a digit string (or JSON integer); "" is None."""
        value = self.obj.get(name, "")
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if not isinstance(value, str) or not _DIGITS.fullmatch(value):
            raise self._bad(name, "a millisecond time string")
        return int(value)

    def ms(self, name: str) -> int:
        value = self.opt_ms(name)
        if value is None:
            raise self._bad(name, "a millisecond time string")
        return value

    def flag(self, name: str) -> bool:
        """A boolean OKX sends as "true"/"false" (or a JSON boolean); absent or "" is False."""
        value = self.obj.get(name, "")
        if isinstance(value, bool):
            return value
        if value in ("", "false"):
            return False
        if value == "true":
            return True
        raise self._bad(name, '"true" or "false"')

    def label(self, name: str) -> str | None:
        """A short code OKX may send as a string or a JSON integer (acctLv, uid); "" is None."""
        value = self.obj.get(name, "")
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return self.opt_text(name)


def _raw() -> Any:
    return field(compare=False, repr=False)


@dataclass(frozen=True)
class OkxOrder:
    """An order as GET order / orders-pending show it (fill fields describe the most recent fill)."""

    instId: str
    ordId: str
    clOrdId: str | None
    px: Decimal | None
    sz: Decimal
    ordType: str
    side: str
    posSide: str | None
    tdMode: str
    state: str
    accFillSz: Decimal
    avgPx: Decimal | None
    fillPx: Decimal | None
    fillSz: Decimal | None
    fillTime: int | None
    tradeId: str | None
    fee: Decimal | None
    feeCcy: str | None
    cancelSource: str | None
    reduceOnly: bool
    cTime: int
    uTime: int
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class OkxFill:
    """One execution from GET /trade/fills (billId is the paging cursor)."""

    instId: str
    tradeId: str
    ordId: str
    clOrdId: str | None
    billId: str
    fillPx: Decimal
    fillSz: Decimal
    side: str
    posSide: str | None
    execType: str | None
    fee: Decimal
    feeCcy: str
    fillTime: int
    ts: int
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class OkxOrderAck:
    """One item of a place / cancel answer. sCode "0" means accepted, not filled or canceled."""

    ordId: str | None
    clOrdId: str | None
    tag: str | None
    ts: int | None
    sCode: str
    sMsg: str | None
    subCode: str | None
    raw: Mapping[str, Any] = _raw()

    @property
    def ok(self) -> bool:
        return self.sCode == "0"


@dataclass(frozen=True)
class Instrument:
    """Trading rules of one instrument; for SPOT/MARGIN (no contracts) ctVal and ctMult are 1."""

    instId: str
    instType: str
    ctVal: Decimal
    ctMult: Decimal
    ctValCcy: str | None
    tickSz: Decimal
    lotSz: Decimal
    minSz: Decimal
    maxLmtSz: Decimal | None
    state: str
    settleCcy: str | None
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class Position:
    """One position; in long/short mode `pos` is positive and posSide gives the side."""

    instId: str
    posSide: str
    mgnMode: str
    pos: Decimal
    avgPx: Decimal | None
    upl: Decimal | None
    markPx: Decimal | None
    liqPx: Decimal | None
    cTime: int | None
    uTime: int | None
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class BalanceDetail:
    """One currency of the trading account."""

    ccy: str
    eq: Decimal | None
    cashBal: Decimal | None
    availBal: Decimal | None
    availEq: Decimal | None
    frozenBal: Decimal | None
    ordFrozen: Decimal | None
    upl: Decimal | None
    uTime: int | None
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class Balance:
    totalEq: Decimal | None
    uTime: int | None
    details: tuple[BalanceDetail, ...]
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class Candle:
    """One bar; `confirm` is True only for a closed bar. `raw` is the OKX row (an array, not an object)."""

    ts: int
    o: Decimal
    h: Decimal
    l: Decimal  # noqa: E741 (OKX's name)
    c: Decimal
    vol: Decimal
    confirm: bool
    raw: Sequence[Any] = _raw()


@dataclass(frozen=True)
class AccountConfig:
    uid: str | None
    acctLv: str | None
    posMode: str
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class Leverage:
    """One row of GET /account/leverage-info (posSide is long/short only for isolated long/short mode)."""

    instId: str
    mgnMode: str
    posSide: str | None
    lever: Decimal
    raw: Mapping[str, Any] = _raw()


def parse_order(obj: Any) -> OkxOrder:
    f = _Fields("order", obj)
    return OkxOrder(
        instId=f.text("instId"),
        ordId=f.text("ordId"),
        clOrdId=f.opt_text("clOrdId"),
        px=f.opt_decimal("px"),
        sz=f.decimal("sz"),
        ordType=f.text("ordType"),
        side=f.choice("side", SIDES),
        posSide=f.opt_text("posSide"),
        tdMode=f.text("tdMode"),
        state=f.choice("state", ORDER_STATES),
        accFillSz=f.decimal("accFillSz"),
        avgPx=f.opt_decimal("avgPx"),
        fillPx=f.opt_decimal("fillPx"),
        fillSz=f.opt_decimal("fillSz"),
        fillTime=f.opt_ms("fillTime"),
        tradeId=f.opt_text("tradeId"),
        fee=f.opt_decimal("fee"),
        feeCcy=f.opt_text("feeCcy"),
        cancelSource=f.opt_text("cancelSource"),
        reduceOnly=f.flag("reduceOnly"),
        cTime=f.ms("cTime"),
        uTime=f.ms("uTime"),
        raw=f.obj,
    )


def parse_fill(obj: Any) -> OkxFill:
    f = _Fields("fill", obj)
    return OkxFill(
        instId=f.text("instId"),
        tradeId=f.text("tradeId"),
        ordId=f.id_text("ordId"),
        clOrdId=f.opt_text("clOrdId"),
        billId=f.digits("billId"),
        fillPx=f.decimal("fillPx"),
        fillSz=f.decimal("fillSz"),
        side=f.choice("side", SIDES),
        posSide=f.opt_text("posSide"),
        execType=f.opt_text("execType"),
        fee=f.decimal("fee"),
        feeCcy=f.text("feeCcy"),
        fillTime=f.ms("fillTime"),
        ts=f.ms("ts"),
        raw=f.obj,
    )


def parse_ack(obj: Any) -> OkxOrderAck:
    f = _Fields("ack", obj)
    return OkxOrderAck(
        ordId=f.opt_text("ordId"),
        clOrdId=f.opt_text("clOrdId"),
        tag=f.opt_text("tag"),
        ts=f.opt_ms("ts"),
        sCode=f.text("sCode"),
        sMsg=f.opt_text("sMsg"),
        subCode=f.opt_text("subCode"),
        raw=f.obj,
    )


def parse_instrument(obj: Any) -> Instrument:
    f = _Fields("instrument", obj)
    inst_type = f.text("instType")

    def contract_term(name: str) -> Decimal:
        if inst_type in _UNIT_CONTRACT_TYPES and f.opt_decimal(name) is None:
            return Decimal(1)
        return f.positive(name)

    return Instrument(
        instId=f.text("instId"),
        instType=inst_type,
        ctVal=contract_term("ctVal"),
        ctMult=contract_term("ctMult"),
        ctValCcy=f.opt_text("ctValCcy"),
        tickSz=f.positive("tickSz"),
        lotSz=f.positive("lotSz"),
        minSz=f.positive("minSz"),
        maxLmtSz=f.opt_decimal("maxLmtSz"),
        state=f.text("state"),
        settleCcy=f.opt_text("settleCcy"),
        raw=f.obj,
    )


def parse_position(obj: Any) -> Position:
    f = _Fields("position", obj)
    return Position(
        instId=f.text("instId"),
        posSide=f.text("posSide"),
        mgnMode=f.text("mgnMode"),
        pos=f.decimal("pos"),
        avgPx=f.opt_decimal("avgPx"),
        upl=f.opt_decimal("upl"),
        markPx=f.opt_decimal("markPx"),
        liqPx=f.opt_decimal("liqPx"),
        cTime=f.opt_ms("cTime"),
        uTime=f.opt_ms("uTime"),
        raw=f.obj,
    )


def _parse_balance_detail(obj: Any) -> BalanceDetail:
    f = _Fields("balance detail", obj)
    return BalanceDetail(
        ccy=f.text("ccy"),
        eq=f.opt_decimal("eq"),
        cashBal=f.opt_decimal("cashBal"),
        availBal=f.opt_decimal("availBal"),
        availEq=f.opt_decimal("availEq"),
        frozenBal=f.opt_decimal("frozenBal"),
        ordFrozen=f.opt_decimal("ordFrozen"),
        upl=f.opt_decimal("upl"),
        uTime=f.opt_ms("uTime"),
        raw=f.obj,
    )


def parse_balance(obj: Any) -> Balance:
    f = _Fields("balance", obj)
    details = f.obj.get("details", [])
    if not isinstance(details, list):
        raise OkxInvalidPayload("balance.details: expected a list")
    return Balance(
        totalEq=f.opt_decimal("totalEq"),
        uTime=f.opt_ms("uTime"),
        details=tuple(_parse_balance_detail(d) for d in details),
        raw=f.obj,
    )


_CANDLE_FIELDS = ("ts", "o", "h", "l", "c", "vol", "volCcy", "volCcyQuote", "confirm")


def parse_candle(row: Any) -> Candle:
    """A candle row `[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]` (extra trailing items ignored)."""
    if not isinstance(row, list) or len(row) < len(_CANDLE_FIELDS):
        raise OkxInvalidPayload(f"candle: expected an array of at least {len(_CANDLE_FIELDS)} strings")
    f = _Fields("candle", dict(zip(_CANDLE_FIELDS, row, strict=False)))
    return Candle(
        ts=f.ms("ts"),
        o=f.decimal("o"),
        h=f.decimal("h"),
        l=f.decimal("l"),
        c=f.decimal("c"),
        vol=f.decimal("vol"),
        confirm=f.choice("confirm", frozenset({"0", "1"})) == "1",
        raw=row,
    )


def parse_account_config(obj: Any) -> AccountConfig:
    f = _Fields("account config", obj)
    return AccountConfig(uid=f.label("uid"), acctLv=f.label("acctLv"), posMode=f.text("posMode"), raw=f.obj)


def parse_leverage(obj: Any) -> Leverage:
    f = _Fields("leverage", obj)
    return Leverage(
        instId=f.text("instId"),
        mgnMode=f.choice("mgnMode", frozenset({"cross", "isolated"})),
        posSide=f.opt_text("posSide"),
        lever=f.positive("lever"),
        raw=f.obj,
    )


def parse_server_time(obj: Any) -> int:
    return _Fields("server time", obj).ms("ts")
