"""The tick's view of OKX: exchange time measured when the shared sync is due, else estimated; a send's
time estimated afresh."""

from __future__ import annotations

from fsm.engine.view import ExchangeView, TimeSync


class Client:
    """Counts time syncs; its clock is the local clock plus the offset the last sync measured."""

    def __init__(self) -> None:
        self.syncs = 0
        self.local_ms = 1_000

    def sync_time(self) -> int:
        self.syncs += 1
        return 0

    def now_ms(self) -> int:
        return self.local_ms

    def wait_for_order_room(self, orders: int) -> None:
        """The order budget holds a send of 3 or more orders back 40 s (its wait passes on this clock)."""
        if orders >= 3:
            self.local_ms += 40_000


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_run_measures_exchange_time_once_per_interval_and_estimates_it_between() -> None:
    client, clock = Client(), Clock()
    sync = TimeSync(interval_s=300, clock=clock)
    first = ExchangeView(client, time_sync=sync, full=False)  # type: ignore[arg-type]
    assert first.now_ms() == 1_000 and client.syncs == 1
    client.local_ms, clock.now = 31_000, 30.0
    second = ExchangeView(client, time_sync=sync, full=False)  # type: ignore[arg-type]
    assert (second.now_ms(), client.syncs, second.fetched("time")) == (31_000, 1, False)
    clock.now = 300.0
    assert ExchangeView(client, time_sync=sync, full=False).now_ms() and client.syncs == 2  # type: ignore[arg-type]


def test_a_full_reconcile_and_a_one_off_view_measure_the_time() -> None:
    client = Client()
    sync = TimeSync(interval_s=300, clock=Clock())
    ExchangeView(client, time_sync=sync, full=False).now_ms()  # type: ignore[arg-type]
    ExchangeView(client, time_sync=sync, full=True).now_ms()  # type: ignore[arg-type]
    ExchangeView(client).now_ms()  # type: ignore[arg-type]
    assert client.syncs == 3


def test_an_exact_sync_measures_once_even_for_full_reconciles() -> None:
    """A replay's client reads the simulator's own clock: the offset cannot drift."""
    client, clock = Client(), Clock()
    sync = TimeSync(interval_s=300, clock=clock, exact=True)
    assert ExchangeView(client, time_sync=sync, full=True).now_ms() == 1_000 and client.syncs == 1  # type: ignore[arg-type]
    client.local_ms, clock.now = 901_000, 900.0
    for full in (True, False):
        view = ExchangeView(client, time_sync=sync, full=full)  # type: ignore[arg-type]
        assert (view.now_ms(), view.fetched("time")) == (901_000, False)
    assert client.syncs == 1


def test_the_time_is_fixed_for_the_length_of_a_tick() -> None:
    client = Client()
    view = ExchangeView(client)  # type: ignore[arg-type]
    first = view.now_ms()
    client.local_ms += 5_000
    assert view.now_ms() == first and client.syncs == 1


def test_the_send_time_moves_on_while_the_ticks_time_stays_and_never_falls_behind_it() -> None:
    client = Client()
    view = ExchangeView(client)  # type: ignore[arg-type]
    first = view.now_ms()
    client.local_ms += 800  # a slow read later in the tick
    assert (view.now_ms(), view.send_time_ms()) == (first, first + 800)
    client.local_ms -= 5_000  # a local clock stepped back
    assert view.send_time_ms() == first


def test_the_send_time_comes_after_the_wait_for_the_order_budget() -> None:
    client = Client()
    view = ExchangeView(client)  # type: ignore[arg-type]
    first = view.now_ms()
    assert view.send_time_ms(3) == first + 40_000  # a deadline set from it is not used up by the wait
