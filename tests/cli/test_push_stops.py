"""`okx-fsm run --push` with a stop working (issue 19): the orders-algo channel on the business URL wakes
the runner, so a stop cancelled by hand is replaced and a fired stop settled at its push, not at the next
full REST reconcile; a dropped business stream forces a REST sweep of the stops. The real CLI runs as a
process against the simulator; everything is judged from the simulator's algos, orders, fills, positions
and request counts.

The interval and the full-reconcile period are 600 s, ten times the ceiling any condition is waited for:
within a test only a push (or a reconnect) can start a tick.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest

from tests.cli.conftest import CEILING_S, Cli
from tests.cli.test_ladder_paths import exits, flat, wait_until
from tests.cli.test_stop_paths import (
    algos,
    archive,
    assert_every_fill_journaled_once,
    hold,
    own_size,
    stop_px,
)

pytestmark = pytest.mark.e2e
QUIET_S = "600"  # --interval and --push-reconcile: nothing but a push ticks within a test
ALGO_PENDING = "GET /api/v5/trade/orders-algo-pending"
BUSINESS = "/ws/v5/business"
RETRY_S = 30  # the shipped ladder's cancel_retry_seconds


def requests(h: Cli, key: str) -> int:
    return int(h.sim.stats()["requests"].get(key, 0))


def archived(h: Cli) -> bool:
    """Whether the journal holds the cycle's archive; read while the runner writes, so only whole lines."""
    text = h.journal_path.read_text()
    return any(json.loads(line)["kind"] == "archive" for line in text[: text.rfind("\n") + 1].splitlines())


def ws(h: Cli) -> dict[str, Any]:
    """The simulator's WebSocket settings and counters (connections, logins, drops, algos_pushed)."""
    return h.sim.set_ws_faults({})


def quiet_hold(h: Cli) -> None:
    """Filled under a working stop (ticked by hand), then exchange time past the retry interval: the stop
    is quiet, so no tick asks OKX about it unless something says it moved."""
    hold(h)
    h.sim.advance(RETRY_S + 5)


@contextmanager
def pushed_runner(h: Cli) -> Iterator[subprocess.Popen[str]]:
    """`okx-fsm run --submit --push` in a process of its own, returned once its first round is done with
    both streams up (orders and orders-algo); SIGINT at the end, and it must exit cleanly."""
    cmd = [
        sys.executable, "-c", "from fsm.cli.app import main; main()",
        "run", h.name, "--submit", "--push", "--interval", QUIET_S, "--push-reconcile", QUIET_S,
        "--ws-url", h.sim.ws_url, "--state-dir", str(h.state_dir),
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env={**os.environ, **h.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:

        def started() -> bool:
            assert proc.poll() is None, proc.communicate()
            runner = h.status()["runner"]
            return runner is not None and runner["push"] is not None and runner["push"]["connected"]

        wait_until(started, "the runner's first round with push connected")
        assert ws(h)["connections"] == 2  # the private stream and the business one
        yield proc
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=CEILING_S)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_stop_cancelled_by_hand_is_replaced_at_its_push(cli: Cli) -> None:
    h = cli
    quiet_hold(h)
    (first,) = algos(h)
    with pushed_runner(h):
        h.sim.user_cancel_algo(algo_client_order_id=first["algoClOrdId"])

        def replaced() -> bool:
            return any(a["state"] == "live" and a["algoClOrdId"] != first["algoClOrdId"] for a in algos(h))

        wait_until(replaced, "a new live stop of ours")
    old, new = algos(h)
    assert (old["algoClOrdId"], old["state"]) == (first["algoClOrdId"], "canceled")
    assert new["state"] == "live" and new["algoClOrdId"].endswith("s1")
    assert Decimal(new["sz"]) == own_size(h) and Decimal(new["slTriggerPx"]) == stop_px(h)
    (anomaly,) = [r["data"] for r in h.journal() if r["kind"] == "anomaly"]
    assert (anomaly["algoClOrdId"], anomaly["observation"]) == (first["algoClOrdId"], "stop_canceled_by_hand")
    ended = next(r["data"] for r in h.journal() if r["kind"] == "order" and r["data"].get("to") == "canceled")
    assert ended.get("source") == "push" and ended["evidence"]["state"] == "canceled"
    assert_every_fill_journaled_once(h)


def test_a_stop_fired_while_pushed_is_settled_at_its_push(cli: Cli) -> None:
    h = cli
    quiet_hold(h)
    sl = Decimal(algos(h)[0]["slTriggerPx"])
    with pushed_runner(h):
        h.sim.set_price(mark=str(sl - 5))  # the mark crosses the stop: OKX fires it
        wait_until(lambda: archived(h), "the cycle archived")
    assert archive(h)["exit_reason"] == "stop"
    (stop,) = algos(h)
    assert stop["state"] == "effective"
    (child_id,) = stop["ordIdList"]
    child = next(o for o in h.sim_orders() if o["ordId"] == child_id)
    assert (child["side"], child["state"], child["reduceOnly"]) == ("sell", "filled", "true")
    assert own_size(h) == 0 and flat(h) and exits(h) == []  # the stop's order closed it; no exit of ours
    assert_every_fill_journaled_once(h)


def test_a_dropped_business_stream_forces_a_rest_sweep_of_the_stops(cli: Cli) -> None:
    h = cli
    quiet_hold(h)
    with pushed_runner(h) as proc:
        swept, logins = requests(h, ALGO_PENDING), ws(h)["logins"]
        assert h.sim.set_ws_faults({"drop": BUSINESS})["drops"] == 1  # the private stream stays up
        wait_until(lambda: ws(h)["logins"] > logins, "the business stream logged in again")
        wait_until(lambda: requests(h, ALGO_PENDING) > swept, "the stops swept over REST")
        wait_until(lambda: h.status()["runner"]["push"]["reconnects"] == 1, "the sweep's tick done")
        assert proc.poll() is None and h.status()["runner"]["push"]["connected"]
        assert ws(h)["drops"] == 1 and ws(h)["connections"] == 2
    (stop,) = algos(h)
    assert stop["state"] == "live"  # nothing was missed: the sweep found it as it was
    assert "anomaly" not in h.kinds()
