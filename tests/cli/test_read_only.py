"""The read-only boundary: read commands never POST; submit-capable commands send nothing without --submit."""

from __future__ import annotations

import json
from decimal import Decimal

from tests.cli.conftest import SYMBOL, Cli

READ_COMMANDS = [
    ("status",),
    ("status", "--observe"),
    ("intent",),
    ("eth-robust-twap-order-intent",),
    ("open-orders",),
    ("eth-robust-twap-open-orders",),
    ("reconcile",),
    ("eth-robust-twap-reconcile",),
    ("history",),
    ("verify-log",),
    ("tick",),
]


def test_read_commands_never_post(cli: Cli) -> None:
    cli.partially_filled()
    foreign = cli.trader().place_order(
        SYMBOL, side="buy", ord_type="limit", sz=Decimal("1"), px=Decimal("2000"), pos_side="long"
    )
    before = cli.posts()
    for command in READ_COMMANDS:
        cli.machine(*command)
        cli.machine(*command, "--json")
    for command in (("account",), ("okx-account",)):
        cli.run(*command)
        cli.run(*command, "--json")
    for fmt in ("mermaid", "dot"):
        cli.machine("diagram", "--format", fmt)
    assert cli.posts() == before
    orders = {o["ordId"]: o for o in cli.sim.state()["orders"]}
    assert orders[foreign.ordId]["state"] == "live"  # the foreign order was shown, never touched


def test_status_without_observe_reads_local_files_only(cli: Cli) -> None:
    cli.partially_filled()
    before = cli.sim.stats()["total"]
    doc = cli.json("status")
    assert cli.sim.stats()["total"] == before
    assert doc["next"]["observed"] is False and doc["clock"]["source"] == "last_tick"
    observed = cli.json("status", "--observe")
    assert observed["next"]["observed"] is True and observed["clock"]["source"] == "exchange"


def test_submit_capable_commands_without_submit_send_and_write_nothing(cli: Cli) -> None:
    cli.signal()
    rendered = cli.tick()
    assert rendered["state"] == "intent_rendered"
    snapshot = cli.state_path.read_bytes(), cli.journal_path.read_bytes()
    out = cli.machine("submit-entries").stdout
    assert "would send" in out and "/api/v5/trade/batch-orders" in out
    doc = json.loads(cli.machine("submit-entries", "--json").stdout)
    assert doc["submitted"] is False
    assert doc["request"]["body"] == [r["payload"] for r in state_rungs(cli)]
    assert (cli.state_path.read_bytes(), cli.journal_path.read_bytes()) == snapshot

    cli.tick(submit=True)
    snapshot = cli.state_path.read_bytes(), cli.journal_path.read_bytes()
    before = cli.posts()
    cancel = json.loads(cli.machine("cancel", "--rung", "2", "--json").stdout)
    assert cancel["request"]["path"] == "/api/v5/trade/cancel-batch-orders"
    assert len(cancel["request"]["body"]) == 1
    cli.machine("cancel")
    cli.machine("close", expect=3)  # entries_open: the machine has no close row there
    order = json.loads(
        cli.run("order", SYMBOL, "--side", "buy", "--sz", "1", "--px", "2500.5", "--json").stdout
    )
    assert order["request"]["body"] == {
        "instId": SYMBOL,
        "tdMode": "isolated",
        "side": "buy",
        "ordType": "limit",
        "px": "2500.5",
        "sz": "1",
    }
    assert cli.posts() == before
    assert (cli.state_path.read_bytes(), cli.journal_path.read_bytes()) == snapshot


def test_live_submit_needs_the_typed_confirmation(cli: Cli) -> None:
    before = cli.posts()
    args = ("order", SYMBOL, "--side", "buy", "--sz", "1", "--px", "2500", "--submit", "--live")
    out = cli.run(*args, input="yes\n", expect=2).output
    assert "not confirmed: nothing was sent" in out
    cli.machine("tick", "--submit", "--live", input="\n", expect=2)
    assert cli.posts() == before
    cli.run(*args, input="LIVE\n", expect=4)  # confirmed: it is sent (the simulator wants the demo header)
    assert cli.posts() > before


def state_rungs(cli: Cli) -> list[dict[str, object]]:
    rungs: list[dict[str, object]] = json.loads(cli.state_path.read_text())["snapshot"]["rungs"]
    return rungs
