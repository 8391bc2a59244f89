"""Commands that read: the state (status, watch), OKX through an unarmed client (intent, open-orders,
reconcile, account) and the journal (history, verify-log, repair). None of them can POST; reconcile
journals what it observed and repair moves a torn journal tail (and a state file ahead of the journal)
aside, nothing else writes."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fsm.cli.command import add, alias
from fsm.cli.options import (
    DEFAULT_STATE_DIR,
    AcceptSpecOpt,
    BaseUrlOpt,
    Common,
    JsonOpt,
    LiveOpt,
    MachineArg,
    StateDirOpt,
    console,
    seconds,
)

if TYPE_CHECKING:
    from exchange import OkxClient
    from fsm.report.cycles import CycleScan

SEED_MACHINE = "eth_robust_twap_15m"  # the seed's eth-robust-twap-* commands were this machine's

ObserveOpt = Annotated[
    bool, typer.Option("--observe", help="ask OKX (read-only) to evaluate the next row's guards")
]


def status(
    machine: MachineArg,
    observe: ObserveOpt = False,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The machine at a glance: state, rungs, fills, position and PnL, countdowns, the next row.

    Local files only (no network) unless --observe. Reads and verifies the state file and journal
    without the lock and writes nothing; a journal ahead of the state file is shown rolled forward.
    """
    from fsm.cli.render_status import print_status

    common = Common(state_dir, base_url, live, as_json)
    client = common.reader() if observe else None
    common.emit(status_doc(machine, state_dir, client), print_status)


def status_doc(
    machine: str, state_dir: Path, client: OkxClient | None, scans: dict[Path, CycleScan] | None = None
) -> dict[str, Any]:
    """The status document from local files (verified, never written); with a client, observed.
    `scans` keeps each journal's finished cycles read so far, for the next refresh of a watch."""
    from fsm.cli.reports_status import observe_for_status, status_document
    from fsm.engine.machine import load_machine
    from fsm.engine.tick import typed_state
    from fsm.persist.store import StateStore

    loaded = load_machine(machine, state_dir=state_dir)
    store = StateStore(loaded.state_path, loaded.identity, allow_spec_change=True)
    inspection = store.inspect()
    state = loaded.fresh_state() if inspection.snapshot is None else typed_state(store, inspection.snapshot)
    cursor = None if inspection.snapshot is None else asdict(inspection.cursor)
    observation = None
    if client is not None:
        from fsm.engine.view import ExchangeView

        observation = observe_for_status(loaded, state, ExchangeView(client))
    scan = None
    if scans is not None:
        from fsm.report.cycles import CycleScan

        journal = loaded.state_path.with_suffix(".jsonl")
        scan = scans.setdefault(journal, CycleScan(journal))
    return status_document(
        loaded,
        state,
        cursor,
        observation,
        inspection=inspection,
        spec_changed_from=store.spec_changed_from,
        scan=scan,
    )


def watch(
    machines: Annotated[list[str], typer.Argument(help="one or more machines")],
    interval: Annotated[float, typer.Option(help="seconds between refreshes", callback=seconds())] = 5.0,
    count: Annotated[
        int | None,
        typer.Option(help="refreshes before exiting (0: until Ctrl-C; piped, the default is 1)", min=0),
    ] = None,
    observe: Annotated[bool, typer.Option("--observe", help="also ask OKX (read-only) each refresh")] = False,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
) -> None:
    """A live screen of machines: state, rungs, position, PnL, countdowns, last tick and errors.

    From the state files (and OKX with --observe); a rich live view on a terminal, plain snapshots when
    piped. Never writes.
    """
    import time

    from fsm.cli.render import fancy
    from fsm.cli.render_reads import watch_view

    screen_console = console()
    client = Common(state_dir, base_url, live).reader() if observe else None
    rounds = count if count is not None else (0 if fancy(screen_console) else 1)
    scans: dict[Path, CycleScan] = {}  # each refresh reads only what the journals gained since the last

    def snapshot() -> Any:
        return watch_view(screen_console, [status_doc(m, state_dir, client, scans) for m in machines])

    if not fancy(screen_console):
        done = 0
        while True:
            screen_console.print(snapshot(), markup=False, soft_wrap=True)
            done += 1
            if rounds and done >= rounds:
                return
            time.sleep(interval)
    from rich.live import Live

    with Live(snapshot(), console=screen_console, refresh_per_second=4) as screen:
        done = 1
        try:
            while not rounds or done < rounds:
                time.sleep(interval)
                screen.update(snapshot())
                done += 1
        except KeyboardInterrupt:
            return


def intent(
    machine: MachineArg,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The signal, the exact entry payloads, the expiry and the transition they would cause. Read-only."""
    from fsm.cli.render_reads import print_intent
    from fsm.cli.reports_reads import intent_document
    from fsm.engine.view import ExchangeView

    common = Common(state_dir, base_url, live, as_json)
    loaded, state, client = common.read_only(machine)
    common.emit(intent_document(loaded, state, ExchangeView(client)), print_intent)


def open_orders(
    machine: MachineArg,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """OKX's pending orders on the machine's symbol: ours marked by clOrdId, foreign ones never touched."""
    from fsm.cli.render_reads import print_open_orders
    from fsm.cli.reports_reads import open_orders_document

    common = Common(state_dir, base_url, live, as_json)
    loaded, state, client = common.read_only(machine)
    doc = open_orders_document(loaded, state, client.list_open_orders(loaded.params.symbol))
    common.emit(doc, print_open_orders)


def reconcile(
    machine: MachineArg,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    as_json: JsonOpt = False,
    accept_spec_change: AcceptSpecOpt = False,
) -> None:
    """A tick with an unarmed client: reads OKX, journals what changed, prints it. Never POSTs."""
    from fsm.cli.render_reads import print_reconcile
    from fsm.cli.reports_reads import reconcile_document
    from fsm.engine.machine import load_machine
    from fsm.engine.tick import open_machine_state, run_tick
    from fsm.engine.view import ExchangeView

    common = Common(state_dir, base_url, live, as_json)
    loaded = load_machine(machine, state_dir=state_dir)
    client = common.reader()
    with open_machine_state(loaded, allow_spec_change=accept_spec_change) as (store, state):
        before = state.to_dict()
        result = run_tick(loaded, store, state, ExchangeView(client), trader=None)
        doc = reconcile_document(loaded, before, result, {"seq": store.cursor.seq, "hash": store.cursor.hash})
    common.emit(doc, print_reconcile)


def account(base_url: BaseUrlOpt = None, live: LiveOpt = False, as_json: JsonOpt = False) -> None:
    """Balance and positions of the account. Read-only."""
    from fsm.cli.render_reads import print_account
    from fsm.cli.reports_reads import account_document

    common = Common(base_url=base_url, live=live, as_json=as_json)
    client = common.reader()
    doc = account_document(client.get_balance(), client.get_positions(), client.get_account_config().posMode)
    common.emit(doc, print_account)


def history(
    machine: MachineArg,
    client_order_id: Annotated[
        str | None, typer.Option("--cl-ord-id", help="only records naming this clOrdId")
    ] = None,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    as_json: JsonOpt = False,
) -> None:
    """The journal as a timeline (verified as it is read). Local files only."""
    from fsm.cli.render_reads import print_history
    from fsm.cli.reports_reads import history_document
    from fsm.engine.machine import load_machine

    doc = history_document(load_machine(machine, state_dir=state_dir), client_order_id)
    Common(state_dir, as_json=as_json).emit(doc, print_history)


ACCOUNT = "account"  # verify-log's name for the account journal


def verify_log(
    machine: MachineArg,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    as_json: JsonOpt = False,
) -> None:
    """Check the journal: gap-free seq, unbroken hash chain, no torn tail, and agreement with the state.
    MACHINE `account` checks the account journal (the trading state; `halt`, `reduce`, `resume --account`).

    Read-only: no lock (a runner may be ticking), nothing written, nothing repaired.
    """
    from fsm.cli.render import print_json
    from fsm.engine.machine import load_machine
    from fsm.errors import StateRefused
    from fsm.persist.store import StateStore

    if machine == ACCOUNT:
        from fsm.risk.ledger import ACCOUNT_IDENTITY, account_path

        journal = account_path(state_dir).with_suffix(".jsonl")
        store = StateStore(account_path(state_dir), ACCOUNT_IDENTITY)
    else:
        loaded = load_machine(machine, state_dir=state_dir)
        journal = loaded.state_path.with_suffix(".jsonl")
        store = StateStore(loaded.state_path, loaded.identity, allow_spec_change=True)
    inspection = store.inspect(full=True)
    report = inspection.journal
    if report is None:
        raise StateRefused(
            f"no journal at {journal}: this machine has not ticked with --state-dir {state_dir}"
        )
    state_cursor = inspection.state_file_cursor
    ahead = inspection.journal_ahead_by
    doc = {
        "journal": str(journal),
        "records": report.records,
        "last_seq": report.last_seq,
        "last_hash": report.last_hash,
        "first_ts": report.first_ts,
        "last_ts": report.last_ts,
        "kinds": report.kinds,
        "state_cursor": None if state_cursor is None else asdict(state_cursor),
        "journal_ahead_by": ahead,
        "segments": report.segments,
        "first_seq": report.first_seq,
    }
    if as_json:
        print_json(doc)
        return
    where = "no state file" if state_cursor is None else f"state file at seq {state_cursor.seq}"
    line = f"ok: {journal}: {report.records} records, last seq {report.last_seq}, chain intact, {where}"
    if report.segments > 1:
        line += f"; {report.segments} segments"
    if report.first_seq > 1:
        line += f"; verified from seq {report.first_seq} (the segments before it were moved away)"
    if ahead and state_cursor is None:
        line += f"; journal ahead by {ahead}: the next tick rebuilds the state file from it"
    elif ahead:
        line += (
            f"; journal ahead by {ahead} (a crash between the journal append and the state file replace): "
            "the next tick rolls the state file forward"
        )
    print(line)


def repair(machine: MachineArg, state_dir: StateDirOpt = DEFAULT_STATE_DIR) -> None:
    """Move a torn journal tail aside (into JOURNAL.torn-N), then a state file ahead of the journal
    (into STATE.ahead-N); nothing is deleted. Says what it moved and what the next tick does."""
    from fsm.engine.machine import load_machine
    from fsm.errors import StateRefused
    from fsm.persist.store import StateStore

    loaded = load_machine(machine, state_dir=state_dir)
    store = StateStore(loaded.state_path, loaded.identity, allow_spec_change=True)
    journal = store.journal_path
    if not journal.exists():
        raise StateRefused(f"{loaded.name} has no journal at {journal}: nothing to repair")
    try:
        done = store.repair()
    except ValueError as exc:
        raise StateRefused(f"{exc} (verify-log checks the whole chain)") from None
    end = done.journal_end.seq
    if done.torn_tail is not None:
        print(
            f"moved the torn tail of {journal} ({done.torn_bytes} bytes) to {done.torn_tail}; the journal "
            f"now ends at seq {end} with its chain intact"
        )
    if done.state_file is None:
        print("the next tick rolls the state forward from the journal")
        return
    start = (
        "the machine's initial state (the journal holds no snapshot)"
        if done.snapshot_seq is None
        else f"the journal's last snapshot (seq {done.snapshot_seq})"
    )
    print(
        f"moved the state file {loaded.state_path} (at seq {done.state_file_seq}, ahead of the journal's "
        f"last seq {end}) aside to {done.state_file} (kept); the next tick rebuilds the state from "
        f"{start} and observes OKX again for what the lost records held"
    )


def register(app: typer.Typer) -> None:
    """Add the read commands to `app`, and the seed's names of four of them as hidden aliases."""
    add(app, status)
    add(app, watch)
    add(app, intent)
    add(app, open_orders, "open-orders")
    add(app, reconcile)
    add(app, account)
    add(app, history)
    add(app, verify_log, "verify-log")
    add(app, repair)
    alias(app, "eth-robust-twap-order-intent", intent, machine=SEED_MACHINE)
    alias(app, "eth-robust-twap-open-orders", open_orders, machine=SEED_MACHINE)
    alias(app, "eth-robust-twap-reconcile", reconcile, machine=SEED_MACHINE)
    alias(app, "okx-account", account)
