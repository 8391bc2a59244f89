"""The views of the other read commands: requests, intent, open orders, reconcile, account, history
and the watch screen."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from fsm.cli.render import MONEY, body_text, cell, compact, countdown, fancy, iso, new_table
from fsm.cli.render_status import fired_lines, print_next, signal_line


def print_request(console: Console, request: Mapping[str, Any], sent: bool) -> None:
    """A POST exactly as it goes (or would go) on the wire."""
    verb = "sent" if sent else "would send (nothing sent; --submit sends)"
    console.print(f"{verb}: {request['method']} {request['path']}")
    console.print(body_text(request["body"]), markup=False, soft_wrap=True)


def print_intent(console: Console, doc: Mapping[str, Any]) -> None:
    source = {
        "state": "from the state file",
        "rendered_now": "rendered now from the newest candles (nothing written)",
        "none": "no signal now: nothing to render",
    }[doc["source"]]
    console.print(f"{doc['machine']}  state {doc['state']}  intent {source}")
    signal_line(console, doc["signal"])
    if doc["expiry_ts"] is not None:
        left = countdown(doc["expiry_ts"] - doc["now_ms"])
        console.print(f"expiry    {iso(doc['expiry_ts'])}  {left} (exchange time)")
    if doc["request"] is not None:
        console.print(f"payloads ({len(doc['payloads'])}), one {doc['request']['path']} request:")
        console.print(body_text(doc["payloads"]), markup=False, soft_wrap=True)
    stop = doc["stop"]
    if stop is not None:
        how = "as sent" if stop["source"] == "state" else "rendered now for the own size (nothing sent)"
        console.print(f"stop {stop['algoClOrdId']} ({stop['state']}), {how}: {stop['request']['path']}")
        console.print(body_text(stop["request"]["body"]), markup=False, soft_wrap=True)
    print_next(console, doc["next"])


def print_open_orders(console: Console, doc: Mapping[str, Any]) -> None:
    cols = ("ours", "rung", "clOrdId", "ordId", "side", "ordType", "px", "sz", "accFillSz", "state")
    table = new_table(console, *cols, title=f"pending orders on {doc['symbol']}", right=MONEY)
    for o in doc["orders"]:
        table.add_row(*(("yes" if o["ours"] else "foreign") if c == "ours" else cell(o[c]) for c in cols))
    console.print(table)
    console.print(f"{doc['ours']} ours, {doc['foreign']} foreign (foreign orders are shown, never touched)")


def print_changes(console: Console, changes: Sequence[Mapping[str, Any]]) -> None:
    if not changes:
        console.print("nothing changed")
        return
    table = new_table(console, "field", "before", "after", title="changed")
    for c in changes:
        table.add_row(c["field"], compact(c["before"]), compact(c["after"]))
    console.print(table)


def print_reconcile(console: Console, doc: Mapping[str, Any]) -> None:
    console.print(f"{doc['machine']}: reconciled with OKX (read-only: nothing sent)")
    fired_lines(console, doc["fired"], prefix="  ")
    if not doc["fired"]:
        console.print(f"  no transition: stays in {doc['after']}")
    if doc["journaled"]:
        console.print(f"journaled: {', '.join(doc['journaled'])}")
    print_changes(console, doc["changes"])


def print_account(console: Console, doc: Mapping[str, Any]) -> None:
    bal = doc["balance"]
    console.print(
        f"account   posMode {doc['pos_mode']}   totalEq {cell(bal['totalEq'])}   as of {iso(bal['uTime'])}"
    )
    cols = ("ccy", "eq", "cashBal", "availBal", "frozenBal", "ordFrozen")
    table = new_table(console, *cols, title="balance", right=cols[1:])
    for d in bal["details"]:
        table.add_row(*(cell(d[c]) for c in cols))
    console.print(table)
    pcols = ("instId", "posSide", "mgnMode", "pos", "avgPx", "markPx", "upl", "liqPx")
    ptable = new_table(console, *pcols, title="positions", right=MONEY)
    for p in doc["positions"]:
        ptable.add_row(*(cell(p[c]) for c in pcols))
    console.print(ptable if doc["positions"] else "positions: none")


def print_history(console: Console, doc: Mapping[str, Any]) -> None:
    naming = f" (records naming {doc['client_order_id']})" if doc["client_order_id"] else ""
    title = f"journal {doc['journal']}{naming}"
    table = new_table(console, "seq", "time", "kind", "state", "what", title=title, right=("seq",))
    for r in doc["records"]:
        table.add_row(str(r["seq"]), iso(r["ts"]), r["kind"], cell(r["state"]), r["summary"])
    console.print(table if doc["records"] else f"{title}: no records")


def watch_rows(docs: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """One row a machine for `watch`: where it is, what it holds and made, when it acts, its runner."""
    rows = []
    for doc in docs:
        pnl, clock, beat = doc["pnl"], doc["clock"], doc["runner"]
        pos = doc["position"]
        notes = []
        if not doc["exists"]:
            notes.append("no state file in this --state-dir")
        if doc["spec_change"] is not None:
            notes.append("YAML changed: tick and run refuse it")
        if beat is not None and beat["parked"]:
            notes.append(f"PARKED: {beat['parked']}")
        elif beat is not None and beat["consecutive_failures"]:
            notes.append(f"{beat['consecutive_failures']} failed: {beat['last_result']}")
        elif beat is not None and beat["stopped_wall_s"] is not None:
            notes.append("runner stopped")
        elif beat is not None and beat["stale"]:
            notes.append("runner quiet")
        if doc["position_anomaly"]:
            notes.append(doc["position_anomaly"])
        if any(r["stray"] for r in doc["rungs"]):
            notes.append("stray order on OKX")
        if doc["paused"]:
            notes.append("paused")
        if doc["trading"]["state"] != "active":
            notes.append(f"account {doc['trading']['state']}: {doc['trading']['set_by']}")
        if beat is not None and beat.get("push") and not beat["stale"]:  # a stale beat knows nothing of push
            notes.append("push " + ("on" if beat["push"].get("connected") else "DOWN"))
        rows.append(
            {
                "machine": doc["machine"],
                "state": doc["state"],
                "rungs": " ".join(
                    f"r{r['level']}:{r['state']} {r['accFillSz']}/{r['sz']}" for r in doc["rungs"]
                )
                or "-",
                "own": pnl["own_open"],
                "okx pos": "-" if pos is None else pos["pos"],
                "stop": watch_stop(doc["protection"]),
                "realized": cell(pnl["realized_pnl"]),
                "today": doc["realized"]["today"],
                "since first": doc["realized"]["total"],
                "upl": cell(pnl["upl"]),
                "expiry": countdown(clock["expiry_in_ms"]),
                "exit due": countdown(clock["exit_due_in_ms"]),
                "last tick": "-" if beat is None or beat["age_s"] is None else f"{beat['age_s']:.0f} s ago",
                "note": "; ".join(notes) or "-",
            }
        )
    return rows


def watch_stop(protection: Mapping[str, Any]) -> str:
    """The stop in one cell: its state, trigger and distance from the last price, or UNPROTECTED."""
    stop, distance = protection["stop"], protection["distance"]
    text = "-" if stop is None else f"{stop['state']} {stop['slTriggerPx']} ({stop['trigger_px_type']})"
    if stop is not None and distance is not None:
        text += f" {distance['pct']}%"
    return f"UNPROTECTED {text}" if protection["unprotected"] else text


def watch_view(console: Console, docs: Sequence[Mapping[str, Any]]) -> Table | str:
    """A table on a terminal; plain `name: value` lines, a block per machine, when piped."""
    title = f"okx-fsm watch  {datetime.now(UTC):%Y-%m-%d %H:%M:%S}Z"
    rows = watch_rows(docs)
    if not fancy(console):
        blocks = ["  ".join(f"{k} {v}" for k, v in row.items()) for row in rows]
        return "\n".join([title, *blocks])
    table = new_table(console, *(rows[0] if rows else ("machine",)), title=title)
    for row in rows:
        table.add_row(*row.values())
    return table
