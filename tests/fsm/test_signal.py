"""The robust-TWAP and file signal providers."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange import Candle
from fsm.engine.signals import SignalFileError, file_signal, newest_closed_bar_open, robust_twap_signal

BAR = 900_000


def candle(i: int, h: str, low: str, c: str, *, confirm: bool = True) -> Candle:
    return Candle(
        ts=i * BAR,
        o=Decimal(c),
        h=Decimal(h),
        l=Decimal(low),
        c=Decimal(c),
        vol=Decimal(1),
        confirm=confirm,
        raw=[],
    )


def test_reference_is_the_median_typical_price_of_the_confirmed_lookback() -> None:
    candles = [candle(i, "103", "97", "100") for i in range(4)] + [candle(4, "130", "100", "115")]
    sig = robust_twap_signal(candles, bar="15m", lookback=5, entry_filter="close_above_ref")
    assert sig is not None
    assert sig.ref_px == Decimal(100)  # the outlier bar does not move a median
    assert sig.candle_ts == 4 * BAR and sig.close_ts == 5 * BAR


def test_unconfirmed_candles_never_count() -> None:
    candles = [candle(i, "101", "99", "100") for i in range(3)] + [
        candle(3, "200", "190", "195", confirm=False)
    ]
    sig = robust_twap_signal(candles, bar="15m", lookback=3, entry_filter="none")
    assert sig is not None and sig.candle_ts == 2 * BAR


def test_close_below_reference_gives_no_signal_with_the_filter_and_one_without() -> None:
    candles = [candle(i, "101", "99", "100") for i in range(3)] + [candle(3, "100", "90", "91")]
    assert robust_twap_signal(candles, bar="15m", lookback=4, entry_filter="close_above_ref") is None
    assert robust_twap_signal(candles, bar="15m", lookback=4, entry_filter="none") is not None
    assert robust_twap_signal(candles, bar="15m", lookback=4, entry_filter="close_below_ref") is not None


def test_close_above_reference_gives_no_signal_to_a_sell_ladder_filter() -> None:
    candles = [candle(i, "101", "99", "100") for i in range(3)] + [candle(3, "110", "100", "109")]
    assert robust_twap_signal(candles, bar="15m", lookback=4, entry_filter="close_below_ref") is None
    assert robust_twap_signal(candles, bar="15m", lookback=4, entry_filter="close_above_ref") is not None
    flat = [candle(i, "101", "99", "100") for i in range(4)]  # the close on the reference passes both
    for entry_filter in ("close_above_ref", "close_below_ref"):
        assert robust_twap_signal(flat, bar="15m", lookback=4, entry_filter=entry_filter) is not None


def test_too_few_confirmed_candles_give_no_signal() -> None:
    assert robust_twap_signal([candle(0, "1", "1", "1")], bar="15m", lookback=3, entry_filter="none") is None


@given(st.integers(min_value=BAR * 2, max_value=10**13))
def test_newest_closed_bar_has_closed_and_the_next_has_not(now: int) -> None:
    start = newest_closed_bar_open(now, "15m")
    assert start % BAR == 0
    assert start + BAR <= now < start + 2 * BAR


def test_file_signal_reads_the_users_json(tmp_path: Path) -> None:
    path = tmp_path / "signal.json"
    assert file_signal(path, bar="15m") is None
    path.write_text(json.dumps({"candle_ts": BAR, "ref_px": "3000.5"}))
    sig = file_signal(path, bar="15m")
    assert sig is not None and sig.ref_px == Decimal("3000.5") and sig.close_ts == 2 * BAR


@pytest.mark.parametrize(
    "text",
    ["{", "[]", '{"candle_ts": 1}', '{"candle_ts": 1, "ref_px": "-3"}', '{"candle_ts": "x", "ref_px": "1"}'],
)
def test_malformed_signal_file_is_a_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "signal.json"
    path.write_text(text)
    with pytest.raises(SignalFileError, match=r"signal\.json"):
        file_signal(path, bar="15m")
