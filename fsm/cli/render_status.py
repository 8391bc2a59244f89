"""The views of a machine's state: after a tick, on the status screen, and the rows that fire next."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from fsm.cli.render import MONEY, cell, countdown, fancy, iso, new_table
from fsm.engine.stops import ALGO_ORDER_FAILED
from fsm.errors import SPEC_CHANGE_ADVICE

RUNG_COLUMNS = ("level", "clOrdId", "ordId", "px", "sz", "state", "accFillSz", "avgPx")


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
            f"signal    {sig['provider']}  candle {iso(sig['candle_ts'])}  ref_px {sig['ref_px']}  "
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
    if doc["stops"]:
        console.print(f"stop      {stop_text(doc['stops'][-1])}", markup=False, soft_wrap=True)
    close_line(console, doc["close_request"])
    anomaly_lines(console, doc)
    risk_line(console, doc)
    cooldown_line(console, doc)


def realized_line(console: Console, realized: Mapping[str, Any]) -> None:
    """The finished cycles' realized PnL: today (UTC) and since the first cycle (okx-fsm report has more)."""
    if not realized["cycles"]:
        return
    ccy = cell(realized["fee_ccy"])
    console.print(
        f"realized  today {cell(realized['day'])} {realized['today']} {ccy} ({realized['cycles_today']} "
        f"cycle(s)); since {iso(realized['since_ts'])} {realized['total']} {ccy} ({realized['cycles']} "
        "cycle(s)), fees included",
        markup=False,
        soft_wrap=True,
    )


def stop_text(stop: Mapping[str, Any]) -> str:
    """One stop: its algoClOrdId, state, trigger price(s) and type, size, and what OKX last showed."""
    tp = "" if stop["tpTriggerPx"] is None else f"  tp {stop['tpTriggerPx']}"
    okx = stop["okx"]
    refused = stop["reject"] or ({"failCode": okx["failCode"]} if okx["state"] == ALGO_ORDER_FAILED else None)
    why = "" if not refused else "  (" + ", ".join(f"{k} {v}" for k, v in refused.items()) + ")"
    return (
        f"{stop['algoClOrdId']} {stop['state']}  sl {stop['slTriggerPx']} ({stop['trigger_px_type']}){tp}  "
        f"sz {stop['sz']}  okx {cell(okx['state'])}{why}"
    )


def protection_line(console: Console, protection: Mapping[str, Any]) -> None:
    """The stop protecting the own size, its distance from the last price, or a warning that none does."""
    own, stop = protection["own_open"], protection["stop"]
    if protection["declared"] is None:
        if protection["unprotected"]:
            console.print(f"stop      none declared: our own {own} is UNPROTECTED on OKX", markup=False)
        return
    if stop is None and not protection["unprotected"]:
        return
    text = "none placed yet" if stop is None else stop_text(stop)
    distance = protection["distance"]
    if distance is not None:
        text += f"  {distance['px']} from last {protection['last_px']} ({distance['pct']} %)"
    if protection["unprotected"]:
        text += f"  UNPROTECTED: our own {own} has no working stop of that size"
    console.print(f"stop      {text}", markup=False, soft_wrap=True)


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
    elif beat["stopped_wall_s"] is not None:
        line += "  STOPPED: the runner stopped; nothing ticks this machine"
    elif beat["stale"]:
        line += f"  WARNING: no tick for over {3 * (beat['interval_s'] or 0):.0f} s: is the runner running?"
    console.print(line, markup=False, soft_wrap=True)
    if beat.get("push"):
        console.print(f"push      {push_text(beat['push'], beat['stale'])}", markup=False, soft_wrap=True)


def push_text(push: Mapping[str, Any], stale: bool) -> str:
    """The private channel as the runner last saw it: connected, the last push, the reconnects. A stale
    heartbeat (the runner stopped, parked or quiet) never claims the channel is on."""
    last = push.get("last_push_exchange_ms")
    when = "no push yet" if last is None else f"last push {iso(int(last))}"
    if stale:
        state = "unknown: the runner is not ticking"
    else:
        state = "connected" if push.get("connected") else "NOT connected (REST reconciles alone)"
    return f"{state}, {when}, {push.get('pushes', 0)} push(es), {push.get('reconnects', 0)} reconnect(s)"


def trading_line(console: Console, doc: Mapping[str, Any]) -> None:
    """The account's trading state when it is not active: what set it, since when, what clears it."""
    account = doc["trading"]
    if account["state"] != "active":
        since = "" if account["since"] is None else f" since {iso(account['since'])}"
        console.print(
            f"account   {account['state']}{since}: set by {account['set_by']}; "
            f"clears: {account['clears']}; no new entries",
            markup=False,
            soft_wrap=True,
        )


def risk_line(console: Console, doc: Mapping[str, Any]) -> None:
    """The hard limits' last refusal of this machine's entries: what was not sent, and why."""
    from fsm.risk.gate import Refusal

    refusal = doc.get("last_risk_refusal")
    if refusal:
        console.print(
            f"risk      cycle {refusal['cycle_id']} not sent: {Refusal.from_dict(refusal)}",
            markup=False,
            soft_wrap=True,
        )


def cooldown_line(console: Console, doc: Mapping[str, Any]) -> None:
    """The cooldown after losing cycles in a row (the limits' cooldown_after_losses): set when the losing
    cycle is archived, cleared when the next cycle starts."""
    until = doc.get("cooldown_until_ts")
    if until is not None:
        line = f"cooldown  after losing cycles in a row: no cycle starts before {iso(until)}"
        console.print(line, markup=False)


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
    for stop in doc["stops"]:
        if stop["stray"]:
            console.print(
                f"anomaly   stop {stop['algoClOrdId']} is {stop['state']} here but works on OKX: it is ours "
                "and is being cancelled"
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
    trading_line(console, doc)
    standing_lines(console, doc)
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
    realized_line(console, doc["realized"])
    protection_line(console, doc["protection"])
    close_line(console, doc["close_request"])
    anomaly_lines(console, doc)
    risk_line(console, doc)
    cooldown_line(console, doc)
    account_line(console, doc["account"])
    runner_line(console, doc["runner"])
    print_next(console, doc["next"])


def standing_lines(console: Console, doc: Mapping[str, Any]) -> None:
    """Say so when what status shows is not a running machine's state: nothing has run with this state
    directory, or the YAML changed since the state was written (tick and run refuse it)."""
    lines = []
    if not doc["exists"]:
        lines.append(
            f"no state  no state file exists at {doc['state_file']} (and no journal): this machine has not "
            "run with this --state-dir; shown is its initial state"
        )
    change = doc["spec_change"]
    if change is not None:
        lines.append(
            f"spec      WARNING: the YAML changed since this state was written (spec hash "
            f"{change['yaml_spec_hash'][:12]}, the state's {change['state_spec_hash'][:12]}): tick and run "
            f"refuse it; {SPEC_CHANGE_ADVICE}"
        )
    for text in lines:
        console.print(text, style="bold yellow" if fancy(console) else None, markup=False, soft_wrap=True)


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
