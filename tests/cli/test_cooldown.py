"""The cooldown after losing cycles in a row (the limits' cooldown_after_losses), end to end: a cycle that
lost on the venue starts it (journaled), a signal during it starts no cycle, one after it does; `check`
and `status` show it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.cli.conftest import BAR_S, Cli


def lose_a_cycle(h: Cli) -> None:
    """Fill the ladder, let the market fall 1 %, close at market: the cycle's realized PnL is a loss."""
    doc = h.filled()
    h.sim.set_price(str((Decimal(doc["rungs"][2]["px"]) * Decimal("0.99")).quantize(Decimal("0.01"))))
    h.sim.advance(1)
    h.machine("close", "--submit")
    for _ in range(3):
        if h.tick(submit=True)["state"] == "closed":
            break
        h.sim.advance(1)
    assert h.status()["state"] == "closed"
    h.sim.set_price(
        str(Decimal(doc["signal"]["ref_px"]).quantize(Decimal("0.01")) + 50)
    )  # above the reference again


def test_a_losing_cycle_starts_a_cooldown_that_holds_back_the_next_signal(cli: Cli, tmp_path: Path) -> None:
    h = cli
    limits = tmp_path / "limits.yaml"
    limits.write_text("machine:\n  cooldown_after_losses: {count: 1, bars: 3}\n")
    h.env["OKX_FSM_LIMITS"] = str(limits)
    lose_a_cycle(h)

    [archive] = [r for r in h.journal() if r["kind"] == "archive"]
    assert Decimal(archive["data"]["summary"]["realized_pnl"]) < 0
    [cooldown] = [r for r in h.journal() if r["kind"] == "cooldown"]
    assert cooldown["seq"] > archive["seq"]
    assert cooldown["data"]["losses_in_a_row"] == 1 and cooldown["data"]["bars"] == 3
    until = cooldown["data"]["until_ts"]
    assert 3 * BAR_S * 1000 < until - h.sim.state()["clock_ms"] <= 4 * BAR_S * 1000  # 3 candles to close

    assert h.tick(submit=True)["state"] == "idle"
    h.signal()  # a signal within the cooldown
    doc = h.tick(submit=True)
    assert doc["state"] == "idle" and doc["cooldown_until_ts"] == until
    assert "no cycle starts before" in h.machine("status").stdout
    posts = h.posts()
    for _ in range(2):  # the second and third candles of the cooldown: nothing starts
        h.signal()
        assert h.tick(submit=True)["state"] == "idle"
    h.signal()  # the first candle that closes after the cooldown
    assert h.sim.state()["clock_ms"] >= until
    doc = h.tick(submit=True)
    assert doc["state"] == "entries_open" and doc["cooldown_until_ts"] is None
    assert h.posts() > posts
    h.verify_log()


def test_without_a_cooldown_a_losing_cycle_is_only_counted(cli: Cli) -> None:
    h = cli
    lose_a_cycle(h)
    assert "cooldown" not in h.kinds()
    assert h.status()["losses_in_a_row"] == 1
    assert h.tick(submit=True)["state"] == "idle"
    h.signal()
    assert h.tick(submit=True)["state"] == "entries_open"


def test_check_and_diagram_show_the_cooldown(cli: Cli, tmp_path: Path) -> None:
    limits = tmp_path / "limits.yaml"
    limits.write_text("machine:\n  cooldown_after_losses: {count: 3, bars: 8}\n")
    out = cli.run("check", "eth_robust_twap_15m", "--limits", str(limits)).stdout
    assert "cooldown_after_losses 3 losing cycles in a row: 8 bars without a new cycle" in out
    diagram = cli.run("diagram", "eth_robust_twap_15m").stdout
    assert "idle --> intent_rendered : tick [signal_ready, !paused, !cooling_down]" in diagram
