"""Submit-capable commands with --submit: through the ladder's own actions, the operator journaled."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from tests.cli.conftest import SYMBOL, Cli

POST_TRADE = "POST /api/v5/trade/"


def posts_to(cli: Cli, endpoint: str) -> int:
    return int(cli.sim.stats()["requests"].get(POST_TRADE + endpoint, 0))


def journal(cli: Cli) -> list[dict[str, Any]]:
    return [json.loads(line) for line in cli.journal_path.read_text().splitlines()]


def sim_order(cli: Cli, client_order_id: str) -> dict[str, Any]:
    order: dict[str, Any] = next(o for o in cli.sim.state()["orders"] if o["clOrdId"] == client_order_id)
    return order


def test_submit_entries_sends_the_rendered_rungs_in_one_batch(cli: Cli) -> None:
    cli.signal()
    rendered = cli.tick()
    doc = json.loads(cli.machine("submit-entries", "--submit", "--json").stdout)
    assert doc["submitted"] is True
    assert doc["state"]["state"] == "entries_open"
    assert posts_to(cli, "batch-orders") == 1
    for rung in rendered["rungs"]:
        assert sim_order(cli, rung["clOrdId"])["state"] == "live"


def test_cancel_one_rung_then_the_rest_ends_the_cycle_on_exchange_evidence(cli: Cli) -> None:
    rungs = cli.entries_open()["rungs"]
    doc = json.loads(cli.machine("cancel", "--rung", "2", "--submit", "--json").stdout)
    assert [r["state"] for r in doc["state"]["rungs"]] == ["live", "canceled", "live"]
    assert sim_order(cli, rungs[1]["clOrdId"])["state"] == "canceled"
    operator = [r for r in journal(cli) if r["kind"] == "operator"]
    assert operator[-1]["data"]["command"] == "cancel"
    assert operator[-1]["data"]["clOrdIds"] == [rungs[1]["clOrdId"]]

    doc = json.loads(cli.machine("cancel", "--submit", "--json").stdout)
    assert doc["state"]["state"] == "closed"  # every rung terminal with nothing filled
    assert posts_to(cli, "cancel-batch-orders") == 2
    cli.machine("cancel", "--submit", expect=3)  # nothing left to cancel: refused, nothing sent
    assert posts_to(cli, "cancel-batch-orders") == 2


def test_operator_close_is_journaled_then_sent_by_the_close_requested_row(cli: Cli) -> None:
    cli.filled()
    doc = json.loads(cli.machine("close", "--submit", "--json").stdout)
    assert [f["index"] for f in doc["fired"]] and doc["state"]["close_request"]["requested_by"] == "operator"
    assert doc["state"]["close_request"]["outcome"] == "accepted"
    records = journal(cli)
    operator = next(r for r in records if r["kind"] == "operator")
    submit = next(r for r in records if r["kind"] == "submit" and r["data"]["what"] == "close")
    assert operator["seq"] < submit["seq"]
    assert posts_to(cli, "order") == 1 and posts_to(cli, "close-position") == 0
    held = sum(Decimal(r["accFillSz"]) for r in doc["state"]["rungs"])
    [exit_order] = [o for o in cli.sim.state()["orders"] if o["ordType"] == "market"]
    assert (exit_order["side"], Decimal(exit_order["sz"]), exit_order["reduceOnly"]) == ("sell", held, "true")
    cli.machine("close", "--submit", expect=3)  # never sent twice blindly
    assert posts_to(cli, "order") == 1
    assert cli.tick()["state"] == "closed"
    assert all(Decimal(p["pos"]) == 0 for p in cli.sim.state()["positions"])


def test_order_with_submit_places_one_order_outside_any_machine(cli: Cli) -> None:
    args = ("order", SYMBOL, "--side", "buy", "--sz", "0.5", "--px", "2500", "--pos-side", "long")
    doc = json.loads(cli.run(*args, "--submit", "--json").stdout)
    assert doc["submitted"] is True and doc["ack"]["sCode"] == "0"
    placed = next(o for o in cli.sim.state()["orders"] if o["ordId"] == doc["ack"]["ordId"])
    assert {k: placed[k] for k in ("side", "px", "sz", "posSide", "ordType")} == {
        "side": "buy",
        "px": "2500",
        "sz": "0.5",
        "posSide": "long",
        "ordType": "limit",
    }
    assert not cli.state_dir.exists()  # no machine, no state


def test_order_with_bad_options_is_refused_before_anything_is_sent(cli: Cli) -> None:
    cli.run("order", SYMBOL, "--side", "buy", "--sz", "1", "--submit", expect=2)  # limit needs --px
    cli.run("order", SYMBOL, "--side", "hold", "--sz", "1", "--px", "1", expect=2)
    cli.run("order", SYMBOL, "--side", "buy", "--sz", "-1", "--px", "1", expect=2)
    assert cli.posts() == 0
