"""`okx-fsm replay` through the real CLI over a seeded synthetic file: the journal verifies and is
byte-identical run to run, gaps are crossed, every fill is the simulator's own and obeys the fill model
against the file's bars, and bad input (a bad line, another bar, a bad --set) is one line, exit 2,
nothing written."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from exchange.bars import bar_ms
from fsm.cli.app import app
from fsm.replay import synthetic
from fsm.replay.driver import VENUE_FILLS

MACHINE = "eth_robust_twap_15m"
BARS = 300  # three days and some of 15m bars: a gap, a crash bar, a few cycles
START_MS = 1_735_689_600_000
SPAN = bar_ms("15m")
JOURNAL = f"{MACHINE}_live.jsonl"


def run(*args: str, expect: int = 0) -> Any:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == expect, f"okx-fsm {' '.join(args)} -> {result.exit_code}\n{result.output}"
    return result


@pytest.fixture(scope="module")
def candles(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, synthetic.Shape]:
    path = tmp_path_factory.mktemp("candles") / "week.jsonl"
    return path, synthetic.write(path, 5, "15m", START_MS, BARS)


@pytest.fixture(scope="module")
def replayed(candles: tuple[Path, synthetic.Shape], tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The same replay twice, into two directories."""
    outs = [tmp_path_factory.mktemp("replay") / name for name in ("a", "b")]
    for out in outs:
        run("replay", MACHINE, "--candles", str(candles[0]), "--out", str(out), "--json")
    return outs


def records(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / JOURNAL).read_text().splitlines()]


def test_the_journal_verifies_and_is_byte_identical(replayed: list[Path]) -> None:
    a, b = replayed
    assert (a / JOURNAL).read_bytes() == (b / JOURNAL).read_bytes()
    run("verify-log", MACHINE, "--state-dir", str(a))
    first = records(a)[0]
    assert first["kind"] == "replay"
    assert first["data"]["model"]["fsync"] is False and first["data"]["model"]["fill_on_touch"] is False


def test_the_data_forces_no_anomaly(candles: tuple[Path, synthetic.Shape], replayed: list[Path]) -> None:
    """The range holds a gap and a crash bar; neither forces an anomaly (the full synthetic year is
    checked in bench.replay): any anomaly here is the engine's or the replay's own."""
    shape = candles[1]
    assert shape.gaps and shape.crash_ts is not None
    journal = records(replayed[0])
    assert [r["data"] for r in journal if r["kind"] == "anomaly"] == []
    assert sum(1 for r in journal if r["kind"] == "archive") > 1


def test_the_report_is_written_beside_the_journal_and_is_byte_identical(replayed: list[Path]) -> None:
    a, b = replayed
    assert (a / "report.json").read_bytes() == (b / "report.json").read_bytes()
    report = json.loads((a / "report.json").read_text())
    assert report["journal"] == JOURNAL and "report.json" in report["files"]
    archived = [r["data"] for r in records(a) if r["kind"] == "archive"]
    assert report["summary"]["cycles"] == len(archived) > 0
    assert report["buy_and_hold"] is not None  # the replay's own candles price it


def test_gaps_are_crossed_and_cycles_run(candles: tuple[Path, synthetic.Shape], tmp_path: Path) -> None:
    path, shape = candles
    doc = json.loads(
        run("replay", MACHINE, "--candles", str(path), "--out", str(tmp_path / "o"), "--json").stdout
    )
    assert doc["bars"] == shape.rows
    assert [(g["after_ts"], g["next_ts"]) for g in doc["gaps"]] == shape.gaps and shape.gaps
    assert doc["last_ts"] == START_MS + (BARS - 1) * SPAN or doc["last_ts"] > shape.gaps[-1][1]
    assert doc["cycles"] > 0 and doc["fills"] > 0
    # no record is stamped inside a gap but the deadlines' ticks: the price never moved there
    for after, following in shape.gaps:
        inside = [
            r for r in records(tmp_path / "o") if after + SPAN < r["ts"] < following and r["kind"] == "fill"
        ]
        assert inside == []


def test_fills_are_the_simulators_and_obey_the_fill_model(
    candles: tuple[Path, synthetic.Shape], replayed: list[Path]
) -> None:
    out = replayed[0]
    venue = [json.loads(line) for line in (out / VENUE_FILLS).read_text().splitlines()]
    journaled = {r["data"]["tradeId"]: r["data"]["evidence"] for r in records(out) if r["kind"] == "fill"}
    assert venue and {f["tradeId"] for f in venue} == set(journaled)
    for fill in venue:
        assert journaled[fill["tradeId"]]["fillPx"] == fill["fillPx"]
        assert journaled[fill["tradeId"]]["fillSz"] == fill["fillSz"]
    bars = {int(row[0]): row for row in map(json.loads, candles[0].read_text().splitlines())}
    for fill in venue:
        t, px = int(fill["ts"]), Decimal(fill["fillPx"])
        # the bar the fill's instant falls in, and the one it closes (a fill at a boundary)
        near = [bars[ts] for ts in (t - t % SPAN, t - t % SPAN - SPAN) if ts in bars and ts <= t <= ts + SPAN]
        assert near, f"fill {fill['tradeId']} at {t} outside every bar of the file"
        low, high = min(Decimal(b[3]) for b in near), max(Decimal(b[2]) for b in near)
        if (
            fill["execType"] == "M"
        ):  # a resting post-only buy: the path traded below it, a touch is not enough
            assert fill["side"] == "buy" and low < px, fill
        else:  # a market exit or stop: a path price, 3 bp of slippage against it
            assert fill["side"] == "sell" and low * Decimal("0.9997") - Decimal("0.01") <= px <= high, fill


def test_a_set_changes_the_params_and_is_journaled(
    candles: tuple[Path, synthetic.Shape], tmp_path: Path
) -> None:
    offsets = '["0.002","0.004","0.006"]'
    run("replay", MACHINE, "--candles", str(candles[0]), "--out", str(tmp_path), "--to", "2025-01-02",
        "--set", f"offsets={offsets}", "--json")  # fmt: skip
    journal = records(tmp_path)
    assert journal[0]["data"]["overrides"] == [f"offsets={offsets}"]
    assert max(r["ts"] for r in journal) < 1_735_776_000_000
    intents = [r["data"] for r in journal if r["kind"] == "intent"]
    assert intents
    for intent in intents:  # the rungs sit at the overridden offsets below the reference, on the tick
        ref = Decimal(intent["signal"]["ref_px"])
        wanted = [
            (ref * (1 - Decimal(o))).quantize(Decimal("0.01"), "ROUND_DOWN") for o in json.loads(offsets)
        ]
        assert [Decimal(p["px"]) for p in intent["payloads"]] == wanted


@pytest.mark.parametrize(
    ("mutate", "said"),
    [
        (lambda lines: [*lines[:6], '["x"]\n', *lines[7:]], "line 7: malformed row"),
        (lambda lines: [*lines[:9], lines[8], *lines[10:]], "line 10: duplicate timestamp"),
        (lambda lines: [*lines[:4], lines[5], lines[4], *lines[6:]], "line 6: timestamp"),
    ],
)
def test_a_bad_file_is_refused_naming_the_line(
    candles: tuple[Path, synthetic.Shape], tmp_path: Path, mutate: Any, said: str
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(mutate(candles[0].read_text().splitlines(keepends=True))))
    result = run("replay", MACHINE, "--candles", str(bad), "--out", str(tmp_path / "o"), expect=2)
    assert said in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_a_file_of_another_bar_is_refused(tmp_path: Path) -> None:
    five = tmp_path / "five.jsonl"
    synthetic.write(five, 1, "5m", START_MS, 60)
    result = run("replay", MACHINE, "--candles", str(five), "--out", str(tmp_path / "o"), expect=2)
    assert "line 2" in result.output and "15m" in result.output


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ('offsets=["x"]', "offsets"),
        ("hold_bars=-3", "hold_bars"),
        ("no_such_param=1", "no_such_param"),
        ("offsets", "PARAM=VALUE"),
    ],
)
def test_a_bad_set_is_refused_naming_the_param(
    candles: tuple[Path, synthetic.Shape], tmp_path: Path, setting: str, said: str
) -> None:
    args = ("replay", MACHINE, "--candles", str(candles[0]), "--out", str(tmp_path / "o"), "--set", setting)
    result = run(*args, expect=2)
    assert said in result.output and "--set" in result.output
    assert not (tmp_path / "o").exists()


# ---- funding ---------------------------------------------------------------------------------------

EIGHT_HOURS = 8 * 3_600_000


def funding_rows(start_ms: int, end_ms: int, rate: str) -> list[dict[str, str]]:
    """OKX's funding-rate-history rows at every 00:00, 08:00, 16:00 UTC in [start, end), oldest first."""
    first = -(-start_ms // EIGHT_HOURS) * EIGHT_HOURS
    return [
        {"instType": "SWAP", "instId": "ETH-USDT-SWAP", "fundingRate": rate, "realizedRate": rate,
         "fundingTime": str(t), "method": "current_period", "formulaType": "withRate"}
        for t in range(first, end_ms, EIGHT_HOURS)
    ]  # fmt: skip


def test_funding_is_charged_to_the_open_position_and_the_report_says_so(
    candles: tuple[Path, synthetic.Shape], replayed: list[Path], tmp_path: Path
) -> None:
    rows = funding_rows(START_MS, START_MS + BARS * SPAN, "0.0003")
    funding = tmp_path / "funding.jsonl"
    funding.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "o"
    doc = json.loads(
        run("replay", MACHINE, "--candles", str(candles[0]), "--out", str(out), "--funding", str(funding),
            "--json").stdout
    )  # fmt: skip
    assert doc["model"]["funding"] == {"file": str(funding), "rates": len(rows)}
    bills = [json.loads(line) for line in (out / "venue_bills.jsonl").read_text().splitlines()]
    fills = [json.loads(line) for line in (out / VENUE_FILLS).read_text().splitlines()]
    held_at = {  # our size at each funding time, from the venue's own fills
        int(r["fundingTime"]): sum(
            (
                Decimal(f["fillSz"]) * (1 if f["side"] == "buy" else -1)
                for f in fills
                if int(f["ts"]) < int(r["fundingTime"])  # held as the time came
            ),
            Decimal(0),
        )
        for r in rows
    }
    charged = {int(b["ts"]): b for b in bills}
    assert set(charged) == {t for t, size in held_at.items() if size > 0} and charged  # only while held
    for t, bill in charged.items():
        assert (bill["type"], bill["subType"], bill["ccy"]) == (
            "8",
            "173",
            "USDT",
        )  # a long pays a positive rate
        assert Decimal(bill["sz"]) == held_at[t]
        assert Decimal(bill["balChg"]) == -Decimal(bill["sz"]) * Decimal("0.1") * Decimal(
            bill["px"]
        ) * Decimal("0.0003")
    total = sum((Decimal(b["balChg"]) for b in bills), Decimal(0))
    said = doc["report"]["funding"]
    assert (said["applied"], said["source"], said["charges"]) == (True, "venue_bills.jsonl", len(bills))
    assert Decimal(said["total"]) == total < 0
    # the ladder decides the same with funding as without: funding moves cash, not a guard (a fill in
    # the millisecond of a funding bill gets the venue's next billId, the bill took the one before)
    assert decisions(out) == decisions(replayed[0])


def decisions(out: Path) -> list[Any]:
    kinds = ("intent", "submit", "cancel", "fill", "archive")
    return [(r["kind"], r["ts"], _without_bill_ids(r["data"])) for r in records(out) if r["kind"] in kinds]


def _without_bill_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_bill_ids(v) for k, v in value.items() if k != "billId"}
    if isinstance(value, list):
        return [_without_bill_ids(v) for v in value]
    return value


def test_funding_is_off_without_a_file_and_the_report_says_so(replayed: list[Path]) -> None:
    first = records(replayed[0])[0]
    assert first["data"]["model"]["funding"] is None
    report = json.loads((replayed[0] / "report.json").read_text())
    assert report["funding"] == {"applied": False, "source": "venue_bills.jsonl", "charges": 0, "total": "0"}


@pytest.mark.parametrize(
    ("mutate", "said"),
    [
        (lambda rows: [*rows[:2], "not json\n", *rows[3:]], "line 3: malformed row"),
        (lambda rows: [*rows[:3], rows[2], *rows[4:]], "line 4: duplicate fundingTime"),
        (
            lambda rows: [rows[0], rows[1].replace("ETH-USDT-SWAP", "BTC-USDT-SWAP"), *rows[2:]],
            "line 2: instId",
        ),
        (lambda rows: [*rows[:4], rows[4].replace('"0.0001"', '"x"'), *rows[5:]], "line 5: rate"),
    ],
)
def test_a_bad_funding_file_is_refused_naming_the_line(
    candles: tuple[Path, synthetic.Shape], tmp_path: Path, mutate: Any, said: str
) -> None:
    lines = [json.dumps(r) + "\n" for r in funding_rows(START_MS, START_MS + BARS * SPAN, "0.0001")]
    bad = tmp_path / "funding.jsonl"
    bad.write_text("".join(mutate(lines)))
    args = (
        "replay",
        MACHINE,
        "--candles",
        str(candles[0]),
        "--out",
        str(tmp_path / "o"),
        "--funding",
        str(bad),
    )
    result = run(*args, expect=2)
    assert said in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert not (tmp_path / "o").exists()
