"""`okx-fsm report` and the realized PnL of `status`, after real cycles driven through the CLI against
the simulator, judged from the simulator's own fills and orders (never from the report itself)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import fsm.report
from fsm.cli.app import app
from fsm.replay import synthetic
from fsm.report.cycles import CycleScan, read_cycles
from tests.cli.conftest import BAR_S, MACHINE, Cli

pytestmark = pytest.mark.e2e

CT_VAL = Decimal("0.1")  # ETH-USDT-SWAP's contract value in the simulator
DAY_MS = 86_400_000
FROM_MS = 1_736_035_200_000  # 2025-01-05T00:00Z
ROUNDS = 40  # ticks a cycle may take before the test calls the engine stuck


def tick_until(h: Cli, done: Callable[[dict[str, Any]], bool], *, step_s: int = 60) -> dict[str, Any]:
    for _ in range(ROUNDS):
        doc = h.tick(submit=True)
        if done(doc):
            return doc
        h.sim.advance(step_s)
    raise AssertionError(f"no such state after {ROUNDS} ticks; last {doc['state']}")


def open_cycle(h: Cli) -> list[Decimal]:
    """Close candles above the reference until a signal's rungs are on the book; their prices."""
    for _ in range(ROUNDS):
        h.signal()
        doc = h.tick(submit=True)
        if doc["state"] == "entries_open":
            return [Decimal(r["px"]) for r in doc["rungs"]]
    raise AssertionError("no signal")


def finish(h: Cli, completed: int) -> None:
    """Tick until the cycle is archived and the machine is back in idle."""
    tick_until(h, lambda d: d["cycles_completed"] == completed and d["state"] == "idle")


def timed_cycle(h: Cli) -> None:
    """Every rung filled, held, closed when the hold time is up."""
    px = open_cycle(h)
    h.sim.set_price(str(px[2] - 3))
    tick_until(h, lambda d: d["state"] == "filled")
    h.sim.set_price(str(px[0] + 12))  # the exit sells above the entries: a winning cycle
    h.sim.advance(BAR_S * 9)
    finish(h, 1)


def operator_cycle(h: Cli) -> None:
    """Rung 1 partly filled, the rest cancelled at expiry, then closed by the operator at a loss."""
    px = open_cycle(h)
    h.sim.set_price(str(px[0] - 1))  # one step through rung 1: a partial fill
    h.sim.set_price(str(px[0] + 40))
    tick_until(h, lambda d: d["state"] == "partially_filled")
    h.sim.advance(BAR_S * 4 + 5)
    tick_until(h, lambda d: d["state"] == "filled")
    h.sim.set_price(str(px[0] - 6))  # above the stop (2 % below), below the entry
    h.sim.advance(5)
    h.machine("close", "--submit")
    finish(h, 2)


def unfilled_cycle(h: Cli) -> None:
    """The market stays above the rungs until the entry window passes: cancelled, nothing traded."""
    px = open_cycle(h)
    h.sim.set_price(str(px[0] + 40))
    h.sim.advance(BAR_S * 4 + 5)
    finish(h, 3)


@pytest.fixture
def three_cycles(cli: Cli) -> Cli:
    timed_cycle(cli)
    operator_cycle(cli)
    unfilled_cycle(cli)
    cli.assert_exchange_agrees()
    return cli


def venue_cycle(venue_fills: list[dict[str, Any]], cycle_id: str) -> dict[str, Any]:
    """What the simulator's fills say of one cycle: its fills (every order of the cycle carries the
    cycle id in its clOrdId), their fees, the PnL they made, and when the last exit filled."""
    fills = [f for f in venue_fills if f["clOrdId"].startswith(cycle_id)]
    buys = [f for f in fills if f["side"] == "buy"]
    sells = [f for f in fills if f["side"] == "sell"]
    bought = sum((Decimal(f["fillSz"]) for f in buys), Decimal(0))
    sold = sum((Decimal(f["fillSz"]) for f in sells), Decimal(0))
    assert bought == sold, "every cycle here ends flat"
    fees = sum((Decimal(f["fee"]) for f in fills), Decimal(0))
    value = sum((Decimal(f["fillPx"]) * Decimal(f["fillSz"]) for f in sells), Decimal(0)) - sum(
        (Decimal(f["fillPx"]) * Decimal(f["fillSz"]) for f in buys), Decimal(0)
    )
    return {
        "tradeIds": {f["tradeId"] for f in fills},
        "fees": fees,
        "pnl": value * CT_VAL + fees,
        "size": bought,
        "exit_ts": max((int(f["ts"]) for f in sells), default=None),
    }


def venue_rungs(h: Cli) -> dict[int, tuple[int, int]]:
    """Per rung level, the entry orders the simulator holds and how many of them got any fill."""
    rates: dict[int, tuple[int, int]] = {}
    for order in h.sim_orders():
        found = re.fullmatch(rf"{h.prefix}\d+r(\d)a\d+", order["clOrdId"])
        if found is None or order["ordType"] != "post_only":
            continue
        level = int(found.group(1))
        placed, filled = rates.get(level, (0, 0))
        rates[level] = (placed + 1, filled + (Decimal(order["accFillSz"]) > 0))
    return rates


def test_report_json_is_the_venues_fills_fees_and_orders(three_cycles: Cli) -> None:
    h = three_cycles
    doc = h.json("report")
    cycles = doc["cycles"]
    assert len(cycles) == 3 and doc["summary"]["cycles"] == 3
    venue = [venue_cycle(h.sim.state()["fills"], c["cycle_id"]) for c in cycles]
    for cycle, sim in zip(cycles, venue, strict=True):
        assert {f["tradeId"] for f in cycle["fills"]} == sim["tradeIds"]
        assert Decimal(cycle["realized_pnl"]) == sim["pnl"]
        assert Decimal(cycle["fees"]) == sim["fees"]
        assert Decimal(cycle["size"]) == sim["size"]
        assert cycle["exit_ts"] == sim["exit_ts"]
    assert [c["exit_reason"] for c in cycles] == ["timed", "operator", None]
    assert [c["rungs_placed"] for c in cycles] == [3, 3, 3]
    assert [c["rungs_filled"] for c in cycles] == [3, 1, 0]
    assert venue[0]["pnl"] > 0 > venue[1]["pnl"]  # the scenario as written: one win, one loss

    s = doc["summary"]
    pnls = sim_pnls(venue)
    assert (s["traded"], s["wins"], s["losses"]) == (2, 1, 1)
    assert Decimal(s["total_pnl"]) == sum(pnls)
    assert Decimal(s["avg_pnl"]) == sum(pnls) / 2
    assert Decimal(s["fees"]) == sum(sim["fees"] for sim in venue)
    assert Decimal(s["win_rate"]) == Decimal("0.5")
    assert Decimal(s["max_drawdown"]) == -pnls[1]  # the loss after the win, from the win's peak
    assert Decimal(s["profit_factor"]) == (pnls[0] / -pnls[1]).quantize(Decimal("0.0001"))
    assert s["longest_losing_streak"] == 1
    rates = venue_rungs(h)
    assert [(r["level"], r["placed"], r["with_fills"]) for r in s["rungs"]] == [
        (level, *rates[level]) for level in sorted(rates)
    ]
    assert [Decimal(p["equity"]) for p in doc["equity"]] == [pnls[0], pnls[0] + pnls[1]]


def sim_pnls(venue: list[dict[str, Any]]) -> list[Decimal]:
    """The traded cycles' PnL, as the venue's fills make it."""
    return [sim["pnl"] for sim in venue if sim["tradeIds"]]


def test_status_shows_realized_today_and_since_the_first_cycle(three_cycles: Cli) -> None:
    h = three_cycles
    report = h.json("report")
    venue = [venue_cycle(h.sim.state()["fills"], c["cycle_id"]) for c in report["cycles"]]
    doc = h.status()
    now = doc["clock"]["now_ms"]
    today = [
        sim["pnl"]
        for sim, c in zip(venue, report["cycles"], strict=True)
        if c["end_ts"] // DAY_MS == now // DAY_MS
    ]
    realized = doc["realized"]
    assert Decimal(realized["total"]) == sum(sim["pnl"] for sim in venue) and realized["cycles"] == 3
    assert Decimal(realized["today"]) == sum(today, Decimal(0)) and realized["cycles_today"] == len(today)
    assert realized["since_ts"] == report["cycles"][0]["start_ts"]
    text = h.machine("status").stdout
    assert f"since {iso_z(realized['since_ts'])} {realized['total']} USDT (3 cycle(s))" in text
    watch = h.run("watch", h.name, "--state-dir", str(h.state_dir), "--count", "1").stdout
    assert f"today {realized['today']}" in watch and f"since first {realized['total']}" in watch


def iso_z(ts: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def test_report_tables_charts_and_buy_and_hold_from_a_candle_file(three_cycles: Cli, tmp_path: Path) -> None:
    h = three_cycles
    first = h.json("report")["cycles"][0]["start_ts"]
    candles = tmp_path / "eth.jsonl"
    since = iso_z(first - BAR_S * 1000 * 20).replace(" ", "T")
    h.run("candles", "fetch", "ETH-USDT-SWAP", "15m", "--since", since, "-o", str(candles))
    rows = [json.loads(line) for line in candles.read_text().splitlines()]
    out = tmp_path / "out"
    doc = h.json("report", "--candles", str(candles), "--out", str(out))
    hold = doc["buy_and_hold"]
    assert (hold["first_ts"], hold["first_px"]) == (int(rows[0][0]), rows[0][1])
    assert (hold["last_ts"], hold["last_px"]) == (int(rows[-1][0]), rows[-1][4])
    size = Decimal(hold["size"])
    assert size == sum(Decimal(c["size"]) for c in doc["cycles"]) / 2
    assert Decimal(hold["pnl"]) == (Decimal(rows[-1][4]) - Decimal(rows[0][1])) * size * CT_VAL
    assert doc["charts_skipped"] is None
    names = sorted(Path(f).name for f in doc["files"])
    assert names == ["equity.png", "equity.svg", "price.png", "price.svg", "report.json"]
    assert (out / "price.png").read_bytes().startswith(b"\x89PNG") and b"<svg" in (
        out / "equity.svg"
    ).read_bytes()
    assert json.loads((out / "report.json").read_text())["summary"] == doc["summary"]

    text = h.machine("report", "--candles", str(candles)).stdout
    for word in ("cycles", "summary", "buy and hold", "rungs", "timed", "operator", "max drawdown"):
        assert word in text
    assert "charts    skipped: no --out folder" in text


def test_report_without_matplotlib_says_charts_were_skipped(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    timed_cycle(cli)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    monkeypatch.delitem(sys.modules, "fsm.report.charts", raising=False)
    monkeypatch.delattr(fsm.report, "charts", raising=False)  # as if never imported
    out = cli.state_dir.parent / "out"
    doc = cli.json("report", "--out", str(out))
    assert "matplotlib is not installed" in doc["charts_skipped"]
    assert [Path(f).name for f in doc["files"]] == ["report.json"] and len(doc["cycles"]) == 1


def test_report_range_counts_cycles_by_when_they_ended(cli: Cli) -> None:
    timed_cycle(cli)
    end = cli.json("report")["cycles"][0]["end_ts"]
    at = iso_z(end).replace(" ", "T")
    assert len(cli.json("report", "--from", at)["cycles"]) == 1
    assert cli.json("report", "--to", at)["cycles"] == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--from", "yesterday"), "--from 'yesterday': expected an ISO 8601 date"),
        (("--from", "2026-02-02", "--to", "2026-02-01"), "--from 2026-02-02 is not before --to 2026-02-01"),
        (("--to", "2026-13-01"), "--to '2026-13-01'"),
    ],
)
def test_report_refuses_a_bad_range_in_one_line(cli: Cli, args: tuple[str, ...], words: str) -> None:
    result = cli.machine("report", *args, expect=2)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.output


def test_report_refuses_a_bad_candle_file_and_a_missing_journal(cli: Cli, tmp_path: Path) -> None:
    result = cli.machine("report", expect=3)
    assert "no journal at" in result.output
    timed_cycle(cli)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('["1","2"]\n')
    result = cli.machine("report", "--candles", str(bad), expect=2)
    assert f"candle file {bad} line 1: malformed row" in result.output


def test_report_refuses_a_journal_whose_chain_is_broken_and_leaves_it_as_it_is(cli: Cli) -> None:
    timed_cycle(cli)
    lines = cli.journal_path.read_bytes().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if b'"kind":"archive"' in line)
    lines[at] = lines[at].replace(b'"fillPx":"', b'"fillPx":"1', 1)  # a price the venue never filled at
    tampered = b"".join(lines)
    cli.journal_path.write_bytes(tampered)
    result = cli.machine("report", expect=3)
    assert len(result.output.strip().splitlines()) == 1 and "journal" in result.output
    assert cli.journal_path.read_bytes() == tampered


def test_a_watch_scan_reads_only_whole_lines_appended_since_and_starts_over_on_a_shorter_file(
    cli: Cli,
) -> None:
    timed_cycle(cli)
    scan = CycleScan(cli.journal_path)
    assert len(scan.cycles()) == 1
    operator_cycle(cli)
    assert scan.cycles() == read_cycles(cli.journal_path) and len(scan.cycles()) == 2
    whole = cli.journal_path.read_bytes()
    with cli.journal_path.open("ab") as journal:
        journal.write(b'{"data":{},"kind":"archive"')  # an append in progress: not a line yet
    assert len(scan.cycles()) == 2
    cli.journal_path.write_bytes(whole[: whole.index(b"\n", whole.index(b'"kind":"archive"')) + 1])  # cut
    assert [c.cycle_id for c in scan.cycles()] == [c.cycle_id for c in read_cycles(cli.journal_path)]
    assert len(scan.cycles()) == 1


def test_a_replays_journal_gets_the_report_its_venue_fills_make(tmp_path: Path) -> None:
    """Replay runs the real engine against its own simulator and keeps that simulator's fills beside
    the journal: the report of the replay's journal is what those fills made."""
    candles, out = tmp_path / "eth.jsonl", tmp_path / "replay"
    synthetic.write(candles, seed=1, bar="15m", start_ms=1_735_689_600_000, bars=640)
    replay = ["replay", MACHINE, "--candles", str(candles), "--from", "2025-01-05", "--out", str(out)]
    assert CliRunner().invoke(app, replay, catch_exceptions=False).exit_code == 0
    report = ["report", MACHINE, "--state-dir", str(out), "--candles", str(candles), "--from", "2025-01-05"]
    report.append("--json")
    result = CliRunner().invoke(app, report, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    venue_fills = [json.loads(line) for line in (out / "venue_fills.jsonl").read_text().splitlines()]
    traded = [c for c in doc["cycles"] if c["fills"]]
    assert len(traded) >= 2, "the file's bars trade the ladder more than once"
    for cycle in doc["cycles"]:
        venue = venue_cycle(venue_fills, cycle["cycle_id"])
        assert {f["tradeId"] for f in cycle["fills"]} == venue["tradeIds"]
        assert (Decimal(cycle["realized_pnl"]), Decimal(cycle["fees"])) == (venue["pnl"], venue["fees"])
    assert Decimal(doc["summary"]["total_pnl"]) == sum(
        venue_cycle(venue_fills, c["cycle_id"])["pnl"] for c in traded
    )
    assert doc["buy_and_hold"]["first_ts"] == FROM_MS and doc["files"] == []  # the replay's range
