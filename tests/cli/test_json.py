"""Every read command's --json is one JSON document carrying exactly its documented keys (README)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from tests.cli.conftest import SYMBOL, Cli

STATE = {
    "machine",
    "state",
    "cycle_id",
    "cycles_completed",
    "signal",
    "expiry_ts",
    "entry_start_ts",
    "exit_due_ts",
    "rungs",
    "fills",
    "filled_sz",
    "position",
    "close_request",
    "exit_client_order_ids",
    "position_anomaly",
    "last_risk_refusal",
    "losses_in_a_row",
    "cooldown_until_ts",
    "paused",
    "flatten_requested",
    "stops",
    "journal",
}
RUNG = {
    "level",
    "clOrdId",
    "ordId",
    "state",
    "px",
    "sz",
    "accFillSz",
    "avgPx",
    "okx_state",
    "cancelSource",
    "reject",
    "stray",
}
STATUS = STATE | {
    "trading",  # the account's trading state (fsm.risk.ledger)
    "symbol",
    "bar",
    "state_file",
    "exists",
    "spec_change",
    "recovery",
    "clock",
    "pnl",
    "next",
    "account",
    "runner",
    "queued",
    "protection",
    "realized",
}
REALIZED = {"day", "today", "cycles_today", "total", "cycles", "since_ts", "fee_ccy"}
STOP = {
    "n", "algoClOrdId", "state", "sz", "slTriggerPx", "tpTriggerPx", "trigger_px_type", "payload",
    "submit_ts", "amend_ts", "cancel_sent_ts", "reject", "last_anomaly", "stray", "okx", "children",
}  # fmt: skip
STOP_OKX = {
    "algoId", "state", "sz", "slTriggerPx", "slTriggerPxType", "tpTriggerPx", "ordIdList", "actualSz",
    "actualPx", "actualSide", "triggerTime", "failCode", "uTime",
}  # fmt: skip
PROTECTION = {"declared", "take_profit", "own_open", "unprotected", "stop", "last_px", "distance"}
RECOVERY = {"journal_ahead", "state_file_seq", "journal_seq"}
CLOCK = {"now_ms", "source", "expiry_in_ms", "exit_due_in_ms"}
PNL = {
    "filled_sz", "avg_fill_px", "fees", "fee_ccy", "upl", "mark_px", "upl_source",
    "bought", "sold", "avg_entry", "avg_exit", "realized_pnl", "own_open",
}  # fmt: skip
NEXT = {"state", "trigger", "fires", "observed", "candidates"}
CANDIDATE = {"index", "line", "dest", "label", "guards", "unless", "passes"}
TICK = {"before", "after", "fired", "journaled", "rolled_forward", "armed"}
INTENT = {
    "machine",
    "state",
    "source",
    "signal",
    "cycle_id",
    "expiry_ts",
    "now_ms",
    "payloads",
    "rungs",
    "request",
    "stop",
    "next",
}
OPEN_ORDERS = {"machine", "symbol", "orders", "ours", "foreign"}
ORDER_ROW = {
    "instId",
    "ordId",
    "clOrdId",
    "side",
    "posSide",
    "ordType",
    "px",
    "sz",
    "accFillSz",
    "avgPx",
    "state",
    "cTime",
    "ours",
    "rung",
}
RECONCILE = {"machine", "before", "after", "fired", "journaled", "changes", "state"}
ACCOUNT = {"pos_mode", "balance", "positions"}
POSITION = {"instId", "posSide", "mgnMode", "pos", "avgPx", "markPx", "upl", "liqPx"}
HISTORY = {"machine", "journal", "client_order_id", "records"}
RECORD = {"seq", "ts", "kind", "state", "summary", "data"}
VERIFY = {
    "journal",
    "records",
    "last_seq",
    "last_hash",
    "first_ts",
    "last_ts",
    "kinds",
    "state_cursor",
    "journal_ahead_by",
    "segments",
    "first_seq",
}
REPORT = {
    "machine", "journal", "range", "cycles", "summary", "equity", "buy_and_hold", "funding", "files",
    "charts_skipped",
}  # fmt: skip
REPORT_RANGE = {"from_ms", "to_ms", "start_ms", "end_ms"}
REPORT_CYCLE = {
    "cycle_id", "side", "signal_candle_ts", "start_ts", "entry_ts", "exit_ts", "end_ts", "holding_ms",
    "rungs_placed", "rungs_filled", "rungs", "size", "exited", "avg_entry", "avg_exit", "exit_reason",
    "realized_pnl", "fees", "fee_ccy", "fills", "stops",
}  # fmt: skip
REPORT_RUNG = {"level", "clOrdId", "ordId", "px", "sz", "accFillSz", "state"}
REPORT_SUMMARY = {
    "cycles", "traded", "wins", "losses", "win_rate", "total_pnl", "avg_pnl", "fees", "fee_ccy",
    "gross_profit", "gross_loss", "profit_factor", "max_drawdown", "exposure_ms", "exposure",
    "longest_losing_streak", "exit_reasons", "rungs",
}  # fmt: skip
REPORT_RUNG_RATE = {"level", "placed", "with_fills", "full", "fill_rate"}
OPERATOR = {"command", "submitted", "request", "sent", "journaled", "fired", "state", "note", "superseded"}


def keys(doc: Any) -> set[str]:
    assert isinstance(doc, dict)
    return set(doc)


def test_status_and_tick_documents(cli: Cli) -> None:
    tick = cli.partially_filled()
    assert keys(tick) == STATE | {"tick"} and keys(tick["tick"]) == TICK
    for args in ((), ("--observe",)):
        doc = cli.json("status", *args)
        assert keys(doc) == STATUS
        assert keys(doc["clock"]) == CLOCK and keys(doc["pnl"]) == PNL and keys(doc["next"]) == NEXT
        assert keys(doc["realized"]) == REALIZED
        assert keys(doc["recovery"]) == RECOVERY and doc["recovery"]["journal_ahead"] is False
        assert doc["trading"] == {"state": "active", "set_by": "", "since": None, "clears": ""}
        assert all(keys(r) == RUNG for r in doc["rungs"]) and len(doc["rungs"]) == 3
        assert all(keys(c) == CANDIDATE for c in doc["next"]["candidates"])
        assert keys(doc["protection"]) == PROTECTION and keys(doc["protection"]["stop"]) == STOP
        assert [keys(s["okx"]) for s in doc["stops"]] == [STOP_OKX]
    observed = cli.json("status", "--observe")
    assert observed["clock"]["expiry_in_ms"] == observed["expiry_ts"] - observed["clock"]["now_ms"]
    assert Decimal(observed["pnl"]["filled_sz"]) == Decimal(observed["filled_sz"]) > 0
    assert observed["pnl"]["upl_source"] == "okx"
    assert keys(observed["protection"]["distance"]) == {"px", "pct"}


def test_intent_open_orders_reconcile_history_verify_documents(cli: Cli) -> None:
    cli.signal()
    intent = cli.json("intent")
    assert keys(intent) == INTENT and intent["source"] == "rendered_now" and len(intent["payloads"]) == 3
    assert intent["request"]["path"] == "/api/v5/trade/batch-orders"
    assert not cli.state_path.exists()  # rendered in memory only
    cli.tick(submit=True)
    assert cli.json("intent")["source"] == "state"

    orders = cli.json("open-orders")
    assert keys(orders) == OPEN_ORDERS and orders["ours"] == 3 and orders["foreign"] == 0
    assert all(keys(o) == ORDER_ROW for o in orders["orders"])

    reconcile = cli.json("reconcile")
    assert keys(reconcile) == RECONCILE and keys(reconcile["state"]) == STATE

    history = cli.json("history")
    assert keys(history) == HISTORY and all(keys(r) == RECORD for r in history["records"])
    one = cli.json("history", "--cl-ord-id", orders["orders"][0]["clOrdId"])
    assert 0 < len(one["records"]) < len(history["records"])

    verify = cli.json("verify-log")
    assert keys(verify) == VERIFY and verify["records"] == len(history["records"])


def test_check_document(cli: Cli) -> None:
    doc = json.loads(cli.run("check", "eth_robust_twap_15m", "--json").stdout)
    assert keys(doc) == {
        "path", "machine", "kind", "states", "rows", "spec_hash", "order_machine", "stop_machine", "account",
        "limits",
    }  # fmt: skip
    assert doc["account"] is None  # only with --observe
    assert doc["kind"] == "ladder" and "partially_filled" in doc["states"]


def test_account_and_operator_documents(cli: Cli) -> None:
    cli.filled()
    account = json.loads(cli.run("account", "--json").stdout)
    assert keys(account) == ACCOUNT and account["pos_mode"] == "long_short_mode"
    assert all(keys(p) == POSITION for p in account["positions"]) and account["positions"]
    close = json.loads(cli.machine("close", "--json").stdout)
    assert keys(close) == OPERATOR and close["submitted"] is False and close["state"] is None
    flatten = json.loads(cli.machine("flatten", "--json").stdout)
    assert keys(flatten) == OPERATOR and flatten["request"] == close["request"] and flatten["state"] is None
    args = ("order", SYMBOL, "--side", "sell", "--sz", "1", "--ord-type", "market", "--json")
    order = json.loads(cli.run(*args).stdout)
    assert keys(order) == {"command", "submitted", "request", "ack"}


def test_the_reference_price_is_shown_on_the_tick_and_journaled_exact(cli: Cli) -> None:
    """ref_px is a median of (h+l+c)/3: intent, tick and status show it to ETH's 0.01 tick, the
    journal and the state file keep it exact."""
    cli.signal()
    intent = cli.json("intent")
    tick = cli.tick(submit=True)
    [record] = [r["data"]["signal"] for r in cli.journal() if r["kind"] == "intent"]
    exact = Decimal(record["ref_px"])
    assert exact != exact.quantize(Decimal("0.01"))  # finer than the tick, or the test shows nothing
    assert json.loads(cli.state_path.read_text())["snapshot"]["signal"]["ref_px"] == record["ref_px"]
    status = cli.status()
    for doc in (intent, tick, status):
        shown = Decimal(doc["signal"]["ref_px"])
        assert shown.as_tuple().exponent == -2 and abs(shown - exact) <= Decimal("0.005")
    text = cli.machine("status").stdout
    assert f"ref_px {status['signal']['ref_px']}  close" in text and record["ref_px"] not in text


def test_report_document(cli: Cli) -> None:
    cli.filled()
    cli.machine("close", "--submit")
    states = [cli.tick(submit=True)["state"] for _ in range(3)]
    assert states[-1] == "idle", states  # the exit filled, then closed, then idle
    doc = cli.json("report")
    assert keys(doc) == REPORT and keys(doc["range"]) == REPORT_RANGE
    assert [keys(c) for c in doc["cycles"]] == [REPORT_CYCLE]
    assert all(keys(r) == REPORT_RUNG for r in doc["cycles"][0]["rungs"])
    assert keys(doc["summary"]) == REPORT_SUMMARY
    assert all(keys(r) == REPORT_RUNG_RATE for r in doc["summary"]["rungs"])
    assert [keys(p) for p in doc["equity"]] == [{"ts", "equity", "drawdown"}]
    assert doc["buy_and_hold"] is None and doc["files"] == []
