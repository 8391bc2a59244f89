"""The simulator as a whole: the venue behind an HTTP server, and its in-process controls."""

from __future__ import annotations

import secrets
import sys
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any

import requests

from . import admin, envelopes, faults, params
from .account import ACCT_LEVELS, LONG_SHORT, POS_MODES
from .api import Api
from .auth import Credentials
from .clock import Clock
from .decimals import fmt, to_decimal
from .errors import ApiError, ItemError
from .fillmodel import FillModel
from .funding import Charge
from .inprocess import InProcessSession
from .instruments import PRIMARY_INST_ID
from .market import BAR_MINUTES, DAY_MS, FEEDS, MAX_CANDLE_ENTRIES, MINUTE_MS
from .private_ws import BUSINESS_WS_PATH, WS_PATH, PrivateChannel
from .quirks import Quirks
from .ratelimit import RateLimiter
from .server import HttpServer, Request, Response
from .tape import CandleTape
from .venue import Venue

USER_ORD_TYPES = ("market", "limit", "post_only")  # what the OKX app's order form offers here
HOLD_POLL_S = 0.005  # how often a request held on the simulator's clock looks at it


def _choice(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}")
    return value


class Simulator:
    """A local OKX v5 exchange on `host:port` (port 0 picks a free one), with one demo API key.

    Use it as a context manager; `base_url` is known once started. The controls mirror the admin routes.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: str = "manual",
        speed: float = 1.0,
        start_px: str | Decimal = "3000",
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        secret_key: str | None = None,
        passphrase: str | None = None,
        start_ms: int | None = None,
        volatility: str | Decimal = "0.0005",
        fill_ratio: str | Decimal = "0.5",
        balance: str | Decimal = "100000",
        rate_limits: bool = True,
        quirks: Mapping[str, Any] | None = None,
        fill_model: FillModel | None = None,
    ) -> None:
        self._clock = Clock(clock, speed, start_ms)
        self._venue = Venue(
            self._clock,
            seed,
            to_decimal(start_px, "start_px"),
            to_decimal(volatility, "volatility"),
            to_decimal(fill_ratio, "fill_ratio"),
            to_decimal(balance, "balance"),
        )
        self._venue.quirks = Quirks().updated(quirks or {})
        self._venue.fill_model = fill_model or FillModel()
        self._credentials = Credentials(
            api_key or str(uuid.UUID(secrets.token_hex(16))),
            secret_key or secrets.token_hex(16).upper(),
            passphrase or f"Sim{secrets.token_hex(8)}",
        )
        self._faults = faults.Faults(seed)
        self._api = Api(self._venue, self._credentials, self._clock.limiter_ms, rate_limits)
        self._requests: Counter[str] = Counter()
        self._hung_up = 0
        self._host, self._port = host, port
        self._http: HttpServer | None = None
        self._channel = PrivateChannel(
            self._credentials,
            lambda: (self._venue.now_ms(), self._clock.wall_ms()),
            self._venue.uid,
            lambda inst_id: self._venue.positions(lambda p: p.inst.inst_id == inst_id),
        )
        self._venue.watchers.append(self._channel.publish)
        self._venue.algo_watchers.append(self._channel.publish_algo)
        self._changes = 0
        self._venue.watchers.append(self._count_change)
        self._venue.algo_watchers.append(self._count_change)
        self._ws_port: int | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Simulator:
        if self._http is None:
            self._http = HttpServer(self._host, self._port, self._dispatch, self._count_hang_up)
            self._http.start()
            self._ws_port = self._channel.start(self._host)
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._channel.stop()
            self._http.stop()
            self._http = None
            self._ws_port = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._http is None:
            raise RuntimeError("the simulator is not started")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._http.port}"

    @property
    def ws_url(self) -> str:
        """The private WebSocket channel (`/ws/v5/private`), served on a second port of the same host."""
        return self._ws_url(WS_PATH)

    @property
    def business_ws_url(self) -> str:
        """The business WebSocket channel (`/ws/v5/business`: `orders-algo`), on the private one's port."""
        return self._ws_url(BUSINESS_WS_PATH)

    def _ws_url(self, path: str) -> str:
        if self._ws_port is None:
            raise RuntimeError("the simulator is not started")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"ws://{host}:{self._ws_port}{path}"

    @property
    def api_key(self) -> str:
        return self._credentials.api_key

    @property
    def secret_key(self) -> str:
        return self._credentials.secret_key

    @property
    def passphrase(self) -> str:
        return self._credentials.passphrase

    def in_process(self) -> requests.Session:
        """A requests session that reaches this simulator without a socket, at `IN_PROCESS_URL`: the
        same request bytes, signing and answers as over loopback (a replay's transport). Works whether or
        not the server is started; what holds a request on the clock does not wait then."""
        return InProcessSession(self._dispatch)

    # -- controls (the admin routes call these too) -------------------------------------------

    def now_ms(self) -> int:
        """The simulator's clock (what /api/v5/public/time answers), without sending a request."""
        return self._clock.now_ms()

    @property
    def changes(self) -> int:
        """How many order and algo changes (placed, filled, amended, triggered, ended) the account has
        seen, counted as the private channel pushes them: a replay's way to tell that nothing of the
        account moved between two instants, without a request."""
        return self._changes

    def _count_change(self, _: object) -> None:
        self._changes += 1

    def set_price(
        self,
        px: str | Decimal | None = None,
        inst_id: str = PRIMARY_INST_ID,
        *,
        mark: str | Decimal | None = None,
        index: str | Decimal | None = None,
    ) -> None:
        """Trade the market to px (a multiple of tickSz) now, filling what rests in between (one step);
        `mark` and `index` put those prices apart from the last one (they keep that distance as it moves,
        until set again; /sim/reset puts them back on it). Algos whose legs watch them fire."""
        if px is None and mark is None and index is None:
            raise ValueError("give px, mark or index")
        prices = {
            name: None if value is None else to_decimal(value, name)
            for name, value in (("px", px), ("mark", mark), ("index", index))
        }
        with self._venue.lock:
            if inst_id not in self._venue.market.paths:
                raise ValueError(f"unknown instId {inst_id}")
            self._venue.set_price(inst_id, prices["px"], prices["mark"], prices["index"])

    def replay_bars(self, bar: str, inst_id: str = PRIMARY_INST_ID) -> None:
        """From now on the candles of `bar` for `inst_id` are the bars fed (feed_bar) and the one forming
        from the prices traded (set_price), and no others: a replay's history, never its future."""
        if bar not in BAR_MINUTES:
            raise ValueError(f"bar must be one of {', '.join(BAR_MINUTES)}")
        with self._venue.lock:
            path = self._venue.market.paths[inst_id]
            path.tape = CandleTape(bar, BAR_MINUTES[bar] * MINUTE_MS, MAX_CANDLE_ENTRIES)

    def feed_bar(self, row: Sequence[str], inst_id: str = PRIMARY_INST_ID) -> None:
        """A closed bar of the replayed size (OKX's nine row fields), once the clock has reached its close.
        The minutes older than a day and a bar are forgotten, so a long replay's memory stays flat."""
        with self._venue.lock:
            tape = self._venue.market.paths[inst_id].tape
            if tape is None:
                raise ValueError(f"{inst_id} replays no bars (replay_bars first)")
            if int(row[0]) + tape.span_ms > self._clock.now_ms():
                raise ValueError(f"bar {row[0]} has not closed yet at {self._clock.now_ms()}: no future bars")
            tape.feed(row)
            keep_from = self._clock.now_ms() - DAY_MS - tape.span_ms
            for path in self._venue.market.paths.values():
                path.forget_before(keep_from)

    def set_funding(self, inst_id: str, rates: Iterable[tuple[int, Decimal]]) -> None:
        """From now on, charge the open positions of `inst_id` at each (funding time ms, rate) as the
        clock passes it (exchange.sim.funding); an empty schedule charges nothing."""
        with self._venue.lock:
            if inst_id not in self._venue.market.paths:
                raise ValueError(f"unknown instId {inst_id}")
            self._venue.funding.set(inst_id, (Charge(ts, rate) for ts, rate in rates))

    def advance(self, seconds: float | int | str | Decimal) -> None:
        """Move the clock forward; the market walks (and matches) once per whole second passed."""
        with self._venue.lock:
            self._venue.advance(to_decimal(seconds, "seconds"))

    def set_faults(self, spec: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> list[dict[str, Any]]:
        """Replace the fault rules: a list, {"rules": [...]}, or {"profile": "okx-harsh", "probability": p,
        "seed": s} (see exchange.sim.faults); returns them as stored."""
        with self._venue.lock:
            return self._faults.configure(spec)

    def set_ws_faults(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """Faults of the private WebSocket channels: {"drop": true} cuts every connection now (a path,
        "/ws/v5/private" or "/ws/v5/business": those of that path only), {"delay_ms": n} holds each push
        back n ms, {"lose": n} loses the next n order or algo changes.

        Returns the settings with the channel's counters (pushed, positions_pushed, lost, pongs, drops,
        logins).
        """
        with self._venue.lock:
            return self._channel.configure(spec)

    def set_quirks(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change some of the "not verified" switches (exchange.sim.quirks); returns them all."""
        with self._venue.lock:
            self._venue.quirks = self._venue.quirks.updated(changes)
            return self._venue.quirks.to_dict()

    def quirks(self) -> dict[str, Any]:
        with self._venue.lock:
            return self._venue.quirks.to_dict()

    def user_cancel(self, ord_id: str | None = None, client_order_id: str | None = None) -> dict[str, Any]:
        """Cancel a pending order as a trader in the OKX app would (cancelSource "1")."""
        with self._venue.lock:
            return self._venue.user_cancel(ord_id, client_order_id).to_okx()

    def user_cancel_algo(
        self, algo_id: str | None = None, algo_client_order_id: str | None = None
    ) -> dict[str, Any]:
        """Cancel a live algo order as a trader in the OKX app would; returns it (OKX shape)."""
        with self._venue.lock:
            return self._venue.user_cancel_algo(algo_id, algo_client_order_id).to_okx()

    def user_close(self, inst_id: str, pos_side: str, mgn_mode: str | None = None) -> dict[str, Any]:
        """Close a position at market as a trader in the OKX app would; returns the closing order."""
        with self._venue.lock:
            return self._venue.user_close(inst_id, pos_side, mgn_mode).to_okx()

    def set_account(self, acct_lv: str | None = None, pos_mode: str | None = None) -> dict[str, Any]:
        """Switch the account level and/or position mode as in the OKX app (refused while positions or
        pending orders exist); returns the account configuration."""
        with self._venue.lock:
            self._venue.sync()
            try:
                if acct_lv is not None:
                    self._venue.set_account_level(_choice(acct_lv, ACCT_LEVELS, "acctLv"))
                if pos_mode is not None:
                    self._venue.set_position_mode(_choice(pos_mode, POS_MODES, "posMode"))
            except ApiError as exc:
                raise ValueError(f"{exc.code} {exc.msg}") from None
            return self._venue.config()

    def user_order(
        self,
        side: str,
        sz: str | Decimal,
        *,
        inst_id: str = PRIMARY_INST_ID,
        ord_type: str = "market",
        px: str | Decimal | None = None,
        pos_side: str | None = None,
        td_mode: str = "isolated",
        client_order_id: str | None = None,
    ) -> dict[str, Any]:
        """Place an order as a trader in the OKX app would; returns it (OKX shape).

        The API's checks and trading rules apply and its fills land on the same positions. A buy without
        posSide opens a long in long/short mode (net mode needs none). A refusal raises
        ValueError("<sCode> <sMsg>").
        """
        if ord_type not in USER_ORD_TYPES:
            raise ValueError(f"ordType must be one of {', '.join(USER_ORD_TYPES)}")
        item = {
            "instId": inst_id,
            "side": side,
            "sz": str(sz),
            "ordType": ord_type,
            "px": None if px is None else str(px),
            "posSide": pos_side,
            "tdMode": td_mode,
            "clOrdId": client_order_id,
        }
        with self._venue.lock:
            self._venue.sync()
            if pos_side is None and side == "buy" and self._venue.account.pos_mode == LONG_SHORT:
                item["posSide"] = "long"
            try:
                params.place_shape(item, self._venue.quirks)
                order = self._venue.place(params.place_item(item, self._venue.quirks), set())
            except (ApiError, ItemError) as exc:
                raise ValueError(f"{exc.code} {exc.msg}") from None
            return order.to_okx()

    def state(self) -> dict[str, Any]:
        with self._venue.lock:
            venue = self._venue
            venue.sync()
            return {
                "px": fmt(venue.market.paths[PRIMARY_INST_ID].px),
                "prices": {inst_id: fmt(path.px) for inst_id, path in venue.market.paths.items()},
                "feeds": {
                    inst_id: {name: fmt(path.feed(name)) for name in FEEDS}
                    for inst_id, path in venue.market.paths.items()
                },
                "clock_ms": venue.now_ms(),
                "orders": [order.to_okx() for order in venue.orders.values()],
                "algos": [algo.to_okx() for algo in venue.algos.values()],
                "cancel_all_after": venue.caa_timers.to_okx(),
                "fills": [fill.to_okx() for fill in venue.fills],
                "bills": [bill.to_okx() for bill in venue.bills],
                "positions": venue.positions(),
                "balance": venue.balance(),
            }

    def stats(self) -> dict[str, Any]:
        """Since the last reset: requests under /api/v5 by "METHOD /path" (query left out), faults fired
        by kind, the faults other than latency by the endpoint they hit, late requests (queued = applied
        + refused past their expTime + waiting), and
        connections whose client hung up before it was answered."""
        with self._venue.lock:
            return {
                "requests": dict(sorted(self._requests.items())),
                "total": sum(self._requests.values()),
                "faults": dict(sorted(self._faults.fired.items())),
                "faulted": dict(sorted(self._faults.changed.items())),
                "late": self._venue.deferred.counts(),
                "hung_up": self._hung_up,
            }

    def reset(self) -> None:
        """A fresh account (orders, algos, fills, positions, balance, no late requests or pending cancels),
        no faults (REST or WebSocket), default quirks, empty rate windows and stats, mark and index back on
        the last price.

        The clock and the market go on: time never runs backwards for a client.
        """
        with self._venue.lock:
            self._venue.reset_account()
            for path in self._venue.market.paths.values():
                path.spreads.clear()
            self._venue.quirks = Quirks()
            self._faults.reset()
            self._channel.reset()
            self._api.limiter = RateLimiter()
            self._requests.clear()
            self._hung_up = 0

    # -- requests ------------------------------------------------------------------------------

    def _hold_until(self, due_ms: int) -> None:
        """Keep a request waiting, outside the lock, until the simulator's clock reaches `due_ms` (on a
        manual clock: until it is advanced) or the simulator stops."""
        while self._clock.now_ms() < due_ms and self._http is not None:
            time.sleep(HOLD_POLL_S)

    def _count_hang_up(self) -> None:
        with self._venue.lock:
            self._hung_up += 1

    def _dispatch(self, request: Request) -> Response:
        if request.path.startswith("/sim/"):
            return admin.handle(self, request)
        if not request.path.startswith("/api/v5/"):
            return envelopes.not_found()
        response = self._answer(request)
        return envelopes.numeric_code(response) if self._venue.quirks.numeric_bare_codes else response

    def _answer(self, request: Request) -> Response:
        """An /api/v5 request's answer: faults first, then the gateway and its endpoint."""
        endpoint = f"{request.method} {request.path}"
        with self._venue.lock:
            self._requests[endpoint] += 1
            plan = self._faults.plan(endpoint)
            arrival_ms = self._clock.now_ms()
        if plan.latency_ms:
            time.sleep(plan.latency_ms / 1000)
        if plan.held_ms:
            self._hold_until(arrival_ms + plan.held_ms)
        if plan.outcome == faults.HTTP_503:
            return envelopes.error(ApiError("50001"))
        if plan.outcome == faults.BURST_429:
            return envelopes.rate_limited()
        if plan.outcome == faults.DROP_BEFORE_APPLY:
            return Response.dropped()
        try:
            response = self._api.handle(request, plan)
        except Exception:  # a simulator bug must not look like a dropped connection to the client
            traceback.print_exc(file=sys.stderr)
            return envelopes.error(ApiError("50026"))
        if plan.late is not None and not response.drop:  # refused on arrival: nothing was queued
            return response
        if plan.outcome in (faults.CODE_50004_AFTER_APPLY, faults.LATE_50004):
            return envelopes.error(ApiError("50004"))
        if plan.outcome in (faults.DROP_AFTER_APPLY, faults.LATE_APPLY):
            return Response.dropped()
        return response
