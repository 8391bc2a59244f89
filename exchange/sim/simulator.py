"""The simulator as a whole: the venue behind an HTTP server, in-process controls, and `serve` for the CLI."""

from __future__ import annotations

import ipaddress
import json
import math
import os
import secrets
import signal
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import FrameType, TracebackType
from typing import Any

from . import admin, envelopes, faults, params
from .account import ACCT_LEVELS, LONG_SHORT, POS_MODES
from .api import Api
from .auth import Credentials
from .clock import Clock
from .decimals import fmt
from .errors import ApiError, ItemError
from .instruments import INSTRUMENTS, PRIMARY_INST_ID
from .quirks import Quirks
from .ratelimit import RateLimiter
from .server import HttpServer, Request, Response
from .venue import Venue

USER_ORD_TYPES = ("market", "limit", "post_only")  # what the OKX app's order form offers here


def _decimal(value: str | int | float | Decimal, name: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except ArithmeticError:
        raise ValueError(f"{name} must be a number") from None
    if not result.is_finite():
        raise ValueError(f"{name} must be a finite number")
    return result


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
    ) -> None:
        self._clock = Clock(clock, speed, start_ms)
        self._venue = Venue(
            self._clock,
            seed,
            _decimal(start_px, "start_px"),
            _decimal(volatility, "volatility"),
            _decimal(fill_ratio, "fill_ratio"),
            _decimal(balance, "balance"),
        )
        self._venue.quirks = Quirks().updated(quirks or {})
        self._credentials = Credentials(
            api_key or str(uuid.UUID(secrets.token_hex(16))),
            secret_key or secrets.token_hex(16).upper(),
            passphrase or f"Sim{secrets.token_hex(8)}",
        )
        self._faults = faults.Faults(seed)
        self._api = Api(self._venue, self._credentials, self._clock.limiter_ms, rate_limits)
        self._requests: Counter[str] = Counter()
        self._host, self._port = host, port
        self._http: HttpServer | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Simulator:
        if self._http is None:
            self._http = HttpServer(self._host, self._port, self._dispatch)
            self._http.start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()
            self._http = None

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
    def api_key(self) -> str:
        return self._credentials.api_key

    @property
    def secret_key(self) -> str:
        return self._credentials.secret_key

    @property
    def passphrase(self) -> str:
        return self._credentials.passphrase

    # -- controls (the admin routes call these too) -------------------------------------------

    def now_ms(self) -> int:
        """The simulator's clock (what /api/v5/public/time answers), without sending a request."""
        return self._clock.now_ms()

    def set_price(self, px: str | Decimal, inst_id: str = PRIMARY_INST_ID) -> None:
        """Trade the market to px (a multiple of tickSz) now, filling what rests in between (one step)."""
        with self._venue.lock:
            if inst_id not in self._venue.market.paths:
                raise ValueError(f"unknown instId {inst_id}")
            self._venue.set_price(inst_id, _decimal(px, "px"))

    def advance(self, seconds: float | int | str | Decimal) -> None:
        """Move the clock forward; the market walks (and matches) once per whole second passed."""
        with self._venue.lock:
            self._venue.advance(_decimal(seconds, "seconds"))

    def set_faults(self, spec: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> list[dict[str, Any]]:
        """Replace the fault rules: a list, {"rules": [...]}, or {"profile": "okx-harsh", "probability": p,
        "seed": s} (see exchange.sim.faults); returns them as stored."""
        with self._venue.lock:
            return self._faults.configure(spec)

    def set_quirks(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change some of the "not verified" switches (exchange.sim.quirks); returns them all."""
        with self._venue.lock:
            self._venue.quirks = self._venue.quirks.updated(changes)
            return self._venue.quirks.to_dict()

    def quirks(self) -> dict[str, Any]:
        with self._venue.lock:
            return self._venue.quirks.to_dict()

    def user_cancel(self, ord_id: str | None = None, cl_ord_id: str | None = None) -> dict[str, Any]:
        """Cancel a pending order as a trader in the OKX app would (cancelSource "1")."""
        with self._venue.lock:
            return self._venue.user_cancel(ord_id, cl_ord_id).to_okx()

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
        cl_ord_id: str | None = None,
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
            "clOrdId": cl_ord_id,
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
                "clock_ms": venue.now_ms(),
                "orders": [order.to_okx() for order in venue.orders.values()],
                "fills": [fill.to_okx() for fill in venue.fills],
                "positions": venue.positions(),
                "balance": venue.balance(),
            }

    def stats(self) -> dict[str, Any]:
        """Since the last reset: requests under /api/v5 by "METHOD /path" (query left out), faults fired
        by kind, and late requests (queued = applied + refused past their expTime + waiting)."""
        with self._venue.lock:
            return {
                "requests": dict(sorted(self._requests.items())),
                "total": sum(self._requests.values()),
                "faults": dict(sorted(self._faults.fired.items())),
                "late": self._venue.deferred.counts(),
            }

    def reset(self) -> None:
        """A fresh account (orders, fills, positions, balance, no late requests or pending cancels), no
        faults, default quirks, empty rate windows and stats.

        The clock and the market go on: time never runs backwards for a client.
        """
        with self._venue.lock:
            self._venue.reset_account()
            self._venue.quirks = Quirks()
            self._faults.reset()
            self._api.limiter = RateLimiter()
            self._requests.clear()

    # -- requests ------------------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Response:
        if request.path.startswith("/sim/"):
            return admin.handle(self, request)
        if not request.path.startswith("/api/v5/"):
            return Response(404, {"code": "404", "data": [], "msg": "Not Found"})
        endpoint = f"{request.method} {request.path}"
        with self._venue.lock:
            self._requests[endpoint] += 1
            plan = self._faults.plan(endpoint)
        if plan.latency_ms:
            time.sleep(plan.latency_ms / 1000)
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


EXIT_USAGE = 2
ALLOW_REMOTE_HELP = (
    "listen on a non-loopback --host (API clients from elsewhere; the /sim/ admin routes still answer "
    "loopback clients only)"
)


@dataclass(frozen=True)
class ServeOptions:
    """`okx-fsm sim` / `python -m exchange.sim` flags, checked: `parse` raises ValueError naming the flag."""

    host: str
    port: int
    seed: int
    clock: str
    speed: float
    start_px: Decimal

    @classmethod
    def parse(
        cls,
        host: str,
        port: str | int,
        seed: str | int,
        clock: str,
        speed: str | float,
        start_px: str | Decimal,
        allow_remote: bool,
    ) -> ServeOptions:
        if not allow_remote and not _is_loopback(host):
            raise ValueError(f"--host {host} is not a loopback address: add --allow-remote to listen there")
        port_number = _integer(port, "--port")
        if not 0 <= port_number <= 65535:
            raise ValueError(f"--port must be between 0 and 65535, not {port}")
        if clock not in ("manual", "realtime"):
            raise ValueError(f"--clock must be manual or realtime, not {clock!r}")
        try:
            speed_factor = float(speed)
        except ValueError:
            speed_factor = math.nan
        if not (math.isfinite(speed_factor) and speed_factor > 0):
            raise ValueError(f"--speed must be a positive number, not {speed!r}")
        tick = INSTRUMENTS[PRIMARY_INST_ID].tick_sz
        try:
            px = _decimal(start_px, "--start-px")
        except ValueError:
            px = Decimal(0)
        if px <= 0 or px % tick != 0:
            raise ValueError(f"--start-px must be a positive price on the {fmt(tick)} tick, not {start_px!r}")
        return cls(host, port_number, _integer(seed, "--seed"), clock, speed_factor, px)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _integer(value: str | int, flag: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{flag} must be an integer, not {value!r}") from None


def serve(
    host: str = "127.0.0.1",
    port: str | int = 0,
    seed: str | int = 0,
    clock: str = "realtime",
    speed: str | float = 1.0,
    start_px: str = "3000",
    allow_remote: bool = False,
) -> int:
    """Run a simulator until SIGINT or SIGTERM; print one JSON line with its URL and credentials first.

    Bad flags, or an address it cannot listen on, print one line on stderr and return 2 before serving.
    Credentials come from OKX_API_KEY / OKX_API_SECRET / OKX_API_PASSPHRASE when set, else are generated.
    """
    try:
        options = ServeOptions.parse(host, port, seed, clock, speed, start_px, allow_remote)
        sim = Simulator(
            seed=options.seed,
            clock=options.clock,
            speed=options.speed,
            start_px=options.start_px,
            host=options.host,
            port=options.port,
            api_key=os.environ.get("OKX_API_KEY") or None,
            secret_key=os.environ.get("OKX_API_SECRET") or None,
            passphrase=os.environ.get("OKX_API_PASSPHRASE") or None,
        )
        try:
            sim.start()
        except OSError as exc:
            raise ValueError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        line = {
            "base_url": sim.base_url,
            "api_key": sim.api_key,
            "secret_key": sim.secret_key,
            "passphrase": sim.passphrase,
        }
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sim.stop()
    return 0
