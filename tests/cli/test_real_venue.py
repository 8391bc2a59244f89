"""The engine on a venue as harsh as OKX, judged from the simulator's own records: send deadlines,
51016, vanished orders, orphans of a lost state, a shared instrument, account modes and leverage."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import BAR_S, MACHINE, SYMBOL, Cli
from tests.cli.test_ladder_paths import (
    exits,
    fill_rung_fully,
    flat,
    open_entries,
    post_count,
    rung_states,
)

pytestmark = pytest.mark.e2e

LADDER_YAML = Path(__file__).resolve().parents[2] / "machines" / f"{MACHINE}.yaml"


def variant(tmp_path: Path, name: str, prefix: str, **params: str) -> Path:
    """A copy of the ETH ladder with its own identity (and any params replaced or added)."""
    text = LADDER_YAML.read_text()
    text = text.replace(f"machine: {MACHINE}", f"machine: {name}")
    text = text.replace(f"strategy_id: {MACHINE}", f"strategy_id: {name}")
    text = text.replace("client_order_id_prefix: ertw", f"client_order_id_prefix: {prefix}")
    text = text.replace(f"state_file: {MACHINE}_live.json", f"state_file: {name}.json")
    for key, value in params.items():
        line = next((ln for ln in text.splitlines() if ln.startswith(f"  {key}:")), None)
        new = f"  {key}: {value}"
        text = text.replace(line, new) if line else text.replace("  state_file:", f"{new}\n  state_file:")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def tick(h: Cli, machine: str | Path = MACHINE, *extra: str, expect: int = 0) -> Any:
    args = ["tick", str(machine), "--state-dir", str(h.state_dir), "--submit", *extra]
    result = h.run(*args, *([] if expect else ["--json"]), expect=expect)
    return json.loads(result.stdout) if not expect else result.output


def journal_of(h: Cli, state_file: str) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in (h.state_dir / state_file).with_suffix(".jsonl").read_text().splitlines()
    ]


def venue_orders(h: Cli, prefix: str = "ertw") -> list[dict[str, Any]]:
    return [o for o in h.sim_orders() if o["clOrdId"].startswith(prefix)]


def fill_everything_and_hold(h: Cli) -> Any:
    """Entries open, every rung filled: the ladder holds the position."""
    px = open_entries(h)
    fill_rung_fully(h, px[2])
    doc = tick(h)
    assert doc["state"] == "filled"
    return doc


# ---- deadlines and duplicates ----------------------------------------------------------------------


def test_duplicate_client_order_id_adopts_the_existing_order(cli: Cli) -> None:
    """51016 is proof an order with that clOrdId exists: it is queried and adopted, never rejected."""
    h = cli
    h.signal()
    rendered = h.tick()  # read-only: the intent only
    first = rendered["rungs"][0]
    h.sim.user_order(
        "buy", first["sz"], ord_type="post_only", px=first["px"], client_order_id=first["clOrdId"]
    )
    doc = tick(h)
    assert rung_states(doc) == ["unknown", "live", "live"]
    assert [m["observation"] for m in [r["data"] for r in h.journal() if r["kind"] == "order"]][:1] == [
        "ack_duplicate"
    ]
    doc = tick(h)
    assert rung_states(doc) == ["live"] * 3 and doc["rungs"][0]["ordId"] is not None
    cl_ids = [o["clOrdId"] for o in venue_orders(h)]
    assert sorted(cl_ids) == sorted(r["clOrdId"] for r in doc["rungs"])  # one order each, none twice
    assert "rejected" not in json.dumps(doc["rungs"])
    h.assert_exchange_agrees()


def test_a_canceled_order_that_vanished_from_okx_settles_the_cycle(cli: Cli) -> None:
    """OKX keeps a canceled order that never filled about 2 hours: after that it is found nowhere."""
    h = cli
    open_entries(h)
    for order in venue_orders(h):
        h.sim.user_cancel(client_order_id=order["clOrdId"])
    h.sim.advance(3 * 3600)  # the engine was down while the orders were canceled and forgotten
    doc = tick(h)
    assert doc["state"] == "closed" and rung_states(doc) == ["canceled"] * 3
    vanished = [
        r["data"] for r in h.journal() if r["kind"] == "order" and r["data"].get("observation") == "vanished"
    ]
    assert len(vanished) == 3
    assert post_count(h, "cancel-batch-orders") == 0 and flat(h)
    h.verify_log()


@pytest.mark.parametrize("numeric", [False, True], ids=["string code", "numeric code"])
def test_an_entry_batch_refused_50011_is_refused_not_in_doubt(cli: Cli, numeric: bool) -> None:
    """OKX applies nothing it rate-limits, whether its 429 says "code":"50011" or "code":50011: the
    rungs end refused in the tick that sent them, nothing waits for expTime, nothing is resent."""
    h = cli
    h.sim.set_quirks({"numeric_bare_codes": numeric})
    h.signal()
    h.sim.set_faults([{"endpoint": "POST /api/v5/trade/batch-orders", "kind": "burst_429"}])
    doc = tick(h)
    assert doc["state"] == "closed" and rung_states(doc) == ["rejected"] * 3
    assert [r["reject"] for r in doc["rungs"]] == [{"sCode": "50011", "sMsg": "Too Many Requests"}] * 3
    seen = [r["data"]["observation"] for r in h.journal() if r["kind"] == "order"]
    assert seen.count("ack_rejected") == 3 and "ack_ambiguous" not in seen
    assert venue_orders(h) == [] and post_count(h, "batch-orders") == 1  # the 429, sent once
    h.sim.advance(60)
    assert tick(h)["state"] == "idle"
    assert h.transitions() == [
        ("idle", "intent_rendered"),
        ("intent_rendered", "entries_open"),
        ("entries_open", "closed"),
        ("closed", "idle"),
    ]
    assert post_count(h, "batch-orders") == 1 and venue_orders(h) == []  # nothing resent
    assert "GET /api/v5/trade/order" not in h.sim.stats()["requests"]  # nothing left to resolve
    h.verify_log()


# ---- exits and fills ------------------------------------------------------------------------------


@pytest.mark.parametrize("absent", [False, True], ids=["empty fields sent", "empty fields left out"])
def test_the_exit_is_our_own_size_and_its_fills_are_journaled_with_the_cycles_pnl(
    cli: Cli, absent: bool
) -> None:
    """Also with orders and fills that leave their empty fields out, subType and tradeQuoteCcy too, as
    a captured SWAP fill did."""
    h = cli
    h.sim.set_quirks({"absent_optional_fields": absent})
    doc = fill_everything_and_hold(h)
    held = sum(Decimal(r["accFillSz"]) for r in doc["rungs"])
    h.sim.advance(BAR_S * 9)
    assert tick(h)["close_request"]["outcome"] == "accepted"
    doc = tick(h)
    assert doc["state"] == "closed"
    assert exits(h) == [("sell", held, "true")] and post_count(h, "close-position") == 0
    venue_fills = [f for f in h.sim.state()["fills"] if f["clOrdId"].startswith("ertw")]
    [archive] = [r["data"] for r in h.journal() if r["kind"] == "archive"]
    summary = archive["summary"]
    bought = sum(Decimal(f["fillSz"]) for f in venue_fills if f["side"] == "buy")
    sold = sum(Decimal(f["fillSz"]) for f in venue_fills if f["side"] == "sell")
    fees = sum(Decimal(f["fee"]) for f in venue_fills)
    value = sum(
        Decimal(f["fillPx"]) * Decimal(f["fillSz"]) * (1 if f["side"] == "sell" else -1) for f in venue_fills
    )
    assert (Decimal(summary["bought"]), Decimal(summary["sold"])) == (bought, sold) == (held, held)
    assert Decimal(summary["fees"]) == fees
    assert Decimal(summary["realized_pnl"]) == value * Decimal("0.1") + fees  # ctVal 0.1 ETH
    evidence = [r["data"]["evidence"] for r in h.journal() if r["kind"] == "fill"]
    assert len(evidence) == len(venue_fills) and all(("subType" in e) is not absent for e in evidence)
    h.assert_exchange_agrees()


def test_fills_older_than_three_days_are_read_from_fills_history_after_an_outage(cli: Cli) -> None:
    h = cli
    doc = fill_everything_and_hold(h)
    held = sum(Decimal(r["accFillSz"]) for r in doc["rungs"])
    h.sim.advance(4 * 86_400)  # the runner was down for four days: the entry fills left /trade/fills
    assert tick(h)["close_request"]["outcome"] == "accepted"
    doc = tick(h)
    assert doc["state"] == "closed"
    assert h.sim.stats()["requests"].get("GET /api/v5/trade/fills-history", 0) >= 1
    sold = sum(Decimal(f["fillSz"]) for f in doc["fills"] if f["side"] == "sell")
    assert sold == held
    h.assert_exchange_agrees()


def test_a_hand_close_of_part_of_the_position_shrinks_the_exit_and_never_sells_into_a_short(
    cli: Cli,
) -> None:
    h = cli
    doc = fill_everything_and_hold(h)
    held = sum(Decimal(r["accFillSz"]) for r in doc["rungs"])
    part = Decimal("0.5")
    h.sim.user_order("sell", str(part), pos_side="long")  # someone closes part of it in the app
    doc = tick(h)
    anomaly = [r["data"] for r in h.journal() if r["kind"] == "anomaly"]
    assert [(a["observation"], a["okx"]) for a in anomaly] == [("position_short", str(held - part))]
    shown = h.run("status", MACHINE, "--state-dir", str(h.state_dir)).output
    assert f"okx holds {held - part} of our {held}" in shown
    assert "closed part of our position by hand" in shown
    h.sim.advance(BAR_S * 9)
    tick(h)
    doc = tick(h)
    assert doc["state"] == "closed"
    assert exits(h) == [("sell", held - part, "true")]
    positions = h.sim.state()["positions"]
    assert all(Decimal(p["pos"]) == 0 for p in positions)  # flat, and never short
    h.assert_exchange_agrees()


def test_two_ladders_on_one_instrument_each_exit_their_own_size_and_leave_the_hand_position(
    cli: Cli, tmp_path: Path
) -> None:
    h = cli
    other = variant(tmp_path, "eth_second", "ertb")
    h.signal()
    assert tick(h)["state"] == "entries_open"
    assert tick(h, other)["state"] == "entries_open"
    h.sim.user_order("buy", "1")  # the trader's own position on the same instrument and side
    low = min(Decimal(o["px"]) for o in venue_orders(h) + venue_orders(h, "ertb"))
    fill_rung_fully(h, low)
    h.sim.advance(60)
    a, b = tick(h), tick(h, other)
    assert (a["state"], b["state"]) == ("filled", "filled")
    own_a = sum(Decimal(r["accFillSz"]) for r in a["rungs"])
    own_b = sum(Decimal(r["accFillSz"]) for r in b["rungs"])
    h.sim.advance(BAR_S * 9)
    for _ in range(2):
        tick(h)
        tick(h, other)
    assert tick(h)["state"] in ("closed", "idle") and tick(h, other)["state"] in ("closed", "idle")
    exit_a = [o for o in venue_orders(h) if "r0a" in o["clOrdId"]]
    exit_b = [o for o in venue_orders(h, "ertb") if "r0a" in o["clOrdId"]]
    assert [Decimal(o["accFillSz"]) for o in exit_a] == [own_a]
    assert [Decimal(o["accFillSz"]) for o in exit_b] == [own_b]
    [position] = h.sim.state()["positions"]
    assert (position["posSide"], Decimal(position["pos"])) == ("long", Decimal("1"))  # the hand's, untouched


# ---- a lost state directory --------------------------------------------------------------------------


def test_a_lost_state_directory_refuses_to_orphan_live_orders_until_adopted(cli: Cli) -> None:
    h = cli
    open_entries(h)
    live = sorted(o["clOrdId"] for o in venue_orders(h))
    shutil.rmtree(h.state_dir)  # the state directory is lost; OKX still holds the cycle's orders
    h.signal()  # a new signal: its rungs would carry other clOrdIds
    out = tick(h, MACHINE, expect=3)
    assert "--adopt" in out and all(cl in out for cl in live)
    assert sorted(o["clOrdId"] for o in venue_orders(h)) == live  # nothing was sent
    doc = tick(h, MACHINE, "--adopt")
    assert sorted(r["clOrdId"] for r in doc["rungs"]) == live and doc["state"] == "entries_open"
    assert rung_states(doc) == ["live"] * 3
    adopted = [r["data"] for r in h.journal() if r["kind"] == "operator" and r["data"]["command"] == "adopt"]
    assert len(adopted) == 1 and sorted(o["clOrdId"] for o in adopted[0]["orders"]) == live
    assert sorted(o["clOrdId"] for o in venue_orders(h)) == live
    h.verify_log()


# ---- account modes and leverage -----------------------------------------------------------------------


def test_a_net_mode_cross_account_runs_the_full_ladder_path(cli: Cli, tmp_path: Path) -> None:
    h = cli
    h.sim.set_account(pos_mode="net_mode")
    cross = variant(tmp_path, "eth_net", "ertn", td_mode="cross")
    h.signal()
    doc = tick(h, cross)
    assert doc["state"] == "entries_open"
    entries = venue_orders(h, "ertn")
    assert {(o["posSide"], o["tdMode"]) for o in entries} == {("net", "cross")}
    fill_rung_fully(h, min(Decimal(o["px"]) for o in entries))
    doc = tick(h, cross)
    assert doc["state"] == "filled"
    held = sum(Decimal(r["accFillSz"]) for r in doc["rungs"])
    [position] = h.sim.state()["positions"]
    assert (position["posSide"], position["mgnMode"], Decimal(position["pos"])) == ("net", "cross", held)
    h.sim.advance(BAR_S * 9)
    tick(h, cross)
    assert tick(h, cross)["state"] == "closed"
    [exit_order] = [o for o in venue_orders(h, "ertn") if "r0a" in o["clOrdId"]]
    assert (exit_order["side"], exit_order["reduceOnly"], exit_order["posSide"]) == ("sell", "true", "net")
    assert Decimal(exit_order["accFillSz"]) == held and flat(h)


def test_leverage_from_the_yaml_is_set_and_verified_before_the_first_entry(cli: Cli, tmp_path: Path) -> None:
    h = cli
    levered = variant(tmp_path, "eth_levered", "ertl", leverage='"5"')
    h.signal()
    assert tick(h, levered)["state"] == "entries_open"
    assert {o["lever"] for o in venue_orders(h, "ertl")} == {"5"}
    journal = journal_of(h, "eth_levered.json")
    [ack] = [r["data"] for r in journal if r["kind"] == "ack" and r["data"].get("what") == "leverage"]
    assert ack["verified"] == "5"


def test_leverage_that_okx_refuses_stops_the_entry_before_anything_is_sent(cli: Cli, tmp_path: Path) -> None:
    h = cli
    levered = variant(tmp_path, "eth_levered", "ertl", leverage='"5"')
    h.sim.user_order("buy", "1", ord_type="limit", px="2500")  # an opening order rests: OKX refuses (59101)
    h.signal()
    out = tick(h, levered, expect=4)
    assert "leverage" in out and "59101" in out
    assert venue_orders(h, "ertl") == [] and post_count(h, "batch-orders") == 0


def test_check_and_status_observe_the_accounts_modes_and_leverage(cli: Cli) -> None:
    h = cli
    fits = h.run("check", MACHINE, "--observe").output
    assert "long_short_mode acctLv 2  isolated leverage long 10x, short 10x: fits the machine" in fits
    status = h.run("status", MACHINE, "--observe", "--state-dir", str(h.state_dir)).output
    assert "fits the machine" in status
    h.sim.set_account(acct_lv="3")  # multi-currency margin: cross only
    refused = h.run("check", MACHINE, "--observe", expect=4).output
    assert "refused: the OKX account (acctLv 3) trades swaps in cross margin only" in refused


def test_check_observe_refuses_a_leverage_above_the_instruments_maximum(cli: Cli, tmp_path: Path) -> None:
    """OKX's `lever` of the instrument is the most an account can set (the simulator's ETH swap: 100);
    above it set-leverage is refused with 59102, so check refuses the YAML and nothing calls it a fit."""
    h = cli
    too_high = variant(tmp_path, "eth_levered", "ertl", leverage='"500"')
    line = too_high.read_text().splitlines().index('  leverage: "500"') + 1
    assert "ok: " in h.run("check", str(too_high)).output  # without OKX the maximum is not known
    refused = h.run("check", str(too_high), "--observe", expect=2).output
    assert (
        f"{too_high}: params (line {line}): leverage: 500 is above ETH-USDT-SWAP's maximum leverage 100"
        in refused
    )
    assert "fits" not in refused
    status = json.loads(
        h.run("status", str(too_high), "--observe", "--json", "--state-dir", str(h.state_dir)).stdout
    )
    assert status["account"]["leverage_max"] == "100"
    assert "leverage: 500 is above" in status["account"]["refusal"]
    shown = h.run("status", str(too_high), "--observe", "--state-dir", str(h.state_dir)).output
    assert "refused: " in shown and "fits the machine" not in shown
    at_most = variant(tmp_path, "eth_levered", "ertl", leverage='"100"')
    assert "fits the machine" in h.run("check", str(at_most), "--observe").output
    assert h.posts() == 0


def test_a_spot_mode_account_is_refused_before_anything_is_sent(cli: Cli) -> None:
    h = cli
    h.sim.set_account(acct_lv="1")
    h.signal()
    out = tick(h, MACHINE, expect=4)
    assert "Spot mode" in out
    assert h.sim.stats()["requests"].get("POST /api/v5/trade/batch-orders", 0) == 0
    assert SYMBOL not in json.dumps(venue_orders(h))
