"""Commands that keep running or bring their own venue: `run` ticks machines as a service, `sim` serves
the local OKX-compatible simulator, `demo` runs two cycles against one in-process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fsm.cli.command import add
from fsm.cli.options import (
    DEFAULT_STATE_DIR,
    AdoptOpt,
    BaseUrlOpt,
    Common,
    LimitsOpt,
    account_limits,
    console,
    per_minute,
    say_unlimited,
    seconds,
    state_dir_usable,
    url_option,
)

if TYPE_CHECKING:
    from exchange import OkxAlgoOrder, OkxOrder

DEAD_MAN_S = 60  # the runner's dead man's switch is on unless --dead-man 0
ENV_PREFIX = "OKX_FSM_"  # `run` takes every option from the environment too (a service unit needs no file)


def dead_man_seconds(value: int) -> int:
    """--dead-man: 0 (off) or OKX's Cancel All After range, refused in one line otherwise."""
    from fsm.service.deadman import timeout_problem

    problem = timeout_problem(value)
    if problem is not None:
        raise typer.BadParameter(problem)
    return value


def run(
    machines: Annotated[
        list[str],
        typer.Argument(help="one or more machines", envvar=f"{ENV_PREFIX}MACHINES", show_envvar=True),
    ],
    submit: Annotated[
        bool, typer.Option("--submit", help="arm the actions that send orders", envvar=f"{ENV_PREFIX}SUBMIT")
    ] = False,
    interval: Annotated[
        float,
        typer.Option(
            help="seconds between a machine's ticks", envvar=f"{ENV_PREFIX}INTERVAL", callback=seconds()
        ),
    ] = 30.0,
    ticks: Annotated[
        int,
        typer.Option(
            help="stop after this many rounds (0: until SIGINT/SIGTERM)", envvar=f"{ENV_PREFIX}TICKS", min=0
        ),
    ] = 0,
    state_dir: Annotated[
        Path,
        typer.Option(
            "--state-dir",
            help="state files, journals and the run log",
            envvar=f"{ENV_PREFIX}STATE_DIR",
            callback=state_dir_usable,
        ),
    ] = DEFAULT_STATE_DIR,
    base_url: BaseUrlOpt = None,
    live: Annotated[bool, typer.Option("--live", help="trade live", envvar=f"{ENV_PREFIX}LIVE")] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="skip the typed LIVE confirmation", envvar=f"{ENV_PREFIX}YES")
    ] = False,
    accept_spec_change: Annotated[
        bool, typer.Option("--accept-spec-change", help="journal a changed YAML's hash and go on")
    ] = False,
    adopt: AdoptOpt = False,
    notify: Annotated[
        str | None,
        typer.Option(
            help="webhook URL: a JSON POST on fills, anomalies, rejections, parking, the stop",
            envvar=f"{ENV_PREFIX}NOTIFY",
            callback=url_option(endpoint=True),
        ),
    ] = None,
    full_reconcile_every: Annotated[
        int,
        typer.Option(
            help="every Nth round (and the round after a failure) asks every endpoint, not only what changed",
            envvar=f"{ENV_PREFIX}FULL_RECONCILE",
            min=1,
        ),
    ] = 10,
    push: Annotated[
        bool,
        typer.Option(
            "--push",
            help="listen to OKX's private orders channel (and orders-algo for stops): a push ticks its "
            "machine at once; REST reconciles",
            envvar=f"{ENV_PREFIX}PUSH",
        ),
    ] = False,
    push_reconcile: Annotated[
        float,
        typer.Option(
            help="with --push: seconds between full REST reconciles",
            envvar=f"{ENV_PREFIX}PUSH_RECONCILE",
            callback=seconds(),
        ),
    ] = 60.0,
    ws_url: Annotated[
        str | None,
        typer.Option(
            "--ws-url",
            help="the private WebSocket (default $OKX_WS_URL or OKX's demo/live host)",
            callback=url_option("OKX_WS_URL", schemes=("wss", "ws"), endpoint=True),
        ),
    ] = None,
    time_sync: Annotated[
        float,
        typer.Option(
            help="seconds between measurements of exchange time (0: every round, for a sped-up simulator)",
            envvar=f"{ENV_PREFIX}TIME_SYNC",
            callback=seconds(zero=True),
        ),
    ] = 300.0,
    limits: LimitsOpt = None,
    dead_man: Annotated[
        int,
        typer.Option(
            "--dead-man",
            metavar="SECONDS",
            help="with --submit: keep OKX's Cancel All After armed for our entry orders, re-armed every "
            "round, so they are cancelled SECONDS (10-120) after the runner dies or hangs; disarmed on a "
            "clean stop; 0: off",
            envvar=f"{ENV_PREFIX}DEAD_MAN",
            callback=dead_man_seconds,
        ),
    ] = DEAD_MAN_S,
) -> None:
    """Tick machines as a service, one ExchangeView per round; a failing machine backs off or is parked.

    The other machines go on meanwhile. SIGINT/SIGTERM finish the tick in flight; a second SIGINT stops
    at once.
    """
    import logging
    import signal
    from contextlib import ExitStack

    from exchange.ws import ALGO_ORDERS, ORDERS
    from fsm.cli.render import fancy
    from fsm.service import runlog
    from fsm.service.notify import Notifier
    from fsm.service.push import PushFeed, algo_feed, order_feed
    from fsm.service.runner import RunFailed, Runner, RunOptions

    account = account_limits(limits)  # refused before anything starts
    venue = Common(state_dir, base_url, live).venue(submit=submit, yes=yes)
    client = venue.client(armed=submit, orders_per_minute=per_minute(account))
    if submit and account is None:
        say_unlimited("the runner (but each machine's own `limits` params)")
    log_file = runlog.configure(state_dir, rich=fancy(console(stderr=True)), redact=client.redact)
    notifier = Notifier(notify) if notify else None
    options = RunOptions(
        submit,
        interval,
        ticks,
        accept_spec_change,
        adopt,
        notifier,
        full_reconcile_every=full_reconcile_every,
        time_sync_s=time_sync,
        push_reconcile_s=push_reconcile,
        limits=account,
        dead_man_s=dead_man,
    )

    def login_time() -> Callable[[], int]:
        """Exchange time measured afresh for each (re)login of one stream (the login is refused 30 s off
        it), by a client of its own: a feed's thread never shares another's HTTP session."""
        timer = venue.client(armed=False)

        def measured() -> int:
            timer.sync_time()
            return timer.now_ms()

        return measured

    def feed(on_push: Callable[[OkxOrder], None]) -> PushFeed[OkxOrder]:
        return order_feed(venue.private_stream(ws_url, client.now_ms, login_time(), ORDERS), on_push)

    def algos(on_push: Callable[[OkxAlgoOrder], None]) -> PushFeed[OkxAlgoOrder]:
        return algo_feed(venue.private_stream(ws_url, client.now_ms, login_time(), ALGO_ORDERS), on_push)

    runner = Runner(
        machines, state_dir, client, options, push=feed if push else None, push_algos=algos if push else None
    )
    run_log = logging.getLogger("okx_fsm.run")

    def first_stop(signum: int, frame: Any) -> None:
        runner.request_stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second SIGINT stops at once
        run_log.warning(
            "%s: stopping after this tick (a second Ctrl-C stops at once)", signal.Signals(signum).name
        )

    with ExitStack() as stack:
        for signum in (signal.SIGINT, signal.SIGTERM):  # restored on exit
            stack.callback(signal.signal, signum, signal.signal(signum, first_stop))
        run_log.info(
            "runner started: %s, %s, every %.0f s; log %s",
            ", ".join(machines),
            "armed" if submit else "read-only",
            interval,
            log_file,
        )
        if runner.dead_man is not None:
            run_log.info("dead man's switch: OKX cancels our working entries %d s after a round", dead_man)
        rounds = runner.run()
    if notifier is not None:
        notifier.close()
    console().print(f"stopped after {rounds} tick(s)", markup=False)
    failures = runner.failures()
    if failures and (ticks or all(slot.parked for slot in runner.slots)):
        raise RunFailed(failures)


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


def demo(
    seed: Annotated[int, typer.Option(help="seed of the simulated market")] = 0,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            "--state-dir",
            help="an empty folder for the files (default: a temp dir)",
            callback=state_dir_usable,
        ),
    ] = None,
) -> None:
    """Two full cycles of the ETH ladder against an in-process simulator (no credentials needed)."""
    import tempfile

    from fsm.demo.screen import DemoScreen
    from fsm.demo.story import run_demo

    folder = state_dir or Path(tempfile.mkdtemp(prefix="okx-fsm-demo-"))
    with DemoScreen(console()) as screen:
        summary = run_demo(seed=seed, state_dir=folder, on_step=screen.step, on_start=screen.start)
    screen.summary(summary)


def register(app: typer.Typer) -> None:
    """Add sim, demo and run to `app`."""
    add(app, sim)
    add(app, demo)
    add(app, run)
