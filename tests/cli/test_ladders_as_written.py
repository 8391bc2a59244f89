"""Ladders as users write them, each run through a full cycle by the real CLI against the simulator and
judged from what the simulator holds: a renamed state, a sell ladder, explicit sizes, an `extends:`."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from fsm.engine.machine import load_machine
from fsm.engine.signals import bar_ms
from fsm.spec.ladder import LadderParams
from tests.cli.conftest import Cli, driven

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ETH_YAML = REPO / "machines" / "eth_robust_twap_15m.yaml"
BTC_YAML = REPO / "machines" / "btc_robust_twap_1h.yaml"
HAPPY_PATH = [
    ("idle", "intent_rendered"),
    ("intent_rendered", "entries_open"),
    ("entries_open", "partially_filled"),
    ("partially_filled", "partially_filled"),  # the stop placed with the first fill
    ("partially_filled", "filled"),
    ("filled", "filled"),  # the stop resized to the whole size
    ("filled", "filled"),  # the stop cancelled before the exit
    ("filled", "filled"),  # the exit
    ("filled", "closed"),
    ("closed", "idle"),
]


@dataclass
class Driven:
    """One machine's YAML driven through `okx-fsm tick --submit` against a harness's simulator."""

    h: Cli
    path: Path

    @cached_property
    def params(self) -> LadderParams:
        return load_machine(str(self.path), state_dir=self.h.state_dir).params

    def tick(self) -> dict[str, Any]:
        args = ("tick", str(self.path), "--state-dir", str(self.h.state_dir), "--submit", "--json")
        doc: dict[str, Any] = json.loads(self.h.run(*args).stdout)
        return doc

    def journal(self) -> list[dict[str, Any]]:
        path = (self.h.state_dir / self.params.state_file).with_suffix(".jsonl")
        return [json.loads(line) for line in path.read_text().splitlines()]

    def transitions(self) -> list[tuple[str, str]]:
        return [(r["data"]["from"], r["data"]["to"]) for r in self.journal() if r["kind"] == "transition"]

    def orders(self) -> list[dict[str, Any]]:
        """The simulator's orders of this machine: entries (rungs 1..n) and the exit (rung 0)."""
        return [o for o in self.h.sim_orders() if o["clOrdId"].startswith(self.params.client_order_id_prefix)]

    def entries(self) -> list[dict[str, Any]]:
        return [o for o in self.orders() if "r0a" not in o["clOrdId"]]

    def fills(self) -> list[dict[str, Any]]:
        ours = {o["clOrdId"] for o in self.orders()}
        return [f for f in self.h.sim.state()["fills"] if f["clOrdId"] in ours]

    def market(self) -> Decimal:
        return Decimal(self.h.sim.state()["prices"][self.params.symbol])

    def trade_to(self, px: Decimal) -> None:
        self.h.sim.set_price(px, self.params.symbol)

    def positions(self) -> list[dict[str, Any]]:
        return [p for p in self.h.sim.state()["positions"] if p["instId"] == self.params.symbol]


@dataclass
class Cycle:
    """What the simulator showed at the points of a cycle that matter."""

    market_at_entry: Decimal = Decimal(0)
    entries_doc: dict[str, Any] = field(default_factory=dict)
    held_doc: dict[str, Any] = field(default_factory=dict)
    positions_held: list[dict[str, Any]] = field(default_factory=list)
    exit_px: Decimal = Decimal(0)


def shifted(px: Decimal, fraction: str, direction: int) -> Decimal:
    """`px` moved by a whole number of quote units (on any instrument's tick) in `direction`."""
    return px + direction * int(px * Decimal(fraction))


def full_cycle(m: Driven) -> Cycle:
    """Signal, entries, every rung filled, the hold, the exit on the profitable side, closed, idle.

    A buy ladder rests below the reference, a sell ladder above it: the signal's close and the exit
    lie on the other side (direction `d`); the fills trade through the rungs (direction -d).
    """
    h, p, cycle = m.h, m.params, Cycle()
    d, bar_s = (1 if p.side == "buy" else -1), bar_ms(p.bar) // 1000
    m.trade_to(shifted(m.market(), "0.01", d))
    h.sim.advance(bar_s)  # the newest bar closes on the far side of the reference
    cycle.market_at_entry = m.market()
    cycle.entries_doc = doc = m.tick()
    assert [r["state"] for r in doc["rungs"]] == ["live"] * len(p.offsets), doc
    px = [Decimal(r["px"]) for r in doc["rungs"]]
    m.trade_to(px[0] - d)  # through rung 1 only
    h.sim.advance(5)
    assert m.tick()["filled_sz"] != "0"
    m.trade_to(shifted(px[-1], "0.002", -d))  # past the last rung
    for _ in range(6):  # partial fills are bounded per step; let the book work
        h.sim.advance(60)
    cycle.held_doc = doc = m.tick()
    assert [r["state"] for r in doc["rungs"]] == ["filled"] * len(p.offsets), doc
    cycle.positions_held = m.positions()
    h.sim.advance(bar_s * (p.hold_bars + 1))  # the hold time is up
    cycle.exit_px = shifted(px[0], "0.01", d)
    m.trade_to(cycle.exit_px)  # beyond the best entry: the exit gains
    assert m.tick()["close_request"]["outcome"] == "accepted"
    m.tick()
    doc = m.tick()
    assert doc["rungs"] == [] and doc["cycles_completed"] == 1
    return cycle


def archived_summary(m: Driven) -> dict[str, Any]:
    [archive] = [r["data"] for r in m.journal() if r["kind"] == "archive"]
    summary: dict[str, Any] = archive["summary"]
    return summary


def simulator_pnl(m: Driven, ct_val: Decimal) -> Decimal:
    """Realized PnL from the simulator's own fills: what sells took in less what buys paid, plus fees."""
    fills = m.fills()
    cash = sum(
        Decimal(f["fillPx"]) * Decimal(f["fillSz"]) * (1 if f["side"] == "sell" else -1) for f in fills
    )
    return cash * ct_val + sum(Decimal(f["fee"]) for f in fills)


def assert_flat_and_journaled(m: Driven) -> None:
    assert all(Decimal(p["pos"]) == 0 for p in m.positions())
    journaled = {r["data"]["tradeId"] for r in m.journal() if r["kind"] == "fill"}
    assert {f["tradeId"] for f in m.fills()} <= journaled
    cl_ids = [o["clOrdId"] for o in m.orders()]
    assert len(cl_ids) == len(set(cl_ids))
    assert "anomaly" not in {r["kind"] for r in m.journal()}


def extending(tmp_path: Path, name: str, prefix: str, params: str) -> Path:
    """A machine beside a copy of the ETH ladder, extending it with its own identity and `params`."""
    shutil.copy(ETH_YAML, tmp_path)
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"machine: {name}\nextends: {ETH_YAML.name}\nparams:\n  strategy_id: {name}\n"
        f"  client_order_id_prefix: {prefix}\n  state_file: {name}_live.json\n{params}"
    )
    return path


# ---- a state renamed in the YAML -------------------------------------------------------------------


@pytest.fixture
def twin(tmp_path: Path, rate_limits: bool) -> Iterator[Cli]:
    """A second simulator made like the harness's (same seed, start price, manual clock)."""
    with driven(tmp_path / "twin-state", rate_limits=rate_limits) as harness:
        yield harness


def venue_record(m: Driven) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    orders = [
        tuple(
            o[k] for k in ("clOrdId", "side", "posSide", "ordType", "px", "sz", "state", "accFillSz", "avgPx")
        )
        for o in m.orders()
    ]
    fills = [tuple(f[k] for k in ("clOrdId", "side", "fillPx", "fillSz", "fee")) for f in m.fills()]
    return orders, fills


def test_a_state_renamed_in_the_yaml_runs_the_cycle_exactly_like_the_original(
    cli: Cli, twin: Cli, tmp_path: Path
) -> None:
    renamed = tmp_path / "renamed" / ETH_YAML.name
    renamed.parent.mkdir()
    renamed.write_text(re.sub(r"\bfilled\b", "holding", ETH_YAML.read_text()))
    original, copy = Driven(cli, ETH_YAML), Driven(twin, renamed)

    full_cycle(original)
    full_cycle(copy)

    assert original.transitions() == HAPPY_PATH
    holding = [tuple("holding" if s == "filled" else s for s in move) for move in HAPPY_PATH]
    assert copy.transitions() == holding
    assert venue_record(copy) == venue_record(original)
    assert archived_summary(copy) == archived_summary(original)
    assert_flat_and_journaled(copy)


# ---- a sell ladder: a short entry above the reference ----------------------------------------------


@pytest.mark.parametrize("pos_mode", ["long_short_mode", "net_mode"])
def test_a_sell_ladder_enters_short_above_the_market_and_buys_back(
    cli: Cli, tmp_path: Path, pos_mode: str
) -> None:
    h = cli
    h.sim.set_account(pos_mode=pos_mode)
    net = pos_mode == "net_mode"
    short = "side: sell\n  pos_side: short\n  signal: {provider: robust_twap, lookback_bars: 16, "
    path = extending(tmp_path, "eth_short", "esht", f"  {short}entry_filter: close_below_ref}}\n")
    m = Driven(h, path)

    cycle = full_cycle(m)

    assert m.transitions() == HAPPY_PATH
    entries = m.entries()
    assert len(entries) == 3
    okx_pos_side = "net" if net else "short"
    assert {(o["side"], o["posSide"], o["ordType"], o["state"]) for o in entries} == {
        ("sell", okx_pos_side, "post_only", "filled")
    }
    prices = [Decimal(o["px"]) for o in entries]
    assert cycle.market_at_entry < prices[0] < prices[1] < prices[2]  # above the market, rung 1 nearest
    held = sum(Decimal(o["accFillSz"]) for o in entries)
    [position] = cycle.positions_held
    assert (position["posSide"], Decimal(position["pos"])) == (okx_pos_side, -held if net else held)
    [exit_order] = [o for o in m.orders() if "r0a" in o["clOrdId"]]
    assert (exit_order["side"], exit_order["posSide"], exit_order["ordType"]) == (
        "buy",
        okx_pos_side,
        "market",
    )
    assert exit_order["reduceOnly"] == "true"  # in long/short mode a buy on posSide short only closes
    assert Decimal(exit_order["accFillSz"]) == held
    [stop] = [a for a in h.sim.state()["algos"] if a["algoClOrdId"].startswith("esht")]
    stop_fields = (stop["side"], stop["posSide"], stop["reduceOnly"], Decimal(stop["sz"]))
    assert stop_fields == ("buy", okx_pos_side, "true", held)
    assert Decimal(stop["slTriggerPx"]) > prices[2]  # a short's stop sits above its entries
    assert stop["state"] == "canceled"  # cancelled before the buy-back
    assert_flat_and_journaled(m)
    summary = archived_summary(m)
    assert (Decimal(summary["bought"]), Decimal(summary["sold"])) == (held, held)  # entered, exited
    realized = Decimal(summary["realized_pnl"])
    assert realized == simulator_pnl(m, Decimal("0.1")) and realized > 0  # bought back below the entries


# ---- explicit sizes -----------------------------------------------------------------------------------


def test_a_four_rung_ladder_with_explicit_sizes_places_those_sizes(cli: Cli, tmp_path: Path) -> None:
    h = cli
    sizes = ["0.5", "0.3", "0.2", "0.1"]
    params = f'  offsets: ["0.002", "0.004", "0.006", "0.008"]\n  sizes: {json.dumps(sizes)}\n'
    m = Driven(h, extending(tmp_path, "eth_sized", "ersz", params))

    cycle = full_cycle(m)

    assert m.transitions() == HAPPY_PATH
    entries = m.entries()
    assert [Decimal(o["sz"]) for o in entries] == [Decimal(z) for z in sizes]
    assert [Decimal(r["sz"]) for r in cycle.entries_doc["rungs"]] == [Decimal(z) for z in sizes]
    prices = [Decimal(o["px"]) for o in entries]
    assert prices == sorted(prices, reverse=True) and prices[0] < cycle.market_at_entry
    assert h.sim.stats()["requests"]["POST /api/v5/trade/batch-orders"] == 1  # four rungs, one request
    assert {o["side"] for o in entries} == {"buy"}
    assert_flat_and_journaled(m)
    assert Decimal(archived_summary(m)["bought"]) == sum(Decimal(z) for z in sizes)


def test_a_rung_below_min_sz_stops_the_intent_naming_the_rung_and_sends_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    h = cli
    path = extending(tmp_path, "eth_tiny", "ertn", '  sizes: ["1", "0.004", "1"]\n')
    assert "ok: " in h.run("check", str(path)).output  # contracts are checked against minSz at render time
    h.signal()
    args = ("tick", str(path), "--state-dir", str(h.state_dir), "--submit")
    out = h.run(*args, expect=4).output
    assert (
        "rung 2 (offset 0.006): ETH-USDT-SWAP: sz 0.004 rounds down to 0.00 on lotSz 0.01: below minSz" in out
    )
    assert h.posts() == 0 and Driven(h, path).orders() == []


# ---- extends: the BTC machine ------------------------------------------------------------------------


def test_the_btc_machine_extending_the_eth_one_runs_a_full_cycle_on_hourly_bars(cli: Cli) -> None:
    m = Driven(cli, BTC_YAML)

    cycle = full_cycle(m)

    assert m.transitions() == HAPPY_PATH
    entries = m.entries()
    assert {(o["instId"], o["side"], o["posSide"]) for o in entries} == {("BTC-USDT-SWAP", "buy", "long")}
    assert all(o["clOrdId"].startswith("brtw") for o in entries)
    # 300 USDT a rung at ~90,000 with ctVal 0.01: about 0.33 contracts, on BTC's 0.1 tick
    assert all(Decimal("0.3") <= Decimal(o["sz"]) <= Decimal("0.35") for o in entries)
    assert all(Decimal(o["px"]) % Decimal("0.1") == 0 for o in entries)
    [intent] = [r["data"] for r in m.journal() if r["kind"] == "intent"]
    assert intent["signal"]["candle_ts"] % 3_600_000 == 0  # a 1H candle
    assert cycle.held_doc["filled_sz"] == format(sum(Decimal(o["accFillSz"]) for o in entries), "f")
    assert_flat_and_journaled(m)
    realized = Decimal(archived_summary(m)["realized_pnl"])
    assert realized == simulator_pnl(m, Decimal("0.01")) and realized > 0
    assert not (cli.state_dir / "eth_robust_twap_15m_live.json").exists()


def test_check_refuses_an_extending_machine_that_keeps_its_parents_identity(cli: Cli, tmp_path: Path) -> None:
    path = extending(tmp_path, "eth_clone", "ertw", "")
    out = cli.run("check", str(path), expect=2).output
    assert (
        f"{path}: params (line 5): client_order_id_prefix: 'ertw' is also the client_order_id_prefix of"
        in out
    )
    assert "ok: " in cli.run("check", str(BTC_YAML)).output
