"""The venue a contract test runs against: the simulator (with its controls) or OKX demo trading.

Tests see one `Venue`: an armed, time-synced `OkxClient`, the symbol and its `Instrument`, the account's
posSide convention, and helpers that only use the client's public API. The simulator adds `controls`
(price, clock, faults, a trader acting in the app, request counts); OKX demo has none, so tests that
need them are marked `sim_only` and skipped there.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import requests

from exchange import Instrument, OkxClient, OkxIncorrectOrderState, OkxOrder, OkxOrderAck
from exchange.payloads import ALGO_CANCEL_MAX
from exchange.signing import Signer, iso_timestamp, json_body
from exchange.sim import Simulator
from exchange.sizing import round_price
from tests.exchange.sim.okx_http import RawOkx

T = TypeVar("T")

SYMBOL = "ETH-USDT-SWAP"
TD_MODE = "isolated"
SIM = "sim"
SIM_NET_CROSS = "sim-net-cross"  # the simulator with the account in net mode, trading cross margin
OKX_DEMO = "okx-demo"
DEMO_SWITCH = "OKX_CONTRACT_DEMO"
DEFAULT_BASE_URL = "https://www.okx.com"
TERMINAL = frozenset({"filled", "canceled", "mmp_canceled"})
BATCH_MAX = 20
RATE_WINDOW_S = 2.0  # OKX's budgets are per 2 s, per account or IP: shared by every test of a run


@dataclass(frozen=True)
class Credentials:
    base_url: str
    api_key: str
    secret_key: str = field(repr=False)
    passphrase: str = field(repr=False)


def demo_credentials() -> Credentials | None:
    """OKX demo credentials from the environment, only when OKX_CONTRACT_DEMO=1 opts in."""
    env = os.environ
    names = ("OKX_API_KEY", "OKX_API_SECRET", "OKX_API_PASSPHRASE")
    if env.get(DEMO_SWITCH) != "1" or not all(env.get(name) for name in names):
        return None
    return Credentials(env.get("OKX_BASE_URL") or DEFAULT_BASE_URL, *(env[name] for name in names))


class ManualTimer:
    """The client's monotonic clock and sleep on the simulator: sleeping only moves this clock.

    So read retries and client-side rate limiting cost no wall time, and nothing really sleeps.
    """

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class SimControls:
    """What only the simulator can do: move the market and the clock, inject faults, act as a trader."""

    def __init__(self, sim: Simulator, symbol: str) -> None:
        self._sim = sim
        self._symbol = symbol

    def move_price(self, px: Decimal) -> None:
        """Trade the market to px now (resting orders in between fill, one step's worth)."""
        self._sim.set_price(px, self._symbol)

    def advance(self, seconds: int) -> None:
        """Move the venue's clock; clients keep their old offset until they re-sync."""
        self._sim.advance(seconds)

    def faults(self, *rules: Mapping[str, Any]) -> None:
        """Replace the fault rules (exchange.sim.faults); no rule clears them."""
        self._sim.set_faults(list(rules))

    def quirks(self, **changes: Any) -> None:
        """Switch how the venue answers where OKX has answered in more than one way (exchange.sim.quirks)."""
        self._sim.set_quirks(changes)

    def user_cancel(self, ord_id: str) -> None:
        self._sim.user_cancel(ord_id=ord_id)

    def user_close(self, pos_side: str) -> None:
        self._sim.user_close(self._symbol, pos_side)

    def requests(self) -> dict[str, int]:
        """Requests the venue received, by "METHOD /api/v5/path"."""
        counts: dict[str, int] = self._sim.stats()["requests"]
        return counts

    def sent_since(self, before: Mapping[str, int]) -> dict[str, int]:
        """The requests received since `before` (an earlier `requests()`), by endpoint."""
        return {k: n - before.get(k, 0) for k, n in self.requests().items() if n != before.get(k, 0)}

    def now_ms(self) -> int:
        return self._sim.now_ms()

    def user_order(self, side: str, sz: Decimal, **fields: Any) -> dict[str, Any]:
        """An order placed by hand in the OKX app on the same account (Simulator.user_order keywords)."""
        return self._sim.user_order(side, sz, inst_id=self._symbol, **fields)

    def read(self, target: str) -> dict[str, Any]:
        """A signed GET of `target` (path and query) the client has no method for; the whole envelope."""
        envelope: dict[str, Any] = RawOkx(self._sim).get(target)
        return envelope

    def harsh(self, probability: float, seed: int) -> list[dict[str, Any]]:
        """Replace the fault rules with the okx-harsh profile (every kind at `probability`)."""
        return self._sim.set_faults({"profile": "okx-harsh", "probability": probability, "seed": seed})

    def stats(self) -> dict[str, Any]:
        """The venue's counts: requests, faults fired by kind, late requests (exchange.sim stats)."""
        return self._sim.stats()


class Venue:
    """One test's venue; `client` is armed and synced. `close()` leaves a demo account flat."""

    def __init__(
        self,
        name: str,
        credentials: Credentials,
        controls: SimControls | None,
        poll_s: float,
        polls: int,
        td_mode: str = TD_MODE,
    ) -> None:
        self.name = name
        self.symbol = SYMBOL
        self.td_mode = td_mode
        self._credentials = credentials
        self._controls = controls
        self._poll_s = poll_s
        self._polls = polls
        self._clients: list[OkxClient] = []
        self._ids = 0
        self._run = "" if controls is not None else secrets.token_hex(4)
        self.client = self.new_client()
        self.instrument: Instrument = self.client.get_instrument(self.symbol)
        long_short = self.client.get_account_config().posMode == "long_short_mode"
        self.pos_side = "long" if long_short else "net"  # the side of a position a buy opens

    @property
    def controls(self) -> SimControls:
        if self._controls is None:
            raise RuntimeError(f"{self.name} has no simulator controls: mark the test sim_only")
        return self._controls

    def new_client(
        self,
        *,
        api_key: str | None = None,
        secret_key: str | None = None,
        passphrase: str | None = None,
        demo: bool = True,
        armed: bool = True,
        clock: Callable[[], float] = time.time,
        synced: bool = True,
    ) -> OkxClient:
        """A client for this venue; each credential can be replaced to provoke an auth error."""
        creds = self._credentials
        timing: dict[str, Any] = {}
        if self._controls is not None:
            timer = ManualTimer()
            timing = {"monotonic": timer.monotonic, "sleep": timer.sleep}
        client = OkxClient(
            creds.api_key if api_key is None else api_key,
            creds.secret_key if secret_key is None else secret_key,
            creds.passphrase if passphrase is None else passphrase,
            base_url=creds.base_url,
            demo=demo,
            armed=armed,
            timeout=60.0,  # a generous ceiling for one request on a busy machine
            clock=clock,
            **timing,
        )
        self._clients.append(client)
        if synced:
            client.sync_time()
        return client

    # ---- helpers built on the client's public API ------------------------------------------------

    def client_order_id(self, name: str) -> str:
        """A clOrdId unique in this test (and, on OKX demo, across runs)."""
        self._ids += 1
        return f"ct{name}{self._ids}{self._run}"

    def market_px(self) -> Decimal:
        """The last traded price: the close of the newest 1m candle."""
        return self.client.get_candles(self.symbol, "1m", limit=1)[-1].c

    def buy_px(self, below: Decimal) -> Decimal:
        """A buy price `below` (a fraction) under the market, on the tick; negative means above it."""
        return round_price(self.market_px() * (1 - below), self.instrument.tickSz, "buy")

    def buy_payload(
        self, px: Decimal, sz: Decimal | None = None, client_order_id: str | None = None
    ) -> dict[str, str]:
        """A rendered post-only buy for place_batch_orders, minSz unless told."""
        payload = {"instId": self.symbol, "tdMode": self.td_mode, "side": "buy", "posSide": self.pos_side}
        if client_order_id is not None:
            payload["clOrdId"] = client_order_id
        sz = self.instrument.minSz if sz is None else sz
        return {**payload, "ordType": "post_only", "px": format(px, "f"), "sz": format(sz, "f")}

    def place_buy(
        self,
        px: Decimal,
        *,
        ord_type: str = "post_only",
        sz: Decimal | None = None,
        client_order_id: str | None = None,
    ) -> str:
        """A priced buy that opens (or adds to) a long, minSz unless told; returns the accepted ordId."""
        ack = self.client.place_order(
            self.symbol,
            side="buy",
            ord_type=ord_type,
            sz=self.instrument.minSz if sz is None else sz,
            px=px,
            pos_side=self.pos_side,
            td_mode=self.td_mode,
            client_order_id=client_order_id,
        )
        return _accepted(ack)

    def place_market_buy(self, sz: Decimal | None = None) -> str:
        """A market buy, minSz unless told; returns the accepted ordId."""
        ack = self.client.place_order(
            self.symbol,
            side="buy",
            ord_type="market",
            sz=self.instrument.minSz if sz is None else sz,
            pos_side=self.pos_side,
            td_mode=self.td_mode,
        )
        return _accepted(ack)

    def pass_time(self, seconds: int) -> None:
        """Let `seconds` of the venue's time pass: the simulator's clock is moved, OKX is waited for."""
        if self._controls is not None:
            self._controls.advance(seconds)
        else:
            time.sleep(seconds)

    def settle(self, read: Callable[[], T], done: Callable[[T], bool]) -> T:
        """`read()` until `done`, a bounded number of times; the simulator is synchronous (one read)."""
        value = read()
        for _ in range(self._polls - 1):
            if done(value):
                break
            time.sleep(self._poll_s)
            value = read()
        return value

    def final_order(self, ord_id: str) -> OkxOrder:
        """The order once terminal (or as last seen, when it stays open)."""
        return self.settle(lambda: self.client.get_order(self.symbol, ord_id), lambda o: o.state in TERMINAL)

    def flatten(self) -> None:
        """Cancel every pending algo and open order on the symbol and close every position on it (OKX
        demo only)."""
        client = self.client
        algo_ids = [(a.algoId, None) for a in client.list_pending_algos(self.symbol)]
        for start in range(0, len(algo_ids), ALGO_CANCEL_MAX):
            with suppress(OkxIncorrectOrderState):  # every one of them fired or was canceled meanwhile
                client.cancel_algo_orders(self.symbol, algo_ids[start : start + ALGO_CANCEL_MAX])
        open_ids = [(o.ordId, None) for o in client.list_open_orders(self.symbol)]
        for start in range(0, len(open_ids), BATCH_MAX):
            with suppress(OkxIncorrectOrderState):  # every one of them filled or canceled meanwhile
                client.cancel_batch_orders(self.symbol, open_ids[start : start + BATCH_MAX])
        for position in client.get_positions(self.symbol):
            if position.pos != 0:
                client.close_position(self.symbol, position.posSide, position.mgnMode)

    def close(self) -> None:
        for client in self._clients:
            client.close()

    def signed_post(self, path: str, payload: Any, headers: Mapping[str, str]) -> requests.Response:
        """A signed POST with extra headers (e.g. expTime, which the client does not send), stamped
        with the client's estimate of the venue's time."""
        creds = self._credentials
        signer = Signer(creds.api_key, creds.secret_key, creds.passphrase, demo=True)
        body = json_body(payload)
        signed = signer.signed_headers(iso_timestamp(self.client.now_ms()), "POST", path, body)
        return requests.post(
            creds.base_url + path, data=body.encode("utf-8"), headers={**signed, **headers}, timeout=60
        )


def _accepted(ack: OkxOrderAck) -> str:
    assert ack.ok and ack.ordId, f"order not accepted: {ack}"
    return ack.ordId


@contextmanager
def open_venue(name: str, credentials: Credentials | None = None) -> Iterator[Venue]:
    """The named venue for one test: a fresh seeded simulator, or OKX demo (left flat afterwards)."""
    if name in (SIM, SIM_NET_CROSS):
        with Simulator(seed=7, clock="manual", start_px="3000", volatility="0") as sim:
            td_mode = TD_MODE
            if name == SIM_NET_CROSS:
                sim.set_account(pos_mode="net_mode")
                td_mode = "cross"
            creds = Credentials(sim.base_url, sim.api_key, sim.secret_key, sim.passphrase)
            venue = Venue(name, creds, SimControls(sim, SYMBOL), poll_s=0.0, polls=1, td_mode=td_mode)
            try:
                yield venue
            finally:
                venue.close()
        return
    if credentials is None:
        raise ValueError(f"{name} needs credentials")
    time.sleep(RATE_WINDOW_S)  # the previous test's requests leave the windows: a full budget for this one
    venue = Venue(name, credentials, None, poll_s=0.25, polls=20)
    try:
        venue.flatten()
        yield venue
    finally:
        try:
            venue.flatten()
        finally:
            venue.close()
