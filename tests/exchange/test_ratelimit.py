"""Client-side rate buckets: wait (on the injected clock) instead of earning a 50011."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange import OkxClient
from exchange.payloads import order_body
from exchange.ratelimit import ORDER_WINDOW_S, RateLimiter
from exchange.sim import Simulator
from tests.exchange.okx_fakes import FakeClock, FakeSession, make_client, okx

PLACE = "POST /api/v5/trade/order"
BATCH = "POST /api/v5/trade/batch-orders"
SYMBOL = "ETH-USDT-SWAP"
ORDER_PATH, BATCH_PATH = "/api/v5/trade/order", "/api/v5/trade/batch-orders"


def _limiter(clock: FakeClock) -> RateLimiter:
    return RateLimiter(monotonic=clock.monotonic, sleep=clock.sleep)


def test_sixty_orders_per_two_seconds_per_instrument_then_wait() -> None:
    clock = FakeClock()
    limiter = _limiter(clock)
    assert sum(limiter.acquire(PLACE, "ETH-USDT-SWAP") for _ in range(60)) == 0
    assert limiter.acquire(PLACE, "BTC-USDT-SWAP") == 0  # another instrument has its own budget
    assert limiter.acquire(PLACE, "ETH-USDT-SWAP") == pytest.approx(2.0)
    assert clock.slept == [pytest.approx(2.0)]


def test_window_slides_rather_than_resetting() -> None:
    clock = FakeClock()
    limiter = _limiter(clock)
    for _ in range(5):
        limiter.acquire("GET /api/v5/account/config")
        clock.now += 0.3
    # the first call was 1.5 s ago: 0.5 s more frees one slot
    assert limiter.acquire("GET /api/v5/account/config") == pytest.approx(0.5)


def test_batches_count_orders_and_a_single_order_batch_uses_the_place_budget() -> None:
    clock = FakeClock()
    limiter = _limiter(clock)
    for _ in range(15):
        limiter.acquire(BATCH, "ETH-USDT-SWAP", units=20)
    assert limiter.acquire(BATCH, "ETH-USDT-SWAP", units=3) == pytest.approx(2.0)
    for _ in range(60):
        limiter.acquire(BATCH, "ETH-USDT-SWAP", units=1)
    assert limiter.acquire(PLACE, "ETH-USDT-SWAP") == pytest.approx(2.0)


def test_endpoints_without_a_known_limit_never_wait() -> None:
    limiter = _limiter(FakeClock())
    assert all(limiter.acquire("GET /api/v5/unknown") == 0 for _ in range(1000))


def test_client_waits_instead_of_exceeding_the_balance_limit() -> None:
    clock = FakeClock()
    session = FakeSession(always=okx([{"totalEq": "1", "details": []}]))
    client = make_client(session, clock=clock)
    for _ in range(11):
        client.get_balance()
    assert len(session.sent) == 11 and clock.slept == [pytest.approx(2.0)]


def test_client_charges_a_batch_per_order() -> None:
    clock = FakeClock()
    ack = {"clOrdId": "", "ordId": "1", "tag": "", "ts": "1", "sCode": "0", "sMsg": ""}
    session = FakeSession(always=okx([ack] * 20))
    client = make_client(session, armed=True, clock=clock)
    payload = {"instId": "ETH-USDT-SWAP", "tdMode": "isolated", "side": "buy", "ordType": "market", "sz": "1"}
    for _ in range(16):
        client.place_batch_orders("ETH-USDT-SWAP", [payload] * 20)
    assert clock.slept == [pytest.approx(2.0)]


# --- the trader's order budget (max_orders_per_minute) ---------------------------------------------

PER_MINUTE = 5


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, PER_MINUTE), st.floats(0, 30)), min_size=1, max_size=30))
def test_no_minute_holds_more_orders_than_the_budget(sends: list[tuple[int, float]]) -> None:
    """Order POSTs of any size, spaced by any gap: each waits until the last 60 s hold room for it,
    so no window of 60 s holds more than the budget; none is dropped and they leave in order."""
    clock = FakeClock()
    limiter = RateLimiter(monotonic=clock.monotonic, sleep=clock.sleep, orders_per_minute=PER_MINUTE)
    sent: list[tuple[float, int]] = []
    for units, gap in sends:
        clock.now += gap
        limiter.acquire(BATCH if units > 1 else PLACE, "ETH-USDT-SWAP", units)
        sent.append((clock.now, units))
    assert len(sent) == len(sends)
    assert [t for t, _ in sent] == sorted(t for t, _ in sent)
    for start, _ in sent:
        assert sum(n for t, n in sent if start <= t < start + ORDER_WINDOW_S) <= PER_MINUTE


def test_every_order_post_counts_and_the_rest_do_not() -> None:
    clock = FakeClock()
    limiter = RateLimiter(monotonic=clock.monotonic, sleep=clock.sleep, orders_per_minute=3)
    limiter.acquire(PLACE, "ETH-USDT-SWAP")
    limiter.acquire("POST /api/v5/trade/cancel-order", "ETH-USDT-SWAP")
    limiter.acquire("POST /api/v5/trade/order-algo", "BTC-USDT-SWAP")  # every instrument: one budget
    limiter.acquire("POST /api/v5/trade/cancel-all-after", "okxfsm")  # not an order
    limiter.acquire("POST /api/v5/account/set-leverage")  # not an order
    assert clock.slept == []
    assert limiter.room_for_orders(1) == pytest.approx(ORDER_WINDOW_S)  # waits, spends nothing
    assert limiter.acquire("POST /api/v5/trade/amend-algos", "ETH-USDT-SWAP") == 0


def test_the_client_holds_order_posts_to_the_budget_on_the_venue_and_says_it_waited() -> None:
    """On the simulator: 7 orders through a budget of 3 a minute go out in order, none dropped, at most
    3 in any minute of the client's (injected) clock, and each wait is reported for the log."""
    clock = FakeClock()
    waits: list[tuple[str, float]] = []
    with Simulator(seed=1, clock="manual", rate_limits=True) as sim:
        session = TimedSession(clock)
        client = OkxClient(
            sim.api_key,
            sim.secret_key,
            sim.passphrase,
            base_url=sim.base_url,
            armed=True,
            session=session,
            monotonic=clock.monotonic,
            sleep=clock.sleep,
            orders_per_minute=3,
            on_wait=lambda what, s: waits.append((what, s)),
        )
        ids = [f"rate{i}" for i in range(7)]
        for cl_id in ids[:4]:
            client.place_order(
                SYMBOL,
                side="buy",
                ord_type="limit",
                sz=Decimal("1"),
                px=Decimal("2000"),
                pos_side="long",
                client_order_id=cl_id,
            )
        client.wait_for_order_room(3)  # as the engine does before it sets a batch's deadline
        batch = [
            order_body(
                SYMBOL,
                side="buy",
                ord_type="limit",
                sz=Decimal("1"),
                px=Decimal("2000"),
                pos_side="long",
                client_order_id=cl_id,
            )
            for cl_id in ids[4:]
        ]
        client.place_batch_orders(SYMBOL, [{k: str(v) for k, v in b.items()} for b in batch])
        placed = [o["clOrdId"] for o in sim.state()["orders"]]
    assert placed == ids
    times = [t for t, path in session.sent if path in (ORDER_PATH, BATCH_PATH)]
    units = [1, 1, 1, 1, 3]
    for i, start in enumerate(times):
        assert sum(n for t, n in zip(times, units, strict=True) if start <= t < start + 60) <= 3, i
    assert times[3] - times[0] == pytest.approx(ORDER_WINDOW_S)  # the 4th waited for the 1st to age out
    assert [what for what, _ in waits] == ["POST /api/v5/trade/order", "3 order(s)"]
    assert all(s > 0 for _, s in waits)


class TimedSession(requests.Session):
    """A real session that notes the injected clock's time of each request it sends."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.sent: list[tuple[float, str]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append((self.clock.now, request.path_url.split("?")[0]))
        return super().send(request, **kwargs)
