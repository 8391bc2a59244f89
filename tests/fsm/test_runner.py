"""The runner as a service, against the simulator on a fake clock: outages and 429 storms are ridden
out with backoff, what cannot heal parks one machine while the others keep ticking."""

from __future__ import annotations

import http.server
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest

from exchange import OkxClient
from exchange.sim import Simulator
from fsm.persist import spool
from fsm.risk.ledger import account_path
from fsm.service.heartbeat import Heartbeat, heartbeat_path
from fsm.service.notify import Notifier
from fsm.service.runner import Runner, RunOptions
from fsm.spec.limits import load_limits

MACHINE = "eth_robust_twap_15m"
LADDER = Path(__file__).resolve().parents[2] / "machines" / f"{MACHINE}.yaml"


class FakeTime:
    """The runner's and the client's clock: sleeping only moves it (and may run a scripted event)."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []
        self.on_sleep: Callable[[], None] | None = None

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep()


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=7, clock="manual", start_px="3000", rate_limits=False) as simulator:
        yield simulator


def runner_for(
    sim: Simulator,
    tmp_path: Path,
    names: list[str],
    rounds: int,
    *,
    secret: str | None = None,
    submit: bool = False,
    wall: Callable[[], float] = time.time,
) -> tuple[Runner, FakeTime]:
    """A runner on a fake clock (armed with `submit`), its client's waits on the same clock; `wall` is
    the client's wall clock (what it signs with)."""
    timer = FakeTime()
    client = OkxClient(
        sim.api_key,
        secret or sim.secret_key,
        sim.passphrase,
        base_url=sim.base_url,
        demo=True,
        armed=submit,
        clock=wall,
        monotonic=timer.monotonic,
        sleep=timer.sleep,
    )
    # The simulator's clock is manual (it moves only when a test advances it), so exchange time is
    # measured every round instead of estimated from the local clock.
    options = RunOptions(submit=submit, interval_s=10.0, ticks=rounds, time_sync_s=0)
    runner = Runner(
        names,
        tmp_path / "state",
        client,
        options,
        clock=timer.monotonic,
        wall=timer.monotonic,
        sleep=timer.sleep,
    )
    return runner, timer


def beat(tmp_path: Path, state_file: str = f"{MACHINE}_live.json") -> Heartbeat:
    found = Heartbeat.read(heartbeat_path(tmp_path / "state" / state_file))
    assert found is not None
    return found


def broken_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(
        LADDER.read_text()
        .replace("dest: filled", "dest: filed", 1)
        .replace(f"machine: {MACHINE}", "machine: broken")
    )
    return path


@pytest.mark.parametrize("fault", ["http_503", "burst_429"])
def test_an_outage_is_ridden_out_with_backoff_and_the_next_tick_reconciles(
    sim: Simulator, tmp_path: Path, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    sim.set_faults([{"endpoint": "*", "kind": fault, "count": 20}])  # every request fails for a while
    runner, _ = runner_for(sim, tmp_path, [MACHINE], rounds=8)
    with caplog.at_level(logging.INFO, logger="okx_fsm"):
        assert runner.run() == 8
    final = beat(tmp_path)
    assert final.last_result == "ok" and final.consecutive_failures == 0 and final.parked is None
    messages = [r.getMessage() for r in caplog.records]
    failed = [m for m in messages if "tick failed" in m]
    assert failed and any("recovered after" in m for m in messages)
    waits = [float(m.split("next try in ")[1].split(" s")[0]) for m in failed]
    assert waits == sorted(waits) and waits[0] == 20.0  # 10 s doubled per failure in a row
    assert sim.stats()["faults"][fault] == 20


def test_a_broken_yaml_parks_that_machine_and_the_healthy_one_keeps_ticking(
    sim: Simulator, tmp_path: Path
) -> None:
    runner, _ = runner_for(sim, tmp_path, [str(broken_yaml(tmp_path)), MACHINE], rounds=3)
    assert runner.run() == 3
    broken, healthy = runner.slots
    assert broken.parked and "unknown state 'filed'" in (broken.beat.parked or "")
    assert healthy.beat.last_result == "ok" and not healthy.parked
    assert sim.stats()["requests"]["GET /api/v5/public/time"] >= 3


def test_a_refused_state_parks_that_machine_and_leaves_its_files_as_they_were(
    sim: Simulator, tmp_path: Path
) -> None:
    twin = tmp_path / "twin.yaml"
    twin.write_text(
        LADDER.read_text()
        .replace(f"machine: {MACHINE}", "machine: twin")
        .replace(f"strategy_id: {MACHINE}", "strategy_id: twin")
        .replace("client_order_id_prefix: ertw", "client_order_id_prefix: ertt")
        .replace(f"state_file: {MACHINE}_live.json", "state_file: twin.json")
    )
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    (state_dir / "twin.json").write_text("{not json")
    runner, _ = runner_for(sim, tmp_path, [str(twin), MACHINE], rounds=2)
    runner.run()
    assert runner.slots[0].parked and "StateCorrupt" in (runner.slots[0].beat.parked or "")
    assert (state_dir / "twin.json").read_text() == "{not json"
    assert beat(tmp_path).last_result == "ok"


def test_refused_credentials_park_instead_of_retrying_forever(sim: Simulator, tmp_path: Path) -> None:
    sim.set_price("3010")
    sim.advance(900)  # a signal: the intent reads the account's modes, a signed request
    runner, _ = runner_for(sim, tmp_path, [MACHINE], rounds=3, secret="0" * 32)
    runner.run()
    assert runner.slots[0].parked and "OkxAuthError" in (runner.slots[0].beat.parked or "")


class JumpingClock:
    """A wall clock that leaps 100 s at each of its first `jumps` readings (a clock being stepped), then
    keeps time: a timestamp measured and then signed a reading later is refused, re-measuring too."""

    def __init__(self, jumps: int) -> None:
        self.jumps, self.skew = jumps, 0.0

    def __call__(self) -> float:
        if self.jumps:
            self.jumps -= 1
            self.skew += 100.0
        return time.time() + self.skew


def test_a_refused_timestamp_backs_off_and_heals_instead_of_parking(
    sim: Simulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim.set_price("3010")
    sim.advance(900)  # a signal: the intent reads the account's modes, a signed request
    runner, _ = runner_for(sim, tmp_path, [MACHINE], rounds=3, wall=JumpingClock(jumps=6))
    with caplog.at_level(logging.INFO, logger="okx_fsm"):
        runner.run()
    failed = [r.getMessage() for r in caplog.records if "tick failed" in r.getMessage()]
    assert failed and "OkxTimestampError" in failed[0]  # 50102 even after the client re-measured
    assert not runner.slots[0].parked and beat(tmp_path).last_result == "ok"


def test_a_nudge_while_a_round_ticks_is_not_undone_by_that_round(sim: Simulator, tmp_path: Path) -> None:
    timer = FakeTime()
    client = OkxClient(
        sim.api_key, sim.secret_key, sim.passphrase, base_url=sim.base_url, monotonic=timer.monotonic
    )
    nudged: list[float] = []

    def wall() -> float:  # read as the first tick starts: the nudge lands while that round ticks
        if not nudged:
            nudged.append(timer.now)
            runner.wake_all()
        return timer.now

    options = RunOptions(submit=False, interval_s=10.0, ticks=2, time_sync_s=0)
    runner = Runner(
        [MACHINE], tmp_path / "state", client, options, clock=timer.monotonic, wall=wall, sleep=timer.sleep
    )
    assert runner.run() == 2
    assert nudged and sum(timer.slept) < 1.0  # the second round came at once, not an interval later


def test_every_machine_parked_means_no_rounds(sim: Simulator, tmp_path: Path) -> None:
    runner, _ = runner_for(sim, tmp_path, [str(broken_yaml(tmp_path))], rounds=3)
    assert runner.run() == 0


def test_the_heartbeat_records_time_duration_result_and_failures(sim: Simulator, tmp_path: Path) -> None:
    runner, timer = runner_for(sim, tmp_path, [MACHINE], rounds=2)
    runner.run()
    raw = json.loads(heartbeat_path(tmp_path / "state" / f"{MACHINE}_live.json").read_text())
    assert {"last_tick_wall_s", "last_duration_s", "last_result", "consecutive_failures", "parked"} <= set(
        raw
    )
    assert raw["last_tick_wall_s"] <= timer.now and raw["interval_s"] == 10.0


def test_a_stop_marks_the_heartbeat_stopped_and_names_the_requests_left_queued(
    sim: Simulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state_path = tmp_path / "state" / f"{MACHINE}_live.json"
    runner, timer = runner_for(sim, tmp_path, [MACHINE], rounds=0)  # until stopped
    left: list[spool.OperatorRequest] = []

    def queue_then_stop() -> None:  # a request arrives while the runner waits, then the operator stops it
        if not left:
            left.append(spool.enqueue(state_path, "resume"))
            runner.request_stop()

    timer.on_sleep = queue_then_stop
    with caplog.at_level(logging.INFO, logger="okx_fsm"):
        assert runner.run() == 1
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        f"1 operator request(s) still queued, not carried out: resume ({left[0].id})" in m for m in warned
    )
    assert [r.id for _, r in spool.pending(state_path)] == [left[0].id]  # left for the next runner
    assert beat(tmp_path).stopped_wall_s is not None and beat(tmp_path).last_result == "ok"


# ---- control while running ------------------------------------------------------------------------


def armed_runner(sim: Simulator, tmp_path: Path, rounds: int) -> Runner:
    return runner_for(sim, tmp_path, [MACHINE], rounds, submit=True)[0]


def operator_records(tmp_path: Path) -> list[dict[str, Any]]:
    journal = tmp_path / "state" / f"{MACHINE}_live.jsonl"
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    return [r["data"] for r in records if r["kind"] == "operator"]


def state_of(tmp_path: Path) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((tmp_path / "state" / f"{MACHINE}_live.json").read_text())["snapshot"]
    return raw


def signal(sim: Simulator) -> None:
    sim.set_price(str(Decimal(sim.state()["px"]) + 10))
    sim.advance(900)


def test_a_queued_flatten_is_carried_out_once_on_the_next_tick(sim: Simulator, tmp_path: Path) -> None:
    signal(sim)
    armed_runner(sim, tmp_path, 1).run()
    assert state_of(tmp_path)["state"] == "entries_open"
    request = spool.enqueue(tmp_path / "state" / f"{MACHINE}_live.json", "flatten")
    armed_runner(sim, tmp_path, 1).run()
    assert state_of(tmp_path)["state"] == "cancelling"
    sim.advance(5)
    armed_runner(sim, tmp_path, 2).run()
    assert state_of(tmp_path)["state"] in ("closed", "idle")
    ours = [o for o in sim.state()["orders"] if o["clOrdId"].startswith("ertw")]
    assert len(ours) == 3 and {o["state"] for o in ours} == {"canceled"}
    done = [r for r in operator_records(tmp_path) if r.get("id") == request.id]
    assert len(done) == 1 and done[0]["outcome"].startswith("flatten requested")
    assert spool.pending(tmp_path / "state" / f"{MACHINE}_live.json") == []
    if state_of(tmp_path)["state"] != "idle":
        armed_runner(sim, tmp_path, 1).run()
    assert state_of(tmp_path)["state"] == "idle"
    signal(sim)  # a flattened machine stays paused: the next candle starts no cycle
    armed_runner(sim, tmp_path, 2).run()
    assert state_of(tmp_path)["state"] == "idle" and state_of(tmp_path)["paused"] is True
    assert len([o for o in sim.state()["orders"] if o["clOrdId"].startswith("ertw")]) == 3


def test_a_queued_flatten_with_no_cycle_in_flight_journals_that_and_changes_nothing(
    sim: Simulator, tmp_path: Path
) -> None:
    state_path = tmp_path / "state" / f"{MACHINE}_live.json"
    armed_runner(sim, tmp_path, 1).run()  # a state exists, idle
    spool.enqueue(state_path, "flatten")
    armed_runner(sim, tmp_path, 1).run()
    [record] = operator_records(tmp_path)
    assert record["outcome"].startswith(f"{MACHINE} is in idle with no cycle in flight: nothing to flatten")
    assert state_of(tmp_path)["paused"] is False and state_of(tmp_path)["flatten_requested"] is False


def test_pause_stops_new_cycles_and_resume_lets_them_start(sim: Simulator, tmp_path: Path) -> None:
    state_path = tmp_path / "state" / f"{MACHINE}_live.json"
    armed_runner(sim, tmp_path, 1).run()  # a state exists, idle
    spool.enqueue(state_path, "pause")
    signal(sim)
    armed_runner(sim, tmp_path, 1).run()
    assert state_of(tmp_path)["state"] == "idle" and state_of(tmp_path)["paused"] is True
    spool.enqueue(state_path, "resume")  # a signal seen while paused is spent: the next one starts a cycle
    signal(sim)
    armed_runner(sim, tmp_path, 1).run()
    assert state_of(tmp_path)["state"] == "entries_open" and state_of(tmp_path)["paused"] is False
    assert [r["command"] for r in operator_records(tmp_path)] == ["pause", "resume"]


def test_a_read_only_runner_refuses_what_would_send_and_journals_why(sim: Simulator, tmp_path: Path) -> None:
    state_path = tmp_path / "state" / f"{MACHINE}_live.json"
    runner, _ = runner_for(sim, tmp_path, [MACHINE], rounds=1)
    runner.run()
    spool.enqueue(state_path, "close")
    runner, _ = runner_for(sim, tmp_path, [MACHINE], rounds=1)
    runner.run()
    [record] = operator_records(tmp_path)
    assert record["command"] == "close" and "read-only" in record["outcome"]
    assert spool.pending(state_path) == []


# ---- notifications ------------------------------------------------------------------------------------


class Hook(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""


@pytest.fixture
def webhook() -> Iterator[str]:
    Hook.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_fills_parking_and_the_stop_are_posted_to_the_webhook(
    sim: Simulator, tmp_path: Path, webhook: str
) -> None:
    notifier = Notifier(webhook)
    signal(sim)
    runner = armed_runner(sim, tmp_path, 1)
    runner.options.notify = notifier
    runner.run()  # entries open
    rung_px = min(Decimal(o["px"]) for o in sim.state()["orders"])
    sim.set_price(str(rung_px - 3))
    sim.advance(5)
    runner = armed_runner(sim, tmp_path, 1)
    runner.options.notify = notifier
    runner.run()
    broken, _ = runner_for(sim, tmp_path, [str(broken_yaml(tmp_path))], rounds=1)
    broken.options.notify = notifier
    broken.run()
    notifier.close()
    events = [(e["machine"], e["event"]) for e in Hook.received]
    assert (
        (MACHINE, "fill") in events
        and ("*", "stopped") in events
        and ("broken.yaml", "parked") in [(Path(m).name, ev) for m, ev in events]
    )


def test_a_stop_that_okx_fired_is_posted_to_the_webhook(sim: Simulator, tmp_path: Path, webhook: str) -> None:
    notifier = Notifier(webhook)
    signal(sim)
    armed_runner(sim, tmp_path, 1).run()  # entries open
    sim.set_price(str(min(Decimal(o["px"]) for o in sim.state()["orders"]) - 3))
    sim.advance(5)
    armed_runner(sim, tmp_path, 1).run()  # filled, the stop placed
    [stop] = sim.state()["algos"]
    sim.set_price(mark=str(Decimal(stop["slTriggerPx"]) - 5))  # OKX fires it
    runner = armed_runner(sim, tmp_path, 1)
    runner.options.notify = notifier
    runner.run()
    notifier.close()
    fired = [e for e in Hook.received if e["event"] == "stop_triggered"]
    assert [(e["machine"], stop["algoClOrdId"] in e["detail"]) for e in fired] == [(MACHINE, True)]


def test_a_dead_webhook_is_logged_and_never_blocks(
    sim: Simulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier("http://127.0.0.1:9/nothing-listens")
    with caplog.at_level(logging.WARNING, logger="okx_fsm"):
        notifier.send(MACHINE, "fill", "x")
        notifier.close()
    assert any("notify" in r.getMessage() and "failed" in r.getMessage() for r in caplog.records)


def test_entries_the_hard_limits_refuse_are_posted_to_the_webhook_and_never_sent(
    sim: Simulator, tmp_path: Path, webhook: str
) -> None:
    limits = tmp_path / "limits.yaml"
    limits.write_text('account:\n  max_order_notional: "50"\n')
    notifier = Notifier(webhook)
    signal(sim)
    runner = armed_runner(sim, tmp_path, 1)
    runner.options.notify, runner.options.limits = notifier, load_limits(limits)
    runner.run()
    notifier.close()

    risk = [e for e in Hook.received if e["event"] == "risk"]
    assert [e["machine"] for e in risk] == [MACHINE]
    assert risk[0]["detail"].startswith(
        "refused by the hard limits: max_order_notional 50: eth_robust_twap_15m entries"
    )
    assert sim.state()["orders"] == []


def test_entries_the_trading_state_refuses_are_posted_with_what_set_it(
    sim: Simulator, tmp_path: Path, webhook: str
) -> None:
    runner = armed_runner(sim, tmp_path, 1)
    spool.enqueue(account_path(runner.state_dir), "reduce", commands=spool.ACCOUNT_COMMANDS)
    notifier = Notifier(webhook)
    signal(sim)
    runner.options.notify = notifier
    runner.run()
    notifier.close()

    risk = [e["detail"] for e in Hook.received if e["event"] == "risk"]
    assert len(risk) == 1 and risk[0].startswith(
        "refused by the hard limits: reducing: operator reduce: eth_robust_twap_15m entries ertw"
    )
    assert sim.state()["orders"] == []
