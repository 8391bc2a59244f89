"""What the CLI shows: JSON documents with stable keys, and rich tables built from the same data.

Output is rich on a terminal and plain (no colour, no animation, simple rules) when piped or when
NO_COLOR is set. Nothing here talks to OKX; the documents come from fsm.cli.reports.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from fsm.engine.state import LadderState

PIPED_WIDTH = 120


def make_console(stderr: bool = False) -> Console:
    """A console for stdout (or stderr): plain when not a terminal or when NO_COLOR is set."""
    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    return Console(
        stderr=stderr,
        highlight=False,
        no_color="NO_COLOR" in os.environ or not terminal,
        width=None if terminal or "COLUMNS" in os.environ else PIPED_WIDTH,
    )


def fancy(console: Console) -> bool:
    """Colour, boxes and live displays only on a terminal without NO_COLOR."""
    return console.is_terminal and not console.no_color


def new_table(console: Console, *columns: str, title: str | None = None, right: Sequence[str] = ()) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        box=box.ROUNDED if fancy(console) else box.SIMPLE,
        header_style="bold" if fancy(console) else "",
        title_style="bold" if fancy(console) else "",
    )
    for col in columns:  # ids and amounts wrap rather than being cut short
        table.add_column(col, justify="right" if col in right else "left", overflow="fold")
    return table


def cell(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def compact(value: Any) -> str:
    """A changed value: scalars as they are, a record as its non-empty fields."""
    if isinstance(value, Mapping):
        return " ".join(f"{k}={compact(v)}" for k, v in value.items() if v not in (None, "", {}, []))
    return cell(value)


def iso(ts_ms: int | None) -> str:
    if ts_ms is None:
        return "-"
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def duration(ms: int) -> str:
    """A span as "1h 02m 05s" (sign dropped)."""
    s = abs(ms) // 1000
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h {m:02d}m {sec:02d}s" if h else f"{m}m {sec:02d}s"


def countdown(ms: int | None) -> str:
    if ms is None:
        return ""
    return f"in {duration(ms)}" if ms > 0 else f"passed {duration(ms)} ago"


def print_json(doc: Any) -> None:
    print(json.dumps(doc, indent=2, sort_keys=True, default=str))


def body_text(body: Any) -> str:
    """A request body as sent (keys in wire order), one object a line."""
    if isinstance(body, list):
        return "[\n" + ",\n".join(f"  {json.dumps(item)}" for item in body) + "\n]"
    return json.dumps(body)


def num(value: Any) -> str:
    """A decimal string for display: trailing zeros beyond the value dropped, never an exponent."""
    if value is None:
        return "-"
    text = str(value)
    if "." in text and "e" not in text.lower():
        text = text.rstrip("0")
        return text + "0" if text.endswith(".") else text
    return text


# --- the state ---------------------------------------------------------------------------------


def rung_rows(state: LadderState) -> list[dict[str, Any]]:
    return [
        {
            "level": r.level,
            "clOrdId": r.clOrdId,
            "ordId": r.ordId,
            "state": r.state,
            "px": format(r.px, "f"),
            "sz": format(r.sz, "f"),
            "accFillSz": format(r.accFillSz, "f"),
            "avgPx": None if r.avgPx is None else format(r.avgPx, "f"),
            "okx_state": r.okx.state,
            "cancelSource": r.okx.cancelSource,
            "reject": r.reject,
            "stray": r.stray,
        }
        for r in state.rungs
    ]


def state_document(machine: str, state: LadderState, cursor: dict[str, Any] | None) -> dict[str, Any]:
    """The `status --json` core (keys documented in the README)."""
    return {
        "machine": machine,
        "state": state.state,
        "cycle_id": state.cycle_id,
        "cycles_completed": state.cycles_completed,
        "signal": None if state.signal is None else state.signal.to_dict(),
        "expiry_ts": state.expiry_ts,
        "entry_start_ts": state.entry_start_ts,
        "exit_due_ts": state.exit_due_ts,
        "rungs": rung_rows(state),
        "fills": [f.to_dict() for f in state.fills],
        "filled_sz": format(state.filled_sz, "f"),
        "position": None if state.position is None else state.position.to_dict(),
        "close_request": None if state.close_request is None else state.close_request.to_dict(),
        "exit_cl_ord_ids": list(state.exit_cl_ord_ids),
        "position_anomaly": state.position_anomaly,
        "paused": state.paused,
        "flatten_requested": state.flatten_requested,
        "journal": cursor,
    }


RUNG_COLUMNS = ("level", "clOrdId", "ordId", "px", "sz", "state", "accFillSz", "avgPx")
MONEY = ("px", "sz", "accFillSz", "avgPx", "fillPx", "fillSz", "fee", "pos", "upl", "markPx", "liqPx")


def rungs_table(console: Console, rungs: Sequence[Mapping[str, Any]]) -> Table:
    table = new_table(console, *RUNG_COLUMNS, title="rungs", right=MONEY)
    for row in rungs:
        state = str(row["state"])
        if fancy(console):
            colour = _fill_colour(Decimal(str(row["accFillSz"] or 0)), Decimal(str(row["sz"])))
            state = f"[{colour}]{state}[/{colour}]"
        table.add_row(*(state if c == "state" else cell(row[c]) for c in RUNG_COLUMNS))
    return table


def _fill_colour(filled: Decimal, size: Decimal) -> str:
    """Green once the rung's whole size filled, yellow part-way, cyan before any fill."""
    return "green" if filled >= size > 0 else "yellow" if filled > 0 else "cyan"


def fills_table(console: Console, fills: Sequence[Mapping[str, Any]]) -> Table:
    cols = ("fillTime", "clOrdId", "tradeId", "side", "fillPx", "fillSz", "fee")
    table = new_table(console, *cols, title="fills", right=MONEY)
    for f in fills:
        table.add_row(*(iso(f["fillTime"]) if c == "fillTime" else cell(f[c]) for c in cols))
    return table


def headline(console: Console, doc: Mapping[str, Any]) -> None:
    state = doc["state"]
    shown = f"[bold cyan]{state}[/bold cyan]" if fancy(console) else state
    console.print(
        f"{doc['machine']}  state {shown}  cycle {cell(doc['cycle_id'])}  "
        f"completed cycles {doc['cycles_completed']}"
    )


def signal_line(console: Console, sig: Mapping[str, Any] | None) -> None:
    if sig is not None:
        console.print(
            f"signal    {sig['provider']}  candle {iso(sig['candle_ts'])}  ref_px {num(sig['ref_px'])}  "
            f"close {sig['close']}  lookback {sig['lookback']}"
        )


def print_state(console: Console, doc: Mapping[str, Any]) -> None:
    """The compact view of a state document (after a tick)."""
    headline(console, doc)
    signal_line(console, doc["signal"])
    if doc["expiry_ts"] or doc["exit_due_ts"]:
        console.print(f"entry expiry {iso(doc['expiry_ts'])}   exit due {iso(doc['exit_due_ts'])}")
    if doc["rungs"]:
        console.print(rungs_table(console, doc["rungs"]))
    if doc["fills"]:
        console.print(f"fills: {len(doc['fills'])}  filled {doc['filled_sz']} contracts")
    pos = doc["position"]
    if pos is not None:
        console.print(
            f"position  {pos['instId']} {pos['posSide']} {pos['pos']}  avgPx {cell(pos['avgPx'])}  "
            f"upl {cell(pos['upl'])}"
        )
    close_line(console, doc["close_request"])
    anomaly_lines(console, doc)


def close_line(console: Console, req: Mapping[str, Any] | None) -> None:
    if req is not None:
        okx = req["okx"]
        console.print(
            f"exit      {req['clOrdId']} (attempt {req['attempt']}) requested by {req['requested_by']} at "
            f"{iso(req['requested_ts'])}, sent {iso(req['sent_ts'])} sz {cell(req['sz'])}, outcome "
            f"{cell(req['outcome'])}, okx {cell(okx['state'])} {okx['accFillSz']}"
        )


def account_line(console: Console, account: Mapping[str, Any] | None) -> None:
    """The account's modes and leverage as OKX has them (observed), and whether the machine fits."""
    if account is None:
        return
    levers = ", ".join(f"{side} {lever}x" for side, lever in account["leverage"].items())
    wanted = "" if account["leverage_wanted"] is None else f" (the YAML wants {account['leverage_wanted']}x)"
    fits = "refused: " + account["refusal"] if account["refusal"] else "fits the machine"
    console.print(
        f"account   {account['posMode']} acctLv {account['acctLv']}  {account['td_mode']} leverage {levers}"
        f"{wanted}: {fits}",
        markup=False,
        soft_wrap=True,
    )


def operator_line(console: Console, doc: Mapping[str, Any]) -> None:
    """The operator's standing requests: paused, flatten asked, requests queued for the runner."""
    parts = []
    if doc["paused"]:
        parts.append("PAUSED: no new cycle starts (okx-fsm resume)")
    if doc["flatten_requested"]:
        parts.append("flatten requested: cancelling, then exiting our own position")
    if doc.get("queued"):
        parts.append(
            f"{len(doc['queued'])} request(s) queued for the runner: "
            + ", ".join(q["command"] for q in doc["queued"])
        )
    if parts:
        console.print("operator  " + "; ".join(parts), markup=False, soft_wrap=True)


def runner_line(console: Console, beat: Mapping[str, Any] | None) -> None:
    """The runner's last tick of this machine, and a warning when it is parked or has gone quiet."""
    if beat is None:
        return
    age = beat["age_s"]
    ago = "-" if age is None else f"{age:.0f} s ago"
    took = beat["last_duration_s"]
    line = (
        f"runner    last tick {ago} ({'-' if took is None else f'{took:.2f}'} s): "
        f"{cell(beat['last_result'])}; {beat['consecutive_failures']} failure(s) in a row"
    )
    if beat["parked"]:
        line += f"  PARKED: {beat['parked']}"
    elif beat["stale"]:
        line += f"  WARNING: no tick for over {3 * (beat['interval_s'] or 0):.0f} s: is the runner running?"
    console.print(line, markup=False, soft_wrap=True)


def anomaly_lines(console: Console, doc: Mapping[str, Any]) -> None:
    """What the exchange shows that the machine does not own or did not expect: strays, a short position."""
    for rung in doc["rungs"]:
        if rung["stray"]:
            console.print(
                f"anomaly   rung {rung['level']} {rung['clOrdId']} is {rung['state']} here but works on OKX: "
                "it is ours and is being cancelled"
            )
    if doc["position_anomaly"]:
        console.print(
            f"anomaly   {doc['position_anomaly']}: someone closed part of our position by hand; the exit "
            "sells only what OKX holds"
        )


def fired_lines(console: Console, fired: Sequence[Mapping[str, Any]], prefix: str = "") -> None:
    for f in fired:
        dest = f"[bold]{f['dest']}[/bold]" if fancy(console) else f["dest"]
        console.print(f"{prefix}{f['source']} -> {dest}  (row {f['index']}: {f['description']})")


def next_table(console: Console, nxt: Mapping[str, Any]) -> Table:
    """The rows that may fire from the current state, each guard's value, and the one that fires."""

    def value(v: bool | None) -> str:
        return "?" if v is None else ("yes" if v else "no")

    table = new_table(console, "row", "to", "guards", "unless", "fires")
    for c in nxt["candidates"]:
        fires = "<- fires" if nxt["fires"] == c["index"] else ("" if c["passes"] is not None else "?")
        table.add_row(
            str(c["index"]),
            c["dest"],
            ", ".join(f"{g}={value(v)}" for g, v in c["guards"].items()) or "-",
            ", ".join(f"{g}={value(v)}" for g, v in c["unless"].items()) or "-",
            fires,
        )
    return table


def print_status(console: Console, doc: Mapping[str, Any]) -> None:
    """The status screen: state, signal, clock and countdowns, rungs, fills, position and PnL, next row."""
    headline(console, doc)
    console.print(f"market    {doc['symbol']} {doc['bar']}   state file {doc['state_file']}")
    recovery_line(console, doc.get("recovery"))
    operator_line(console, doc)
    signal_line(console, doc["signal"])
    clock = doc["clock"]
    if clock["now_ms"] is not None:
        where = "exchange time" if clock["source"] == "exchange" else "exchange time of the last tick"
        console.print(f"clock     {iso(clock['now_ms'])} ({where})")
    if doc["expiry_ts"] is not None:
        console.print(f"expiry    {iso(doc['expiry_ts'])}  {countdown(clock['expiry_in_ms'])}")
    if doc["exit_due_ts"] is not None:
        console.print(f"exit due  {iso(doc['exit_due_ts'])}  {countdown(clock['exit_due_in_ms'])}")
    if doc["rungs"]:
        console.print(rungs_table(console, doc["rungs"]))
    if doc["fills"]:
        console.print(fills_table(console, doc["fills"]))
    pos, pnl = doc["position"], doc["pnl"]
    if pos is not None or pnl["upl"] is not None:
        size = pos["pos"] if pos is not None else "-"
        console.print(
            f"position  {doc['symbol']} {cell(pos and pos['posSide'])} {size}  "
            f"avg fill {cell(pnl['avg_fill_px'])}  mark {cell(pnl['mark_px'])}  "
            f"upl {cell(pnl['upl'])} ({cell(pnl['upl_source'])})  fees {pnl['fees']} {cell(pnl['fee_ccy'])}"
        )
    if pnl["bought"] != "0":
        console.print(
            f"pnl       bought {pnl['bought']} @ {cell(pnl['avg_entry'])}  sold {pnl['sold']} @ "
            f"{cell(pnl['avg_exit'])}  open {pnl['own_open']}  realized {cell(pnl['realized_pnl'])} "
            f"{cell(pnl['fee_ccy'])} (from the journaled fills, fees included)"
        )
    close_line(console, doc["close_request"])
    anomaly_lines(console, doc)
    account_line(console, doc["account"])
    runner_line(console, doc["runner"])
    print_next(console, doc["next"])


def recovery_line(console: Console, recovery: Mapping[str, Any] | None) -> None:
    """Say so when the journal is ahead of the state file, whose state is then the journal's."""
    if not recovery or not recovery["journal_ahead"]:
        return
    seq = recovery["journal_seq"]
    if recovery["state_file_seq"] is None:
        where = f"there is no state file, the journal is at seq {seq}"
        fix = "the next tick rebuilds the state file from it"
    else:
        where = f"the state file is at seq {recovery['state_file_seq']}, the journal at seq {seq}"
        fix = "the next tick rolls the state file forward"
    text = f"journal ahead: {where}; showing the journal's state ({fix})"
    shown = f"[bold yellow]{text}[/bold yellow]" if fancy(console) else text
    console.print(f"recovery  {shown}", soft_wrap=True)  # one line, so that it can be grepped


def print_next(console: Console, nxt: Mapping[str, Any]) -> None:
    if not nxt["candidates"]:
        console.print(f"next      no row leaves {nxt['state']}")
        return
    if nxt["observed"]:
        console.print(f"next tick from {nxt['state']} (guards evaluated now, read-only):")
    else:
        console.print(
            f"next tick from {nxt['state']} (local files only; --observe asks OKX read-only for the guards):"
        )
    console.print(next_table(console, nxt))


# --- the other read commands -------------------------------------------------------------------


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
    naming = f" (records naming {doc['cl_ord_id']})" if doc["cl_ord_id"] else ""
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
        if beat is not None and beat["parked"]:
            notes.append(f"PARKED: {beat['parked']}")
        elif beat is not None and beat["consecutive_failures"]:
            notes.append(f"{beat['consecutive_failures']} failed: {beat['last_result']}")
        elif beat is not None and beat["stale"]:
            notes.append("runner quiet")
        if doc["position_anomaly"]:
            notes.append(doc["position_anomaly"])
        if any(r["stray"] for r in doc["rungs"]):
            notes.append("stray order on OKX")
        if doc["paused"]:
            notes.append("paused")
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
                "realized": cell(pnl["realized_pnl"]),
                "upl": cell(pnl["upl"]),
                "expiry": countdown(clock["expiry_in_ms"]),
                "exit due": countdown(clock["exit_due_in_ms"]),
                "last tick": "-" if beat is None or beat["age_s"] is None else f"{beat['age_s']:.0f} s ago",
                "note": "; ".join(notes) or "-",
            }
        )
    return rows


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
