"""Account records: positions, the balance and its currencies, the account configuration, leverage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from exchange.errors import OkxInvalidPayload
from exchange.records.fields import Fields, raw_field


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
    raw: Mapping[str, Any] = raw_field()


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
    raw: Mapping[str, Any] = raw_field()


@dataclass(frozen=True)
class Balance:
    totalEq: Decimal | None
    uTime: int | None
    details: tuple[BalanceDetail, ...]
    raw: Mapping[str, Any] = raw_field()


@dataclass(frozen=True)
class AccountConfig:
    uid: str | None
    acctLv: str | None
    posMode: str
    raw: Mapping[str, Any] = raw_field()


@dataclass(frozen=True)
class Leverage:
    """One row of GET /account/leverage-info (posSide is long/short only for isolated long/short mode)."""

    instId: str
    mgnMode: str
    posSide: str | None
    lever: Decimal
    raw: Mapping[str, Any] = raw_field()


def parse_position(obj: Any) -> Position:
    f = Fields("position", obj)
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
    f = Fields("balance detail", obj)
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
    f = Fields("balance", obj)
    details = f.obj.get("details", [])
    if not isinstance(details, list):
        raise OkxInvalidPayload("balance.details: expected a list")
    return Balance(
        totalEq=f.opt_decimal("totalEq"),
        uTime=f.opt_ms("uTime"),
        details=tuple(_parse_balance_detail(d) for d in details),
        raw=f.obj,
    )


def parse_account_config(obj: Any) -> AccountConfig:
    f = Fields("account config", obj)
    return AccountConfig(uid=f.label("uid"), acctLv=f.label("acctLv"), posMode=f.text("posMode"), raw=f.obj)


def parse_leverage(obj: Any) -> Leverage:
    f = Fields("leverage", obj)
    return Leverage(
        instId=f.text("instId"),
        mgnMode=f.choice("mgnMode", frozenset({"cross", "isolated"})),
        posSide=f.opt_text("posSide"),
        lever=f.positive("lever"),
        raw=f.obj,
    )
