"""`okx-fsm run` as a service: every machine of one account ticked in a loop that survives the venue.

A failed tick of one machine is logged with its reason and that machine backs off (bounded
exponential, reset on success) while the others keep ticking; an outage is ridden out and the next tick
reconciles. What cannot heal by waiting (a spec error, a refused state, a lock held elsewhere, refused
credentials, an account the machine cannot trade) parks that machine with its reason. Each machine's
last tick (time, duration, result, consecutive failures) is written beside its state file as a
heartbeat that `status` and `watch` show, marked stopped when the runner stops; the journal is never
touched for it. Operator requests queued in a machine's spool (close, cancel, pause, resume, flatten)
are carried out at the start of its tick; those still queued when it stops are named in the log.
An armed runner keeps OKX's Cancel All After armed for its entries (fsm.service.deadman) and disarms
it when it stops cleanly.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exchange import Instrument, OkxAlgoOrder, OkxAuthError, OkxError, OkxOrder, OkxTimestampError
from fsm.engine import control
from fsm.engine.machine import LoadedMachine, load_machine
from fsm.engine.state import LadderState
from fsm.engine.tick import open_machine_state, run_tick
from fsm.engine.view import ExchangeView, TimeSync
from fsm.errors import EngineError, ExitStatus, StateLocked, exit_status
from fsm.persist import spool
from fsm.persist.durable import atomic_write
from fsm.persist.store import StateStore
from fsm.risk.gate import RISK_RECORD, Refusal
from fsm.risk.ledger import Ledger, judge, opened
from fsm.risk.trading import Trading
from fsm.service.deadman import OFF, DeadMan
from fsm.service.heartbeat import Heartbeat, heartbeat_path
from fsm.service.push import PushView

if TYPE_CHECKING:
    from exchange import OkxClient
    from fsm.service.notify import Notifier
    from fsm.service.push import PushFeed
    from fsm.spec.limits import LimitsFile

log = logging.getLogger("okx_fsm.run")

MAX_BACKOFF_S = 300.0


def _parks(exc: BaseException) -> bool:
    """Errors that waiting cannot heal: the engine's own (spec, state, lock, an account that does not
    fit, orders to adopt) and refused credentials. Network, 5xx, 429, bad payloads and bugs back off,
    and so does a timestamp refused after the client re-measured the clock (a clock being stepped, a
    request held up over 30 s): the next tick measures it again."""
    if isinstance(exc, OkxTimestampError):
        return False
    return isinstance(exc, EngineError | OkxAuthError)


@dataclass
class Slot:
    """One machine in the runner: loaded and opened once, ticked when due, parked when it cannot heal."""

    name: str
    state_dir: Path
    interval_s: float
    machine: LoadedMachine | None = None
    store: StateStore | None = None
    state: LadderState | None = None
    beat: Heartbeat = field(init=False)
    next_due: float = 0.0
    failure: BaseException | None = None  # why it is parked, or why its last tick failed

    def __post_init__(self) -> None:
        self.beat = Heartbeat(machine=self.name, interval_s=self.interval_s)

    @property
    def parked(self) -> bool:
        return self.beat.parked is not None

    def backoff_s(self) -> float:
        """Bounded exponential: the interval doubled per consecutive failure, at most MAX_BACKOFF_S."""
        grown = self.interval_s * float(2 ** min(self.beat.consecutive_failures, 16))
        return min(grown, max(MAX_BACKOFF_S, self.interval_s))

    def write_heartbeat(self) -> None:
        if self.machine is not None:
            path = heartbeat_path(self.machine.state_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, json.dumps(self.beat.to_dict(), sort_keys=True).encode())


class RunFailed(EngineError):
    """A run ended with no machine healthy: every one is parked or its last tick failed. The first
    machine's reason gives the exit status (a lock held elsewhere: LOCK_HELD, as for `tick`)."""

    def __init__(self, failures: Sequence[tuple[str, BaseException]]) -> None:
        status = exit_status(failures[0][1])
        self.exit_code = ExitStatus.STATE_REFUSED if status is None else status  # None: a bug, logged
        reasons = "; ".join(f"{name}: {type(exc).__name__}: {exc}" for name, exc in failures)
        super().__init__(f"every machine failed or is parked: {reasons}")


@dataclass
class RunOptions:
    submit: bool
    interval_s: float
    ticks: int  # 0: until stopped
    accept_spec_change: bool = False
    adopt: bool = False
    notify: Notifier | None = None  # webhook: fills, anomalies, rejections, a fired stop, parking, the stop
    full_reconcile_every: int = 10  # every Nth round (and the round after a failure) asks every endpoint
    time_sync_s: float = 300.0  # how often exchange time is measured (0: every round)
    push_reconcile_s: float = 60.0  # with push feeds: seconds between full REST reconciles
    limits: LimitsFile | None = None  # the account's hard limits file (machines may tighten it)
    dead_man_s: int = OFF  # an armed runner's Cancel All After timeOut (10-120 s); OFF: none


NOTIFIED_KINDS = {"fill": "fill", "anomaly": "anomaly"}


def _rejected(machine: LoadedMachine, state: LadderState) -> set[str]:
    return {r.clOrdId for r in state.rungs if r.state in machine.orders.rejected}


def _fired_stops(machine: LoadedMachine, state: LadderState) -> set[str]:
    return {stop.algoClOrdId for stop in state.stops if stop.state in machine.stops.fired}


class Runner:
    """Tick every machine of one account until told to stop; one ExchangeView per round."""

    def __init__(
        self,
        names: Sequence[str],
        state_dir: Path,
        client: OkxClient,
        options: RunOptions,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        push: Callable[[Callable[[OkxOrder], None]], PushFeed[OkxOrder]] | None = None,
        push_algos: Callable[[Callable[[OkxAlgoOrder], None]], PushFeed[OkxAlgoOrder]] | None = None,
    ) -> None:
        self.slots = [Slot(name, state_dir, options.interval_s) for name in names]
        self.state_dir = state_dir
        self.ledger: Ledger | None = None  # the account journal, held for the runner's life
        self.trading: Trading | None = None  # judged at the start of each round
        self.client = client
        self.options = options
        self.stop_requested = False
        self.rounds = 0
        self._clock, self._wall, self._sleep = clock, wall, sleep
        self._instruments: dict[str, Instrument] = {}
        self._time_sync = TimeSync(interval_s=options.time_sync_s, clock=clock)
        self._full_due = True
        # Push: feeds made with the callback that wakes the runner; REST pending as last reconciled. The
        # algo feed (orders-algo) is opened only when a machine declares a stop.
        self._make_feed, self._make_algo_feed = push, push_algos
        self.feed: PushFeed[OkxOrder] | None = None
        self.algo_feed: PushFeed[OkxAlgoOrder] | None = None
        self._woken = threading.Event()
        self._wake_all = False  # wake_all was asked: every machine is due at the next wait
        self._pushed_ids: set[str] = set()  # clOrdIds and algoClOrdIds pushed since the last wait
        self._pushed_lock = threading.Lock()  # the feeds' threads add to it
        self._pending: list[OkxOrder] = []
        self._last_full: float | None = None
        on = options.submit and options.dead_man_s != OFF
        self.dead_man = DeadMan(client, options.dead_man_s, clock) if on else None

    def request_stop(self) -> None:
        self.stop_requested = True

    def failures(self) -> list[tuple[str, BaseException]]:
        """Each machine's reason when none is healthy (each parked, or its last tick failed); else []."""
        failed = [(slot.name, slot.failure) for slot in self.slots if slot.failure is not None]
        return failed if len(failed) == len(self.slots) else []

    def wake_all(self) -> None:
        """Make every machine due now (an operator's nudge, or a test's): the wait ends at once. A
        nudge that comes while a round ticks is kept for the wait after it (the round's own due times
        must not undo it)."""
        self._wake_all = True
        self._woken.set()

    def run(self) -> int:
        """Rounds until stopped (or `ticks` rounds); returns the number of rounds made."""
        with ExitStack() as stack:
            for slot in self.slots:
                self._open(slot, stack)
            if all(slot.parked for slot in self.slots):
                log.error("every machine is parked: nothing to run")
                return 0
            self._open_ledger(stack)
            if self._make_feed is not None:
                self.feed = self._make_feed(self._on_push)
                self.feed.start()
                stack.callback(self.feed.stop)
                if self.feed.connected:
                    log.info("push: connected to the private orders channel")
                if self._make_algo_feed is not None and self._stops_declared():
                    self.algo_feed = self._make_algo_feed(self._on_algo_push)
                    self.algo_feed.start()
                    stack.callback(self.algo_feed.stop)
                    if self.algo_feed.connected:
                        log.info("push: connected to the orders-algo channel (business)")
            while not self.stop_requested:
                self._round()
                self.rounds += 1
                if self.options.ticks and self.rounds >= self.options.ticks:
                    break
                self._wait_for_next()
            if self.dead_man is not None:
                self.dead_man.disarm()
            self._leave()  # while the state files are still held: no later runner's heartbeat is touched
        log.info("runner stopped after %d round(s)", self.rounds)
        self._notify("*", "stopped", f"the runner stopped after {self.rounds} round(s)")
        return self.rounds

    def _stops_declared(self) -> bool:
        """Whether a machine this runner ticks declares a protective stop (an OKX algo order)."""
        return any(s.machine is not None and not s.parked and s.machine.params.stop for s in self.slots)

    def _feeds(self) -> list[PushFeed[OkxOrder] | PushFeed[OkxAlgoOrder]]:
        return [feed for feed in (self.feed, self.algo_feed) if feed is not None]

    def _leave(self) -> None:
        """On the way out: mark each machine this runner held as no longer ticked (its push no longer
        on), and say which operator requests are still queued, carried out by no tick of this runner."""
        now = self._wall()
        for slot in self.slots:
            if slot.machine is None or slot.store is None:
                continue  # never held here: a heartbeat of another runner is left alone
            slot.beat.stopped_wall_s = now
            if slot.beat.push is not None:
                slot.beat.push["connected"] = False
            slot.write_heartbeat()
            queued = [r for _, r in spool.pending(slot.machine.state_path)]
            if queued:
                log.warning(
                    "%s: %d operator request(s) still queued, not carried out: %s; the next runner "
                    "carries them out unless a direct command supersedes them first",
                    slot.name,
                    len(queued),
                    ", ".join(f"{r.command} ({r.id})" for r in queued),
                )

    def _notify(self, machine: str, event: str, detail: str) -> None:
        if self.options.notify is not None:
            self.options.notify.send(machine, event, detail)

    def _open(self, slot: Slot, stack: ExitStack) -> None:
        try:
            slot.machine = load_machine(slot.name, state_dir=slot.state_dir, limits=self.options.limits)
            store, state = stack.enter_context(
                open_machine_state(slot.machine, allow_spec_change=self.options.accept_spec_change)
            )
            slot.store, slot.state = store, state
            log.info("%s: opened in %s", slot.name, state.state)
        except (EngineError, OkxError, OSError) as exc:
            self._park(slot, exc)

    def _open_ledger(self, stack: ExitStack) -> None:
        """Hold the account journal: `halt` and `resume --account` then reach this runner through its
        spool. Held elsewhere (another runner on this state directory): each tick judges the trading
        state itself, read-only."""
        try:
            self.ledger = stack.enter_context(opened(self.state_dir))
        except StateLocked:
            log.warning(
                "the account journal is held by another process: the trading state is judged read-only"
            )

    def _account(self, view: ExchangeView) -> None:
        """Carry out the account's queued requests (halt --flatten also queues each machine's flatten),
        then judge the trading state and journal it when it changed. A failure keeps the last state."""
        if self.ledger is None:
            return
        try:
            now = view.now_ms()
            for path, request in spool.pending(self.ledger.store.state_path, spool.ACCOUNT_COMMANDS):
                self.ledger.mark(request.command, now, request.id, flatten=request.flatten)
                log.warning(
                    "account: operator %s%s (%s)", request.command, " --flatten" * request.flatten, request.id
                )
                if request.flatten:
                    for slot in self.slots:
                        if slot.machine is not None and not slot.parked:
                            spool.enqueue(slot.machine.state_path, "flatten")
                path.unlink(missing_ok=True)  # journaled with its id first: never carried out twice
            limits = None if self.options.limits is None else self.options.limits.limits
            trading = judge(self.ledger.book, self.state_dir, limits, now)
            if self.ledger.settle(trading, now):
                log.warning("account: trading state %s", trading)
                self._notify("*", "trading", str(trading))
            self.trading = trading
        except (EngineError, OkxError, OSError) as exc:
            log.error(
                "account: the trading state could not be judged, kept at %s: %s",
                self.trading,
                self._reason(exc),
            )

    def _entries_at_stake(self) -> bool:
        """Whether a machine works entry orders or may send some this round (not parked, and not paused
        or with rungs that may rest on OKX): the dead man's switch is armed only then, so a runner of
        paused, idle machines sends nothing at all."""
        for slot in self.slots:
            state, machine = slot.state, slot.machine
            if slot.parked:
                continue
            if state is None or machine is None or not state.paused:
                return True
            if any(machine.orders.tracked(rung.state) for rung in state.rungs):
                return True
        return False

    def _round(self) -> None:
        if self.dead_man is not None and self._entries_at_stake():  # before any tick sends
            self.dead_man.refresh()
        view = self._view()
        self._account(view)
        now = self._clock()
        # With push, a full reconcile supersedes every push received before it asks REST anything.
        mark = self.feed.mark() if self.feed is not None and view.full else None
        algo_mark = self.algo_feed.mark() if self.algo_feed is not None and view.full else None
        for slot in self.slots:
            if self.stop_requested and self.rounds:
                return
            if slot.parked or now < slot.next_due:
                continue
            self._tick(slot, view)
        if self.algo_feed is not None and algo_mark is not None and view.fetched("orders-algo-pending"):
            self.algo_feed.forget_received_before(algo_mark)  # the stops were swept: pending + order-algo
        pending = view.fetched_pending()
        if pending is None:
            return
        self._pending = pending  # a REST answer: what the pushes bring up to date until the next one
        if self.feed is not None and mark is not None:
            self.feed.forget_received_before(mark)

    def _view(self) -> ExchangeView:
        """A full REST reconcile when one is due, else (with push) a view from the pushes, else REST."""
        now = self._clock()
        if self.feed is not None:
            resync = [feed.resync_due() for feed in self._feeds()]  # each asked: each reconnect seen once
            full = (
                self._full_due
                or any(resync)
                or self._last_full is None
                or now - self._last_full >= self.options.push_reconcile_s
            )
            self._full_due = False
            if not full:
                return PushView(
                    self.client,
                    pending=self._pending,
                    pushed=self.feed.records(),
                    pushed_algos={} if self.algo_feed is None else self.algo_feed.records(),
                    time_sync=self._time_sync,
                )
            self._last_full = now
            for slot in self.slots:  # a reconcile looks at every machine, due or not
                slot.next_due = min(slot.next_due, now)
            return ExchangeView(
                self.client, instruments=self._instruments, time_sync=self._time_sync, full=True
            )
        every = max(self.options.full_reconcile_every, 1)
        full = self._full_due or self.rounds % every == 0
        self._full_due = False
        return ExchangeView(self.client, instruments=self._instruments, time_sync=self._time_sync, full=full)

    def _on_push(self, order: OkxOrder) -> None:
        """From the feed's thread: a push for an order of one of our machines makes its tick due now."""
        if order.clOrdId:
            with self._pushed_lock:
                self._pushed_ids.add(order.clOrdId)
        self._woken.set()

    def _on_algo_push(self, algo: OkxAlgoOrder) -> None:
        """From the algo feed's thread: a push for a stop of one of our machines makes its tick due now."""
        if algo.algoClOrdId:
            with self._pushed_lock:
                self._pushed_ids.add(algo.algoClOrdId)
        self._woken.set()

    def _tick(self, slot: Slot, view: ExchangeView) -> None:
        assert slot.machine is not None and slot.store is not None and slot.state is not None
        started, at = self._clock(), self._wall()
        trader = self.client if self.options.submit else None
        rejected_before = _rejected(slot.machine, slot.state)
        fired_before = _fired_stops(slot.machine, slot.state)
        try:
            for path, request in spool.pending(slot.machine.state_path):
                outcome = control.carry_out(slot.machine, slot.store, slot.state, view, trader, request)
                log.info("%s: operator %s %s: %s", slot.name, request.command, request.id, outcome)
                path.unlink(missing_ok=True)  # journaled with its id first: never carried out twice
            result = run_tick(
                slot.machine,
                slot.store,
                slot.state,
                view,
                trader=trader,
                adopt=self.options.adopt,
                trading=self.trading,
            )
        except Exception as exc:  # one machine's failure never stops the others
            self._full_due = True  # what the failure hid is asked again in full next round
            self._failed(slot, exc, at, self._clock() - started)
            return
        for fired in result.fired:
            log.info("%s: %s -> %s (row %d)", slot.name, fired.source, fired.dest, fired.index)
        for kind in sorted(set(result.journaled) & set(NOTIFIED_KINDS)):
            self._notify(
                slot.name, NOTIFIED_KINDS[kind], f"{result.journaled.count(kind)} {kind} record(s) journaled"
            )
        for kind, data in result.records:
            if kind == RISK_RECORD:  # the hard limits refused the entries: what and why, nothing sent
                refusal = Refusal.from_dict(data)
                self._notify(slot.name, RISK_RECORD, f"refused by the hard limits: {refusal}")
        rejected = sorted(_rejected(slot.machine, result.state) - rejected_before)
        if rejected:
            self._notify(slot.name, "rejection", f"rungs ended rejected: {', '.join(rejected)}")
        fired_stops = sorted(_fired_stops(slot.machine, result.state) - fired_before)
        if fired_stops:
            detail = f"OKX fired the stop {', '.join(fired_stops)}: its order closes our own size"
            self._notify(slot.name, "stop_triggered", detail)
        beat = slot.beat
        if beat.consecutive_failures:
            log.info("%s: recovered after %d failed tick(s)", slot.name, beat.consecutive_failures)
        beat.last_tick_wall_s, beat.last_duration_s, beat.last_result = at, self._clock() - started, "ok"
        beat.consecutive_failures = 0
        slot.failure = None
        if self.feed is not None:
            beat.push = self._push_beat()
        slot.next_due = self._clock() + slot.interval_s
        beat.next_due_wall_s = at + slot.interval_s
        slot.write_heartbeat()

    def _push_beat(self) -> dict[str, Any]:
        """The push channels as the heartbeat shows them: connected when every stream is, the newest
        push of either, reconnects and pushes summed."""
        feeds = self._feeds()
        last = [feed.last_push_at for feed in feeds if feed.last_push_at is not None]
        return {
            "connected": all(feed.connected for feed in feeds),
            "last_push_exchange_ms": max(last, default=None),
            "reconnects": sum(feed.reconnects for feed in feeds),
            "pushes": sum(feed.pushes for feed in feeds),
        }

    def _reason(self, exc: BaseException) -> str:
        """An error as the log, the heartbeat and a notification show it: credentials masked, since its
        text may quote one (a library's message, a bug's)."""
        return self.client.redact(f"{type(exc).__name__}: {exc}")

    def _failed(self, slot: Slot, exc: Exception, at: float, duration: float) -> None:
        reason = self._reason(exc)
        if _parks(exc):
            self._park(slot, exc)
            return
        slot.failure = exc
        beat = slot.beat
        beat.consecutive_failures += 1
        beat.last_tick_wall_s, beat.last_duration_s, beat.last_result = at, duration, f"failed: {reason}"
        wait = slot.backoff_s()
        slot.next_due = self._clock() + wait
        beat.next_due_wall_s = at + wait
        level = logging.WARNING if isinstance(exc, OkxError) else logging.ERROR
        log.log(
            level,
            "%s: tick failed (%d in a row), next try in %.0f s: %s",
            slot.name,
            beat.consecutive_failures,
            wait,
            reason,
        )
        slot.write_heartbeat()

    def _park(self, slot: Slot, exc: BaseException) -> None:
        reason = self._reason(exc)
        slot.failure = exc
        slot.beat.parked = reason
        slot.beat.last_result = f"parked: {reason}"
        slot.beat.last_tick_wall_s = self._wall()
        log.error("%s: parked (waiting cannot fix it): %s", slot.name, reason)
        self._notify(slot.name, "parked", reason)
        slot.write_heartbeat()

    def _wait_for_next(self) -> None:
        due = [s.next_due for s in self.slots if not s.parked]
        until = min(due) if due else self._clock() + self.options.interval_s
        if self.feed is not None:
            until = min(until, (self._last_full or 0) + self.options.push_reconcile_s)
        while not self.stop_requested and self._clock() < until:
            if self.dead_man is not None:
                self.dead_man.refresh_in_wait()
            if any(feed.reconnected for feed in self._feeds()):
                return  # what a stream missed while it was down is asked of REST now, not at the next due
            if self._woken.is_set():
                self._woken.clear()
                if self._woken_all() or self._push_made_due():
                    return
                if self._clock() >= min(s.next_due for s in self.slots):
                    return
            wait = min(0.2, max(0.0, until - self._clock()))
            if self.feed is not None:
                self._woken.wait(wait)  # a push ends the wait at once
            else:
                self._sleep(wait)

    def _woken_all(self) -> bool:
        """Make every machine due now if wake_all was asked since the last wait; whether it was."""
        if not self._wake_all:
            return False
        self._wake_all = False
        for slot in self.slots:
            slot.next_due = self._clock()
        return True

    def _push_made_due(self) -> bool:
        """Make due now every machine that owns a pushed order or stop; whether any did."""
        with self._pushed_lock:
            pushed, self._pushed_ids = self._pushed_ids, set()
        made = False
        for slot in self.slots:
            if slot.state is None or slot.parked:
                continue
            ours = slot.state.own_client_order_ids() | {stop.algoClOrdId for stop in slot.state.stops}
            if pushed & ours:
                slot.next_due, made = self._clock(), True
        return made
