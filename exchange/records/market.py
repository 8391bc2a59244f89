"""Market records: an instrument's trading rules, candles, the server time, and their parsers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from exchange.errors import OkxInvalidPayload
from exchange.records.fields import Fields, raw_field

# Contract terms that spot-like instruments leave "": one unit of sz is one unit of the base currency.
_UNIT_CONTRACT_TYPES = frozenset({"SPOT", "MARGIN"})
_CANDLE_FIELDS = ("ts", "o", "h", "l", "c", "vol", "volCcy", "volCcyQuote", "confirm")


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
    lever: Decimal | None  # the most leverage OKX lets an account set on it ("" on spot: None)
    state: str
    settleCcy: str | None
    raw: Mapping[str, Any] = raw_field()


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
    raw: Sequence[Any] = raw_field()


def parse_instrument(obj: Any) -> Instrument:
    f = Fields("instrument", obj)
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
        lever=f.opt_decimal("lever"),
        state=f.text("state"),
        settleCcy=f.opt_text("settleCcy"),
        raw=f.obj,
    )


def parse_candle(row: Any) -> Candle:
    """A candle row `[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]` (extra trailing items ignored)."""
    if not isinstance(row, list) or len(row) < len(_CANDLE_FIELDS):
        raise OkxInvalidPayload(f"candle: expected an array of at least {len(_CANDLE_FIELDS)} strings")
    f = Fields("candle", dict(zip(_CANDLE_FIELDS, row, strict=False)))
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


# A poll asks the same closed bars again every tick: their parses are kept (a few ticks' worth).
_PARSED_ROWS = 1_024


def parse_candle_row(row: Any) -> Candle:
    """`parse_candle`, remembered by the row's content (the same row always parses the same)."""
    if not isinstance(row, list):
        return parse_candle(row)
    try:
        return _parse_remembered(tuple(row))
    except TypeError:  # an item that cannot be a key (the parse refuses it)
        return parse_candle(row)


@lru_cache(maxsize=_PARSED_ROWS)
def _parse_remembered(row: tuple[Any, ...]) -> Candle:
    return parse_candle(list(row))


def parse_server_time(obj: Any) -> int:
    return Fields("server time", obj).ms("ts")
