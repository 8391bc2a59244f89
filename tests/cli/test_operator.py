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


# ---- flatten: the same sending surface as close and cancel -------------------------------------------


def snapshot(cli: Cli) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(cli.state_path.read_text())["snapshot"]
    return state


def test_flatten_without_submit_prints_what_it_would_send_and_writes_nothing(cli: Cli) -> None:
    rungs = cli.entries_open()["rungs"]
    journal_before, posts = cli.journal_path.read_bytes(), cli.posts()
    out = cli.machine("flatten").stdout
    assert "would send (nothing sent; --submit sends): POST /api/v5/trade/cancel-batch-orders" in out
    doc = cli.json("flatten")
    assert doc["submitted"] is False and doc["state"] is None
    assert [item["ordId"] for item in doc["request"]["body"]] == [r["ordId"] for r in rungs]
    assert cli.posts() == posts and cli.journal_path.read_bytes() == journal_before
    assert snapshot(cli)["paused"] is False


def test_flatten_submit_cancels_exits_and_stays_paused_through_the_next_signal(cli: Cli) -> None:
    cli.partially_filled()
    doc = cli.json("flatten", "--submit")
    assert doc["submitted"] is True and doc["request"]["path"] == "/api/v5/trade/cancel-batch-orders"
    assert [(f["source"], f["dest"]) for f in doc["fired"]] == [("partially_filled", "cancelling")]
    assert doc["state"]["paused"] is True and doc["state"]["flatten_requested"] is True
    assert "paused until `okx-fsm resume`" in doc["note"]
    for _ in range(6):  # the cancels end, the exit is sent and fills, the cycle is archived, then idle
        cli.sim.advance(5)
        if cli.tick(submit=True)["state"] == "idle":
            break
    assert snapshot(cli)["state"] == "idle" and snapshot(cli)["paused"] is True
    assert all(Decimal(p["pos"]) == 0 for p in cli.sim.state()["positions"])
    [exit_order] = [o for o in cli.sim_orders() if o["ordType"] == "market"]
    assert exit_order["state"] == "filled" and exit_order["reduceOnly"] == "true"
    cli.assert_exchange_agrees()

    cli.signal()  # a flattened machine does not enter again on the next candle
    assert cli.tick(submit=True)["state"] == "idle"
    assert posts_to(cli, "batch-orders") == 1
    assert "resume: resumed" in cli.machine("resume").stdout
    cli.signal()
    assert cli.tick(submit=True)["state"] == "entries_open" and posts_to(cli, "batch-orders") == 2


def test_flatten_with_no_cycle_in_flight_does_nothing_but_say_so(cli: Cli) -> None:
    cli.tick()  # a state file, idle
    cli.signal()  # a fresh signal: flatten must not start (and drop) a cycle on it
    journal_before = cli.journal_path.read_bytes()
    for args in ((), ("--submit",)):
        out = cli.machine("flatten", *args).stdout
        assert "flatten: eth_robust_twap_15m is in idle with no cycle in flight: nothing to flatten" in out
    doc = cli.json("flatten", "--submit")
    assert (doc["submitted"], doc["request"], doc["journaled"]) == (False, None, [])
    assert cli.journal_path.read_bytes() == journal_before and cli.posts() == 0
    assert snapshot(cli)["paused"] is False and snapshot(cli)["flatten_requested"] is False


def test_flatten_of_an_unsent_intent_archives_it_without_printing_none(cli: Cli) -> None:
    cli.signal()
    assert cli.tick()["state"] == "intent_rendered"
    out = cli.machine("flatten", "--submit").stdout
    assert "flatten: sent nothing" in out and "intent_rendered -> closed" in out
    history = cli.machine("history").stdout
    assert "archived: nothing filled" in history and "None" not in history
    assert cli.posts() == 0


def test_flatten_live_submit_asks_the_typed_confirmation_unless_yes(cli: Cli) -> None:
    cli.partially_filled()
    posts = cli.posts()
    err = cli.machine("flatten", "--live", "--submit", input="no\n", expect=2).stderr
    assert "not confirmed: nothing was sent" in err and cli.posts() == posts
    assert snapshot(cli)["flatten_requested"] is False
    err = cli.machine("flatten", "--live", "--submit", "--yes", expect=4).stderr  # no prompt: to the venue
    assert "APIKey does not match current environment" in err  # live keys: the simulator wants demo ones


def test_flatten_shows_what_its_tick_sent_not_what_the_state_file_suggested(cli: Cli) -> None:
    cli.partially_filled()
    cli.machine("flatten", "--submit")  # the cancels go out: cancelling
    assert "flatten: would send nothing now" in cli.machine("flatten").stdout  # cancels in flight
    doc = cli.json("flatten", "--submit")  # its tick sees them ended: the stop's cancel, then the exit
    [exit_order] = [o for o in cli.sim_orders() if o["ordType"] == "market"]
    paths = [r["path"] for r in doc["sent"]]
    assert doc["request"] is None and paths == ["/api/v5/trade/cancel-algos", "/api/v5/trade/order"]
    body = doc["sent"][1]["body"]
    assert (body["clOrdId"], body["sz"], body["side"]) == (exit_order["clOrdId"], exit_order["sz"], "sell")
    assert posts_to(cli, "order") == 1
