"""Client-side rate buckets: wait (on the injected clock) instead of earning a 50011."""

from __future__ import annotations

import pytest

from exchange.ratelimit import RateLimiter
from tests.exchange.okx_fakes import FakeClock, FakeSession, make_client, okx

PLACE = "POST /api/v5/trade/order"
BATCH = "POST /api/v5/trade/batch-orders"


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
