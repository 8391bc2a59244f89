"""Replay/run parity: `okx-fsm replay` over a range of bars and `okx-fsm run` (the real runner, over
loopback HTTP) against a simulator scripted with the same bars' price paths make the same decisions.

The run side is scripted here: a simulator made as the replay makes its own (the same model: manual
clock, tape, fill model), each bar's path points traded in turn, and `okx-fsm run --ticks 1` after each
point and at each deadline its own state file holds (a runner ticking at least that often), the bar fed
once it closed. Then every journal record of the two (all kinds but the replay's own header) is compared:
the same kinds in the same order with the same data, signals, rungs, payloads, fills, fees and exits
exactly. Two things differ for a reason, and only within a bound:
- time: the runner knows exchange time as its local clock plus a measured offset (off by a few ms),
  ticks a beat (LAG_MS) after each instant, and stamps a send with the time it leaves, so its stamps and
  the deadlines derived from them (expTime, sent_ts, a cancel's retry) sit up to SLACK_MS after the
  replay's; the venue's own times (an order's cTime, a fill's) follow where its clock was moved to;
- the venue's names for what it made (ordId, billId, algoId) carry its clock: compared as a renaming,
  one to one for the whole journal, never as values.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import typer.testing
from typer.main import get_command
from typer.testing import CliRunner

from exchange.bars import bar_ms
from exchange.sim import Simulator
from fsm.cli.app import app
from fsm.engine.machine import load_machine
from fsm.engine.tick import read_state_unlocked
from fsm.replay import synthetic
from fsm.replay.candles import CandleFile
from fsm.replay.driver import MAX_TICKS_AT_ONCE, ReplayModel, deadlines, step_to
from fsm.replay.path import bar_path

pytestmark = pytest.mark.e2e

ETH_YAML = Path(__file__).resolve().parents[2] / "machines" / "eth_robust_twap_15m.yaml"
NAME = "parity_ladder"
# The shipped ladder with a short memory: a signal from the fifth bar on, two bars to fill, three to
# hold, so a few dozen bars hold several cycles (fills, a stop, exits, an expiry).
PARAMS = (
    "  signal: {provider: robust_twap, lookback_bars: 4, entry_filter: close_above_ref}\n"
    "  expiry_bars: 2\n  hold_bars: 3\n"
)
SEED, BARS = 29, 24  # two timed exits, a stop fired in the crash bar, entries that expired unfilled
START_MS = 1_735_689_600_000
LAG_MS = 100  # the runner ticks this long after each instant: under a second, so the market does not walk
SLACK_MS = 10_000  # how far a time of the run may sit after the replay's (lag, clock error, a slow send)
VENUE_NAMES = {"ordId": "order", "ordIdList": "order", "billId": "bill", "algoId": "algo"}  # key: kind


def machine_file(folder: Path) -> Path:
    shutil.copy(ETH_YAML, folder)
    path = folder / f"{NAME}.yaml"
    path.write_text(
        f"machine: {NAME}\nextends: {ETH_YAML.name}\nparams:\n  strategy_id: {NAME}\n"
        f"  client_order_id_prefix: prty\n  state_file: {NAME}_live.json\n{PARAMS}"
    )
    return path


def journal(folder: Path) -> list[dict[str, Any]]:
    """The journal's records, but the replay's header (what was replayed, and how)."""
    path = folder / f"{NAME}_live.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [r for r in map(json.loads, lines) if r["kind"] != "replay"]


def identity(folder: Path) -> dict[str, Any]:
    """The machine the journal belongs to, as its first record names it."""
    first: dict[str, Any] = json.loads((folder / f"{NAME}_live.jsonl").read_text().splitlines()[0])
    return dict(first["data"]["identity"])


def _stamped(record: dict[str, Any]) -> dict[str, Any]:
    """A record's data and time, without the identity the journal's first record carries."""
    return {"ts": record["ts"], **{k: v for k, v in record["data"].items() if k != "identity"}}


def replayed(machine: Path, candles: Path, out: Path) -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, ["replay", str(machine), "--candles", str(candles), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return journal(out)


def ran(machine: Path, candles: Path, state_dir: Path) -> tuple[list[dict[str, Any]], int]:
    """The same bars through `okx-fsm run --ticks 1`, ticked after every path point and at every
    deadline; the journal and the number of ticks."""
    model = ReplayModel()
    loaded = load_machine(str(machine), state_dir=state_dir)
    p = loaded.params
    span = bar_ms(p.bar)
    bars = list(CandleFile(candles, p.bar))
    ticks = 0
    with _served(model.simulator(bars[0].ts, p.bar, p.symbol)) as sim:
        env = {
            "OKX_API_KEY": sim.api_key,
            "OKX_API_SECRET": sim.secret_key,
            "OKX_API_PASSPHRASE": sim.passphrase,
            "OKX_BASE_URL": sim.base_url,
            "NO_COLOR": "1",
        }
        args = ["run", str(machine), "--submit", "--ticks", "1", "--dead-man", "0", "--yes"]

        def tick() -> None:
            """A beat after the instant, ticks until one journals nothing (as the replay does)."""
            nonlocal ticks
            sim.advance(Decimal(LAG_MS) / 1000)
            for _ in range(MAX_TICKS_AT_ONCE):
                before = len(journal(state_dir)) if ticks else 0
                result = CliRunner().invoke(app, [*args, "--state-dir", str(state_dir)], env=env)
                assert result.exit_code == 0, result.output
                assert "stopped after 1 tick(s)" in result.stdout, result.output
                ticks += 1
                if len(journal(state_dir)) == before:
                    return

        def due() -> list[int]:
            return deadlines(read_state_unlocked(loaded)[0], loaded)

        for candle in bars:
            for point in bar_path(candle, span, model.path_order, p.side):
                step_to(sim, point.ts, due, tick)
                sim.set_price(point.px, p.symbol)
                tick()
            step_to(sim, candle.ts + span, due, tick)
            sim.feed_bar([str(v) for v in candle.raw], p.symbol)
    return journal(state_dir), ticks


class _served:
    """A simulator served over loopback for the length of a with-block."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def __enter__(self) -> Simulator:
        return self.sim.start()

    def __exit__(self, *exc: object) -> None:
        self.sim.stop()


def differences(a: Any, b: Any, where: str, names: dict[str, dict[str, str]], key: str = "") -> Iterator[str]:
    """Where `b` (the run's) differs from `a` (the replay's) beyond time within SLACK_MS after it and
    the venue's names renamed one to one (`names`: each kind of name's renaming so far)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            yield f"{where}: keys {sorted(a.keys() ^ b.keys())}"
            return
        for k in a:
            yield from differences(a[k], b[k], f"{where}.{k}", names, k)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{where}: {len(a)} items against {len(b)}"
            return
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from differences(x, y, f"{where}[{i}]", names, key)
    elif key in VENUE_NAMES:
        renamed = names.setdefault(VENUE_NAMES[key], {})
        if renamed.setdefault(str(a), str(b)) != str(b) or list(renamed.values()).count(str(b)) > 1:
            yield f"{where}: {a} is named {b} by the run, not one to one"
    elif _is_time(key) and _number(a) is not None and _number(b) is not None:
        if not 0 <= _number(b) - _number(a) <= SLACK_MS:  # type: ignore[operator]
            yield f"{where}: {a} against {b}"
    elif a != b:
        yield f"{where}: {a!r} against {b!r}"


def _is_time(key: str) -> bool:
    return key in {"ts", "expTime", "exp_time_ms"} or key.endswith(("_ts", "Time"))


def _number(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def test_replay_and_run_make_the_same_decisions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = get_command(app)
    monkeypatch.setattr(typer.testing, "_get_command", lambda _: built)  # built once, not per tick
    candles = tmp_path / "bars.jsonl"
    synthetic.write(candles, SEED, "15m", START_MS, BARS)
    machine = machine_file(tmp_path)
    replay = replayed(machine, candles, tmp_path / "replay")
    run, ticks = ran(machine, candles, tmp_path / "run")

    kinds = [r["kind"] for r in replay]
    # the range holds what parity is about: signals, fills, a stop, exits, more than one cycle
    for kind, at_least in (("intent", 2), ("submit", 3), ("fill", 3), ("archive", 2)):
        assert kinds.count(kind) >= at_least, (kind, kinds.count(kind))
    assert {"timed", "stop"} <= {r["data"]["exit_reason"] for r in replay if r["kind"] == "archive"}
    assert ticks > len(replay) // 2  # the run side ticked through the range, not once
    assert [r["kind"] for r in run] == kinds
    assert identity(tmp_path / "run") == identity(tmp_path / "replay")
    names: dict[str, dict[str, str]] = {}
    found = [
        d
        for i, (a, b) in enumerate(zip(replay, run, strict=True))
        for d in differences(_stamped(a), _stamped(b), f"#{i} {a['kind']}", names)
    ]
    assert found == [], "\n".join(found)
