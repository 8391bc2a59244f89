"""The `okx-fsm` command line: parse options, call one function, render its document.

Imports that a command does not need stay inside that command, so `okx-fsm --help` stays fast.
Exit codes: 0 ok; 1 the demo's story broke; 2 usage or spec error; 3 state refused; 4 exchange
error; 5 lock held. Read commands hold an unarmed client; only --submit arms one, and --live with
--submit asks for a typed confirmation (--yes for scripts).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from exchange import OkxClient
    from fsm.engine.control import Outcome, Request
    from fsm.engine.machine import LoadedMachine
    from fsm.engine.state import LadderState
    from fsm.engine.venue import Venue

app = typer.Typer(
    name="okx-fsm",
    help="An explicit finite-state-machine engine for OKX v5 order lifecycles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

P = ParamSpec("P")
R = TypeVar("R")

MachineArg = Annotated[str, typer.Argument(help="machine name (machines/NAME.yaml) or path to a YAML file")]
StateDirOpt = Annotated[Path, typer.Option("--state-dir", help="where state files and journals live")]
BaseUrlOpt = Annotated[
    str | None, typer.Option("--base-url", help="venue base URL (default $OKX_BASE_URL or OKX)")
]
LiveOpt = Annotated[bool, typer.Option("--live", help="trade live (default: demo trading header)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON document")]
AdoptOpt = Annotated[
    bool,
    typer.Option(
        "--adopt",
        help="take over orders with this machine's clOrdId prefix that OKX holds and the state does not know",
    ),
]
AcceptSpecOpt = Annotated[
    bool,
    typer.Option(
        "--accept-spec-change",
        help="the machine's YAML changed on purpose: journal the new spec hash and go on",
    ),
]
SubmitOpt = Annotated[bool, typer.Option("--submit", help="arm the client: this command may POST orders")]
YesOpt = Annotated[bool, typer.Option("--yes", help="skip the typed confirmation that --live --submit asks")]

EXIT_USAGE = 2
EXIT_STATE_REFUSED = 3
EXIT_EXCHANGE = 4
LIVE_WORD = "LIVE"


def _console(stderr: bool = False) -> Console:
    from fsm.cli.render import make_console

    return make_console(stderr=stderr)


def _emit(doc: dict[str, Any], as_json: bool, show: Callable[[Any, dict[str, Any]], None]) -> None:
    """Every read command's ending: one JSON document with --json, else the rich view of the same."""
    if as_json:
        from fsm.cli.render import print_json

        print_json(doc)
    else:
        show(_console(), doc)


def handles_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn engine and exchange errors into one clear line on stderr and their stable exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from exchange import OkxError
        from fsm.errors import EngineError

        try:
            return fn(*args, **kwargs)
        except EngineError as exc:
            _console(stderr=True).print(f"error: {exc}", markup=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except OkxError as exc:
            _console(stderr=True).print(
                f"exchange error: {type(exc).__name__}: {exc}", markup=False, soft_wrap=True
            )
            raise typer.Exit(EXIT_EXCHANGE) from None

    return wrapper


def _venue(base_url: str | None, live: bool, *, submit: bool = False, yes: bool = False) -> Venue:
    """Where to connect; with --live and --submit, only after the operator types LIVE (or --yes)."""
    from fsm.engine.venue import Venue

    venue = Venue.from_options(base_url, live)
    if venue.live and submit and not yes:
        err = _console(stderr=True)
        err.print(f"LIVE trading on {venue.base_url}: this command may send real orders.", markup=False)
        try:
            answer = typer.prompt(f"Type {LIVE_WORD} to continue", default="", show_default=False, err=True)
        except typer.Abort:
            answer = ""
        if answer.strip() != LIVE_WORD:
            err.print("not confirmed: nothing was sent", markup=False)
            raise typer.Exit(EXIT_USAGE)
    return venue


def _read_only(
    machine: str, state_dir: Path, base_url: str | None, live: bool
) -> tuple[LoadedMachine, LadderState, OkxClient]:
    """Where read commands start: the machine, its last saved state (no lock), an unarmed client."""
    from fsm.engine.machine import load_machine
    from fsm.engine.tick import read_state_unlocked

    loaded = load_machine(machine, state_dir=state_dir)
    state, _ = read_state_unlocked(loaded)
    return loaded, state, _venue(base_url, live).client(armed=False)


def _alias(name: str, fn: Callable[..., Any]) -> None:
    """The seed's command names, kept working but out of --help."""
    app.command(name, hidden=True)(fn)


@app.callback()
def _root() -> None:
    """okx-fsm: explicit, recoverable OKX order lifecycles."""


# --- machine definitions -----------------------------------------------------------------------


@app.command()
@handles_errors
def check(
    machine: MachineArg,
    as_json: JsonOpt = False,
    observe: Annotated[
        bool, typer.Option("--observe", help="also ask OKX (read-only) whether the account's modes fit")
    ] = False,
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
) -> None:
    """Validate a machine's YAML (and its order machine); with --observe, the account it would trade."""
    from fsm.cli.render import account_line, print_json
    from fsm.engine.machine import load_machine

    loaded = load_machine(machine, state_dir=Path("state"))
    spec = loaded.spec
    account = None
    if observe:
        from fsm.cli.reports import account_fit_document
        from fsm.engine.view import ExchangeView

        account = account_fit_document(loaded, ExchangeView(_venue(base_url, live).client(armed=False)))
    if as_json:
        print_json(
            {
                "path": str(spec.path),
                "machine": spec.name,
                "kind": spec.kind,
                "states": list(spec.state_names),
                "rows": len(spec.rows),
                "spec_hash": spec.spec_hash,
                "order_machine": loaded.order_spec.name,
                "account": account,
            }
        )
    else:
        print(
            f"ok: {spec.path}: machine {spec.name} ({spec.kind}), {len(spec.states)} states, "
            f"{len(spec.rows)} rows; order machine {loaded.order_spec.name} ok"
        )
        account_line(_console(), account)
    if account is not None and account["refusal"]:
        raise typer.Exit(EXIT_EXCHANGE)


@app.command()
@handles_errors
def diagram(
    machine: MachineArg,
    fmt: Annotated[str, typer.Option("--format", help="mermaid | dot | svg | png")] = "mermaid",
    out: Annotated[Path | None, typer.Option("-o", "--output", help="write to FILE, not stdout")] = None,
    state_dir: StateDirOpt = Path("state"),
) -> None:
    """Draw the machine from its YAML, guards on the edges; the current state highlighted if known."""
    from fsm.engine.machine import load_ladder_spec, load_machine, resolve_machine_path
    from fsm.engine.tick import read_state_unlocked
    from fsm.errors import EngineError
    from fsm.spec import diagram as draw

    if fmt not in ("mermaid", "dot", "svg", "png"):
        raise typer.BadParameter(f"--format must be mermaid, dot, svg or png, not {fmt!r}")
    spec = load_ladder_spec(resolve_machine_path(machine))
    current = None
    if spec.kind == "ladder":
        loaded = load_machine(machine, state_dir=state_dir)
        if loaded.state_path.exists():
            try:
                current = read_state_unlocked(loaded)[0].state
            except EngineError:
                current = None  # a refused state file is `status`'s business; the drawing needs none
    if fmt in ("svg", "png"):
        target = out or Path(f"{spec.name}.{fmt}")
        draw.render(spec, fmt, target, current=current)  # type: ignore[arg-type]
        print(f"wrote {target}")
        return
    text = draw.to_mermaid(spec, current) if fmt == "mermaid" else draw.to_dot(spec, current)
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        out.write_text(text)
        print(f"wrote {out}")


# --- the simulator and the demo ----------------------------------------------------------------


@app.command()
@handles_errors
def sim(
    host: Annotated[str, typer.Option(help="bind address (loopback unless --allow-remote)")] = "127.0.0.1",
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="listen on a non-loopback --host (API clients from elsewhere; the /sim/ admin routes "
            "still answer loopback clients only)",
        ),
    ] = False,
    port: Annotated[str, typer.Option(metavar="INTEGER", help="0 picks a free port")] = "0",
    seed: Annotated[str, typer.Option(metavar="INTEGER", help="seed of the price path and faults")] = "0",
    clock: Annotated[str, typer.Option(help="manual | realtime")] = "realtime",
    speed: Annotated[str, typer.Option(metavar="FLOAT", help="realtime clock speed-up (positive)")] = "1",
    start_px: Annotated[str, typer.Option("--start-px", help="starting price")] = "3000",
) -> None:
    """Serve the local OKX-compatible simulator; prints one JSON line with its URL and credentials.

    The simulator checks the flags (one line on stderr and exit 2 when one is bad).
    """
    from exchange.sim import serve

    raise typer.Exit(serve(host, port, seed, clock, speed, start_px, allow_remote))


@app.command()
@handles_errors
def demo(
    seed: Annotated[int, typer.Option(help="seed of the simulated market")] = 0,
    state_dir: Annotated[
        Path | None, typer.Option("--state-dir", help="an empty folder for the files (default: a temp dir)")
    ] = None,
) -> None:
    """Two full cycles of the ETH ladder against an in-process simulator (no credentials needed)."""
    import tempfile

    from fsm.demo.screen import DemoScreen
    from fsm.demo.story import run_demo

    folder = state_dir or Path(tempfile.mkdtemp(prefix="okx-fsm-demo-"))
    console = _console()
    with DemoScreen(console) as screen:
        summary = run_demo(seed=seed, state_dir=folder, on_step=screen.step, on_start=screen.start)
    screen.summary(summary)


# --- the loop ----------------------------------------------------------------------------------


@app.command()
@handles_errors
def tick(
    machine: MachineArg,
    submit: SubmitOpt = False,
    state_dir: StateDirOpt = Path("state"),
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    accept_spec_change: AcceptSpecOpt = False,
    adopt: AdoptOpt = False,
) -> None:
    """One reconcile tick: observe OKX, fire the first passing rows, journal every step."""
    from fsm.cli.render import fired_lines, print_json, print_state, state_document
    from fsm.engine.machine import load_machine
    from fsm.engine.tick import open_machine_state, run_tick
    from fsm.engine.view import ExchangeView

    loaded = load_machine(machine, state_dir=state_dir)
    client = _venue(base_url, live, submit=submit, yes=yes).client(armed=submit)
    with open_machine_state(loaded, allow_spec_change=accept_spec_change) as (store, state):
        result = run_tick(
            loaded, store, state, ExchangeView(client), trader=client if submit else None, adopt=adopt
        )
        doc = state_document(loaded.name, result.state, {"seq": store.cursor.seq, "hash": store.cursor.hash})
    fired = [f.__dict__ for f in result.fired]
    if as_json:
        doc["tick"] = {
            "before": result.before,
            "after": result.after,
            "fired": fired,
            "journaled": result.journaled,
            "rolled_forward": result.rolled_forward,
            "armed": submit,
        }
        print_json(doc)
        return
    console = _console()
    fired_lines(console, fired)
    if not result.fired:
        console.print(
            f"no transition: stays in {result.after}"
            + ("" if submit else " (read-only; --submit arms actions that send)"),
            markup=False,
        )
    print_state(console, doc)


def _env(name: str) -> str:
    """The environment variable that may give a `run` option (for a service unit without a config file)."""
    return f"OKX_FSM_{name}"


@app.command()
@handles_errors
def run(
    machines: Annotated[
        list[str], typer.Argument(help="one or more machines", envvar=_env("MACHINES"), show_envvar=True)
    ],
    submit: Annotated[
        bool, typer.Option("--submit", help="arm the actions that send orders", envvar=_env("SUBMIT"))
    ] = False,
    interval: Annotated[
        float, typer.Option(help="seconds between a machine's ticks", envvar=_env("INTERVAL"))
    ] = 30.0,
    ticks: Annotated[
        int, typer.Option(help="stop after this many rounds (0: until SIGINT/SIGTERM)", envvar=_env("TICKS"))
    ] = 0,
    state_dir: Annotated[
        Path,
        typer.Option("--state-dir", help="state files, journals and the run log", envvar=_env("STATE_DIR")),
    ] = Path("state"),
    base_url: BaseUrlOpt = None,
    live: Annotated[bool, typer.Option("--live", help="trade live", envvar=_env("LIVE"))] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="skip the typed LIVE confirmation", envvar=_env("YES"))
    ] = False,
    accept_spec_change: Annotated[
        bool, typer.Option("--accept-spec-change", help="journal a changed YAML's hash and go on")
    ] = False,
    adopt: AdoptOpt = False,
    notify: Annotated[
        str | None,
        typer.Option(
            help="webhook URL: a JSON POST on fills, anomalies, rejections, parking, the stop",
            envvar=_env("NOTIFY"),
        ),
    ] = None,
) -> None:
    """Tick machines as a service: one ExchangeView per round; a failing machine backs off or is parked
    while the others go on. SIGINT/SIGTERM finish the tick in flight; a second SIGINT stops at once."""
    import logging
    import signal
    from contextlib import ExitStack

    from fsm.cli.render import fancy
    from fsm.service import runlog
    from fsm.service.runner import Runner, RunOptions

    client = _venue(base_url, live, submit=submit, yes=yes).client(armed=submit)
    log_file = runlog.configure(state_dir, rich=fancy(_console(stderr=True)))
    from fsm.service.notify import Notifier

    notifier = Notifier(notify) if notify else None
    options = RunOptions(submit, interval, ticks, accept_spec_change, adopt, notifier)
    runner = Runner(machines, state_dir, client, options)

    def first_stop(signum: int, frame: Any) -> None:
        runner.request_stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second SIGINT stops at once

    with ExitStack() as stack:
        for signum in (signal.SIGINT, signal.SIGTERM):  # restored on exit
            stack.callback(signal.signal, signum, signal.signal(signum, first_stop))
        logging.getLogger("okx_fsm.run").info(
            "runner started: %s, %s, every %.0f s; log %s",
            ", ".join(machines),
            "armed" if submit else "read-only",
            interval,
            log_file,
        )
        rounds = runner.run()
    if notifier is not None:
        notifier.close()
    _console().print(f"stopped after {rounds} tick(s)", markup=False)
    if all(slot.parked for slot in runner.slots):
        raise typer.Exit(EXIT_STATE_REFUSED)


@app.command()
@handles_errors
def repair(machine: MachineArg, state_dir: StateDirOpt = Path("state")) -> None:
    """Move a torn journal tail aside (saved in <journal>.torn-<n>, never deleted); says what it moved."""
    from fsm.engine.machine import load_machine
    from fsm.errors import StateRefused
    from fsm.persist.journal import read_journal
    from fsm.persist.store import StateStore

    loaded = load_machine(machine, state_dir=state_dir)
    store = StateStore(loaded.state_path, loaded.identity, allow_spec_change=True)
    journal = store.journal_path
    if not journal.exists():
        raise StateRefused(f"{loaded.name} has no journal at {journal}: nothing to repair")
    before = journal.stat().st_size
    try:
        moved = store.repair_torn_tail()
    except ValueError as exc:
        raise StateRefused(f"{exc} (verify-log checks the whole chain)") from None
    scan = read_journal(journal)
    print(
        f"moved the torn tail of {journal} ({before - journal.stat().st_size} bytes) to {moved}; "
        f"the journal now ends at seq {scan.last_seq} with its chain intact; the next tick rolls the "
        "state forward from it"
    )


# --- read commands -----------------------------------------------------------------------------


@app.command()
@handles_errors
def status(
    machine: MachineArg,
    observe: Annotated[
        bool, typer.Option("--observe", help="ask OKX (read-only) to evaluate the next row's guards")
    ] = False,
    state_dir: StateDirOpt = Path("state"),
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The machine at a glance: state, rungs, fills, position and PnL, countdowns, the next row.

    Local files only (no network) unless --observe. Reads and verifies the state file and journal
    without the lock and writes nothing; a journal ahead of the state file is shown rolled forward.
    """
    from fsm.cli.render import print_status

    client = _venue(base_url, live).client(armed=False) if observe else None
    _emit(_status_doc(machine, state_dir, client), as_json, print_status)


def _status_doc(machine: str, state_dir: Path, client: OkxClient | None) -> dict[str, Any]:
    """The status document from local files (verified, never written); with a client, observed."""
    from fsm.cli.reports import observe_for_status, status_document
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
    return status_document(loaded, state, cursor, observation, inspection=inspection)


@app.command()
@handles_errors
def watch(
    machines: Annotated[list[str], typer.Argument(help="one or more machines")],
    interval: Annotated[float, typer.Option(help="seconds between refreshes")] = 5.0,
    count: Annotated[
        int, typer.Option(help="refreshes before exiting (0: until Ctrl-C; piped, the default is 1)")
    ] = -1,
    observe: Annotated[bool, typer.Option("--observe", help="also ask OKX (read-only) each refresh")] = False,
    state_dir: StateDirOpt = Path("state"),
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
) -> None:
    """A live screen of machines: state, rungs, position, PnL, countdowns, last tick and errors.

    From the state files (and OKX with --observe); a rich live view on a terminal, plain snapshots when
    piped. Never writes.
    """
    import time

    from fsm.cli.render import fancy, watch_view

    console = _console()
    client = _venue(base_url, live).client(armed=False) if observe else None
    rounds = count if count >= 0 else (0 if fancy(console) else 1)

    def snapshot() -> Any:
        return watch_view(console, [_status_doc(m, state_dir, client) for m in machines])

    if not fancy(console):
        done = 0
        while True:
            console.print(snapshot(), markup=False, soft_wrap=True)
            done += 1
            if rounds and done >= rounds:
                return
            time.sleep(interval)
    from rich.live import Live

    with Live(snapshot(), console=console, refresh_per_second=4) as screen:
        done = 1
        try:
            while not rounds or done < rounds:
                time.sleep(interval)
                screen.update(snapshot())
                done += 1
        except KeyboardInterrupt:
            return


@app.command("intent")
@handles_errors
def intent(
    machine: MachineArg,
    state_dir: StateDirOpt = Path("state"),
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The signal, the exact entry payloads, the expiry and the transition they would cause. Read-only."""
    from fsm.cli.render import print_intent
    from fsm.cli.reports import intent_document
    from fsm.engine.view import ExchangeView

    loaded, state, client = _read_only(machine, state_dir, base_url, live)
    doc = intent_document(loaded, state, ExchangeView(client))
    _emit(doc, as_json, print_intent)


@app.command("open-orders")
@handles_errors
def open_orders(
    machine: MachineArg,
    state_dir: StateDirOpt = Path("state"),
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """OKX's pending orders on the machine's symbol: ours marked by clOrdId, foreign ones never touched."""
    from fsm.cli.render import print_open_orders
    from fsm.cli.reports import open_orders_document

    loaded, state, client = _read_only(machine, state_dir, base_url, live)
    doc = open_orders_document(loaded, state, client.list_open_orders(loaded.params.symbol))
    _emit(doc, as_json, print_open_orders)


@app.command("reconcile")
@handles_errors
def reconcile(
    machine: MachineArg,
    state_dir: StateDirOpt = Path("state"),
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    as_json: JsonOpt = False,
    accept_spec_change: AcceptSpecOpt = False,
) -> None:
    """A tick with an unarmed client: reads OKX, journals what changed, prints it. Never POSTs."""
    from fsm.cli.render import print_reconcile
    from fsm.cli.reports import reconcile_document
    from fsm.engine.machine import load_machine
    from fsm.engine.tick import open_machine_state, run_tick
    from fsm.engine.view import ExchangeView

    loaded = load_machine(machine, state_dir=state_dir)
    client = _venue(base_url, live).client(armed=False)
    with open_machine_state(loaded, allow_spec_change=accept_spec_change) as (store, state):
        before = state.to_dict()
        result = run_tick(loaded, store, state, ExchangeView(client), trader=None)
        doc = reconcile_document(loaded, before, result, {"seq": store.cursor.seq, "hash": store.cursor.hash})
    _emit(doc, as_json, print_reconcile)


@app.command("account")
@handles_errors
def account(
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Balance and positions of the account. Read-only."""
    from fsm.cli.render import print_account
    from fsm.cli.reports import account_document

    client = _venue(base_url, live).client(armed=False)
    doc = account_document(client.get_balance(), client.get_positions(), client.get_account_config().posMode)
    _emit(doc, as_json, print_account)


@app.command()
@handles_errors
def history(
    machine: MachineArg,
    cl_ord_id: Annotated[
        str | None, typer.Option("--cl-ord-id", help="only records naming this clOrdId")
    ] = None,
    state_dir: StateDirOpt = Path("state"),
    as_json: JsonOpt = False,
) -> None:
    """The journal as a timeline (verified as it is read). Local files only."""
    from fsm.cli.render import print_history
    from fsm.cli.reports import history_document
    from fsm.engine.machine import load_machine

    doc = history_document(load_machine(machine, state_dir=state_dir), cl_ord_id)
    _emit(doc, as_json, print_history)


@app.command("verify-log")
@handles_errors
def verify_log(
    machine: MachineArg,
    state_dir: StateDirOpt = Path("state"),
    as_json: JsonOpt = False,
) -> None:
    """Check the journal: gap-free seq, unbroken hash chain, no torn tail, and agreement with the state.

    Read-only: no lock (a runner may be ticking), nothing written, nothing repaired.
    """
    from fsm.cli.render import print_json
    from fsm.engine.machine import load_machine
    from fsm.errors import StateRefused
    from fsm.persist.store import StateStore

    loaded = load_machine(machine, state_dir=state_dir)
    journal = loaded.state_path.with_suffix(".jsonl")
    inspection = StateStore(loaded.state_path, loaded.identity, allow_spec_change=True).inspect(full=True)
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
    }
    if as_json:
        print_json(doc)
        return
    where = "no state file" if state_cursor is None else f"state file at seq {state_cursor.seq}"
    line = f"ok: {journal}: {report.records} records, last seq {report.last_seq}, chain intact, {where}"
    if ahead and state_cursor is None:
        line += f"; journal ahead by {ahead}: the next tick rebuilds the state file from it"
    elif ahead:
        line += (
            f"; journal ahead by {ahead} (a crash between the journal append and the state file replace): "
            "the next tick rolls the state file forward"
        )
    print(line)


# --- commands that may send (only with --submit) -----------------------------------------------


def _show_operator(
    command: str, request: Request, outcome: Outcome | None, state_doc: dict[str, Any] | None, as_json: bool
) -> None:
    """What a submit-capable command sent (or would send) and what the tick after it did."""
    from fsm.cli.render import fired_lines, print_json, print_request, print_state

    tick = outcome.tick if outcome is not None else None
    fired = [f.__dict__ for f in tick.fired] if tick is not None else []
    if as_json:
        print_json(
            {
                "command": command,
                "submitted": outcome is not None,
                "request": request.to_dict(),
                "journaled": (outcome.journaled if outcome else []) + (tick.journaled if tick else []),
                "fired": fired,
                "state": state_doc,
            }
        )
        return
    console = _console()
    print_request(console, request.to_dict(), sent=outcome is not None)
    fired_lines(console, fired)
    if state_doc is not None:
        print_state(console, state_doc)


def _machine_command(
    command: str,
    machine: str,
    options: tuple[Path, str | None, bool, bool, bool, bool],
    plan: Callable[[Any, Any], Request],
    act: Callable[[Any, Any, Any, Any], Outcome],
    rung: int | None = None,
) -> None:
    """Without --submit: plan from the state file (no lock, no network). With it: lock, plan, send;
    when a runner holds the lock, queue the request in its spool instead."""
    from fsm.cli.render import state_document
    from fsm.engine.machine import load_machine
    from fsm.engine.tick import open_machine_state, read_state_unlocked
    from fsm.errors import StateLocked

    state_dir, base_url, live, submit, yes, as_json = options
    loaded = load_machine(machine, state_dir=state_dir)
    if not submit:
        _show_operator(command, plan(loaded, read_state_unlocked(loaded)[0]), None, None, as_json)
        return
    client = _venue(base_url, live, submit=True, yes=yes).client(armed=True)
    try:
        with open_machine_state(loaded) as (store, state):
            request = plan(loaded, state)
            outcome = act(loaded, store, state, client)
            state_doc = state_document(
                loaded.name, state, {"seq": store.cursor.seq, "hash": store.cursor.hash}
            )
    except StateLocked:
        _queue_for_runner(loaded, command, rung, as_json)
        return
    _show_operator(command, request, outcome, state_doc, as_json)


def _queue_for_runner(loaded: Any, command: str, rung: int | None, as_json: bool) -> None:
    """A runner holds the state: leave the request in its spool; it is carried out on its next tick."""
    from fsm.cli.render import print_json
    from fsm.persist import spool

    request = spool.enqueue(loaded.state_path, command, rung)
    if as_json:
        print_json({"command": command, "queued": request.to_dict(), "submitted": False})
        return
    print(
        f"queued for the running runner: {command} (request {request.id}); it is carried out and "
        "journaled on the machine's next tick (`okx-fsm history` shows it)"
    )


def _operator_flag(command: str, machine: str, state_dir: Path, base_url: str | None, live: bool) -> None:
    """pause/resume/flatten: carried out now when no runner holds the state, else queued for it."""
    from fsm.engine import control
    from fsm.engine.machine import load_machine
    from fsm.engine.tick import open_machine_state, run_tick
    from fsm.engine.view import ExchangeView
    from fsm.errors import StateLocked
    from fsm.persist import spool

    loaded = load_machine(machine, state_dir=state_dir)
    sends = command == "flatten"
    client = _venue(base_url, live, submit=sends, yes=False).client(armed=sends)
    try:
        with open_machine_state(loaded) as (store, state):
            request = spool.OperatorRequest(id=f"direct{spool.new_id()}", command=command)
            view = ExchangeView(client)
            outcome = control.carry_out(loaded, store, state, view, client if sends else None, request)
            print(f"{command}: {outcome}")
            if sends:
                result = run_tick(loaded, store, state, ExchangeView(client), trader=client)
                for f in result.fired:
                    print(f"{f.source} -> {f.dest}  (row {f.index}: {f.description})")
    except StateLocked:
        _queue_for_runner(loaded, command, None, False)


def _flag_command(name: str, doc: str) -> None:
    """Register pause, resume or flatten: one signature, carried out by `_operator_flag`."""

    def command(
        machine: MachineArg,
        state_dir: StateDirOpt = Path("state"),
        base_url: BaseUrlOpt = None,
        live: LiveOpt = False,
    ) -> None:
        _operator_flag(name, machine, state_dir, base_url, live)

    command.__doc__ = doc
    app.command(name)(handles_errors(command))


for _name, _doc in (
    (
        "pause",
        "No new cycles start (working orders are left as they are); works while `run` holds the state.",
    ),
    ("resume", "Undo `pause`: new cycles may start again."),
    (
        "flatten",
        "Cancel every working rung, then exit the machine's own position, from any state (sends orders).",
    ),
):
    _flag_command(_name, _doc)


@app.command("submit-entries")
@handles_errors
def submit_entries(
    machine: MachineArg,
    submit: SubmitOpt = False,
    state_dir: StateDirOpt = Path("state"),
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Send the rendered entry rungs (one batch-orders request). Without --submit: print it, send nothing."""
    from fsm.engine import control

    _machine_command(
        "submit-entries",
        machine,
        (state_dir, base_url, live, submit, yes, as_json),
        plan=control.entries_request,
        act=control.submit_entries,
    )


@app.command()
@handles_errors
def cancel(
    machine: MachineArg,
    rung: Annotated[
        int | None, typer.Option("--rung", help="only this rung (1..3); default every working rung")
    ] = None,
    submit: SubmitOpt = False,
    state_dir: StateDirOpt = Path("state"),
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Cancel working rungs (one cancel-batch-orders request), then observe. Without --submit: print it."""
    from fsm.engine import control

    _machine_command(
        "cancel",
        machine,
        (state_dir, base_url, live, submit, yes, as_json),
        plan=lambda m, s: control.cancel_request(m, control.cancel_targets(m, s, rung)),
        act=lambda m, store, s, client: control.cancel_rungs(m, store, s, client, rung),
        rung=rung,
    )


@app.command()
@handles_errors
def close(
    machine: MachineArg,
    submit: SubmitOpt = False,
    state_dir: StateDirOpt = Path("state"),
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Exit the machine's own position now (reduce-only market order), journaled as an operator request."""
    from fsm.engine import control

    _machine_command(
        "close",
        machine,
        (state_dir, base_url, live, submit, yes, as_json),
        plan=control.close_request,
        act=control.close_position,
    )


@app.command("order")
@handles_errors
def order(
    symbol: Annotated[str, typer.Argument(help="instrument, e.g. ETH-USDT-SWAP")],
    side: Annotated[str, typer.Option("--side", help="buy | sell")],
    sz: Annotated[str, typer.Option("--sz", help="size in contracts")],
    px: Annotated[str | None, typer.Option("--px", help="price (limit and post_only)")] = None,
    ord_type: Annotated[str, typer.Option("--ord-type", help="market | limit | post_only")] = "limit",
    pos_side: Annotated[str | None, typer.Option("--pos-side", help="long | short | net")] = None,
    td_mode: Annotated[str, typer.Option("--td-mode", help="isolated | cross")] = "isolated",
    submit: SubmitOpt = False,
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """One ad-hoc order through place_order, never through a machine. Without --submit: print it."""
    from decimal import Decimal, InvalidOperation

    from fsm.cli.render import print_json, print_request
    from fsm.engine.control import AdHocOrder

    try:
        size, price = Decimal(sz), None if px is None else Decimal(px)
    except InvalidOperation:
        raise typer.BadParameter(f"--sz and --px must be decimal numbers, got {sz!r} and {px!r}") from None
    adhoc = AdHocOrder(symbol, side, ord_type, size, price, pos_side, td_mode)
    request = adhoc.request()
    ack = None
    if submit:
        ack = adhoc.send(_venue(base_url, live, submit=True, yes=yes).client(armed=True))
    ack_doc = None if ack is None else {"ordId": ack.ordId, "clOrdId": ack.clOrdId, "sCode": ack.sCode}
    if as_json:
        print_json({"command": "order", "submitted": submit, "request": request.to_dict(), "ack": ack_doc})
        return
    console = _console()
    print_request(console, request.to_dict(), sent=submit)
    if ack_doc is not None:
        console.print(f"accepted: ordId {ack_doc['ordId']}", markup=False)


for _name, _fn in (
    ("eth-robust-twap-order-intent", intent),
    ("eth-robust-twap-open-orders", open_orders),
    ("eth-robust-twap-reconcile", reconcile),
    ("okx-account", account),
    ("okx-order", order),
):
    _alias(_name, _fn)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
