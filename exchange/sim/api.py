"""The OKX REST gateway: route, authenticate, read the body, rate-limit, then run the endpoint.

`inTime` (and the arrival a late request's delay and expTime are judged from) is when the gateway
received the request, on the simulator's clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

from . import envelopes
from .auth import Credentials, authenticate
from .endpoints import EXP_TIME_ENDPOINTS, ROUTES
from .endpoints.call import Call, Handler, exp_time
from .errors import ApiError
from .faults import NO_FAULTS, FaultPlan
from .ratelimit import RateLimiter, charges
from .server import Request, Response
from .venue import Venue

_PATHS = {endpoint.split(" ", 1)[1] for endpoint in ROUTES}


class Api:
    def __init__(
        self, venue: Venue, credentials: Credentials, limiter_ms: Callable[[], int], rate_limits: bool
    ) -> None:
        self.venue = venue
        self.credentials = credentials
        self.limiter = RateLimiter()
        self._limiter_ms = limiter_ms
        self._rate_limits = rate_limits

    def handle(self, request: Request, plan: FaultPlan = NO_FAULTS) -> Response:
        """The answer to `request`; a late one (plan.late) is queued and answered with nothing (dropped)."""
        endpoint = f"{request.method} {request.path}"
        route = ROUTES.get(endpoint)
        if route is None:
            if request.path in _PATHS:
                return envelopes.error(ApiError("50115"))
            return envelopes.not_found()
        handler, private = route
        try:
            if private:
                authenticate(
                    request.header,
                    request.method,
                    request.target.encode("latin-1"),
                    request.body,
                    self.credentials,
                    (self.venue.now_ms(), self.venue.clock.wall_ms()),
                    self.venue.quirks.timestamp_exact_ms,
                )
            in_time_us = self.venue.now_ms() * 1000
            body = _json_body(request) if request.method == "POST" else None
            query = request.query
            rows = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
            units = charges(endpoint, self.venue.uid, request.client_ip, query, rows)
            with self.venue.lock:
                if self._rate_limits and not self.limiter.admit(units, self._limiter_ms()):
                    return envelopes.rate_limited()
                self.venue.sync()
                now = self.venue.now_ms()
                honours = endpoint in EXP_TIME_ENDPOINTS
                deadline = exp_time(request.header("expTime"), now) if honours else None
                call = Call(query, body, in_time_us, deadline, plan.async_cancel)
                late = plan.late
                if late is None:
                    return handler(self.venue, call)
                run = partial(_answer, handler, self.venue, call)
                self.venue.deferred.add(run, call.expired, late.clock, late.ms, now)
                return Response.dropped()
        except ApiError as exc:
            return envelopes.error(exc)


def _answer(handler: Handler, venue: Venue, call: Call) -> Response:
    try:
        return handler(venue, call)
    except ApiError as exc:
        return envelopes.error(exc)


def _json_body(request: Request) -> Any:
    """A POST's JSON body: 50000 when empty, 50006 when not declared JSON, 50002 when not JSON."""
    if not request.body.strip():
        raise ApiError("50000")
    if "application/json" not in (request.header("Content-Type") or "").lower():
        raise ApiError("50006")
    try:
        return json.loads(request.body.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError):
        raise ApiError("50002") from None
