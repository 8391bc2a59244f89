"""The typed ladder state through the store: the seed's state tests."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from fsm.engine.machine import load_machine
from fsm.engine.orders import Fill, OkxMirror, Rung
from fsm.engine.state import LadderState, Signal
from fsm.errors import StateMismatch
from fsm.persist.store import Identity, StateStore

IDENT = Identity(strategy_id="eth_robust_twap_15m", symbol="ETH-USDT-SWAP", bar="15m", spec_hash="a" * 64)


def sample_state() -> LadderState:
    """One signal, three open orders, one partial fill."""
    sig = Signal(
        provider="robust_twap",
        candle_ts=900_000,
        close_ts=1_800_000,
        ref_px=Decimal("3000.123"),
        close=Decimal("3010"),
        lookback=16,
    )
    rungs = [
        Rung(
            level=i + 1,
            clOrdId=f"ertw900000r{i + 1}a0",
            px=Decimal(px),
            sz=Decimal("0.33"),
            state="live",
            okx=OkxMirror(ordId=f"10000000000000000{i}", state="live"),
        )
        for i, px in enumerate(["2991.12", "2982.12", "2973.12"])
    ]
    rungs[0].state = "partially_filled"
    rungs[0].okx.accFillSz = Decimal("0.1")
    rungs[0].okx.avgPx = Decimal("2991.12")
    fill = Fill(
        tradeId="7",
        billId="9",
        ordId=rungs[0].okx.ordId or "",
        clOrdId=rungs[0].clOrdId,
        fillPx=Decimal("2991.12"),
        fillSz=Decimal("0.1"),
        fee=Decimal("-0.005"),
        feeCcy="USDT",
        fillTime=2_000_000,
        side="buy",
    )
    return LadderState(
        state="partially_filled",
        cycle_id="ertw900000",
        signal=sig,
        expiry_ts=5_400_000,
        rungs=rungs,
        fills=[fill],
        fills_cursor="9",
    )


def test_fresh_machine_loads_empty(tmp_path: Path) -> None:
    with StateStore(tmp_path / "m.json", IDENT) as store:
        assert store.open() is None
    machine = load_machine("eth_robust_twap_15m", state_dir=tmp_path)
    assert machine.fresh_state().state == "idle"


def test_roundtrip_with_signal_three_open_orders_and_a_partial_fill(tmp_path: Path) -> None:
    state = sample_state()
    with StateStore(tmp_path / "m.json", IDENT) as store:
        store.open()
        store.commit("fill", {"tradeId": "7"}, state.to_dict(), ts_ms=2_000_000)
    with StateStore(tmp_path / "m.json", IDENT) as store:
        snapshot = store.open()
    assert snapshot is not None
    back = LadderState.from_dict(snapshot)
    assert back == state
    assert back.filled_sz == Decimal("0.1")
    assert isinstance(back.rungs[0].px, Decimal)


def test_money_is_written_as_plain_decimal_strings(tmp_path: Path) -> None:
    state = sample_state()
    state.rungs[0].px = Decimal("1E+1")
    text = json.dumps(state.to_dict())
    assert '"10"' in text and "E+" not in text


def test_deterministic_roundtrip_and_event_append_order(tmp_path: Path) -> None:
    def write(folder: Path) -> tuple[bytes, bytes]:
        with StateStore(folder / "m.json", IDENT) as store:
            store.open()
            for kind in ("intent", "submit", "ack", "transition"):
                store.commit(kind, {"k": kind}, sample_state().to_dict(), ts_ms=1)
        return (folder / "m.json").read_bytes(), (folder / "m.jsonl").read_bytes()

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert write(tmp_path / "a") == write(tmp_path / "b")
    kinds = [json.loads(x)["kind"] for x in (tmp_path / "a" / "m.jsonl").read_text().splitlines()]
    assert kinds == ["intent", "submit", "ack", "transition"]


@pytest.mark.parametrize("field", ["symbol", "bar", "strategy_id"])
def test_state_of_another_machine_is_refused(tmp_path: Path, field: str) -> None:
    with StateStore(tmp_path / "m.json", IDENT) as store:
        store.open()
        store.commit("intent", {}, sample_state().to_dict(), ts_ms=1)
    other = Identity(**{**IDENT.__dict__, field: "OTHER"})
    before = (tmp_path / "m.json").read_bytes()
    with StateStore(tmp_path / "m.json", other) as store, pytest.raises(StateMismatch, match=field):
        store.open()
    assert (tmp_path / "m.json").read_bytes() == before
