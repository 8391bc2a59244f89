"""Unsigned admin routes under /sim/ (loopback clients only): drive the simulator from tests and scripts."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from .server import Request, Response


class Controls(Protocol):
    def state(self) -> dict[str, Any]: ...
    def stats(self) -> dict[str, Any]: ...
    def set_price(
        self,
        px: str | Decimal | None = ...,
        inst_id: str = ...,
        *,
        mark: str | Decimal | None = ...,
        index: str | Decimal | None = ...,
    ) -> None: ...
    def advance(self, seconds: float | int | str | Decimal) -> None: ...
    def set_faults(self, spec: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> list[dict[str, Any]]: ...
    def set_ws_faults(self, spec: Mapping[str, Any]) -> dict[str, Any]: ...
    def reset(self) -> None: ...
    def quirks(self) -> dict[str, Any]: ...
    def set_quirks(self, changes: Mapping[str, Any]) -> dict[str, Any]: ...
    def user_cancel(
        self, ord_id: str | None = None, client_order_id: str | None = None
    ) -> dict[str, Any]: ...
    def user_cancel_algo(
        self, algo_id: str | None = None, algo_client_order_id: str | None = None
    ) -> dict[str, Any]: ...
    def user_close(self, inst_id: str, pos_side: str, mgn_mode: str | None = None) -> dict[str, Any]: ...
    def set_account(self, acct_lv: str | None = None, pos_mode: str | None = None) -> dict[str, Any]: ...
    def user_order(
        self,
        side: str,
        sz: str | Decimal,
        *,
        inst_id: str = ...,
        ord_type: str = ...,
        px: str | Decimal | None = ...,
        pos_side: str | None = ...,
        td_mode: str = ...,
        client_order_id: str | None = ...,
    ) -> dict[str, Any]: ...


def _is_loopback(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def _optional(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    return None if value is None or value == "" else str(value)


def _fail(status: int, message: str) -> Response:
    return Response(status, {"error": message})


def handle(sim: Controls, request: Request) -> Response:
    if not _is_loopback(request.client_ip):
        return _fail(403, "admin routes answer loopback clients only")
    route = f"{request.method} {request.path}"
    try:
        body = json.loads(request.body or b"{}") if request.method == "POST" else {}
        if route == "POST /sim/faults" and isinstance(body, list):
            body = {"rules": body}  # a bare rule list is accepted too; [] clears the rules
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        return _route(sim, route, body)
    except KeyError as exc:
        return _fail(400, f"missing field {exc.args[0]}")
    except LookupError as exc:
        return _fail(404, str(exc.args[0]) if exc.args else "not found")
    except (ValueError, TypeError, InvalidOperation) as exc:
        return _fail(400, str(exc) or type(exc).__name__)


def _route(sim: Controls, route: str, body: dict[str, Any]) -> Response:
    if route == "GET /sim/state":
        return Response(200, sim.state())
    if route == "GET /sim/stats":
        return Response(200, sim.stats())
    if route == "POST /sim/price":  # {"px"} trades the last price; {"mark"}, {"index"} set those apart
        inst_id = _optional(body, "instId") or "ETH-USDT-SWAP"
        mark, index = _optional(body, "mark"), _optional(body, "index")
        sim.set_price(_optional(body, "px"), inst_id, mark=mark, index=index)
    elif route == "POST /sim/advance":
        sim.advance(str(body["seconds"]))
    elif route == "POST /sim/faults" and isinstance(body, Mapping) and set(body) == {"ws"}:
        return Response(200, {"ws": sim.set_ws_faults(body["ws"])})  # the private channel's faults
    elif route == "POST /sim/faults":
        return Response(200, {"rules": sim.set_faults(body)})
    elif route == "POST /sim/ws":
        return Response(200, sim.set_ws_faults(body))
    elif route == "GET /sim/quirks":
        return Response(200, sim.quirks())
    elif route == "POST /sim/quirks":
        return Response(200, sim.set_quirks(body))
    elif route == "POST /sim/reset":
        sim.reset()
    elif route == "POST /sim/user-cancel":
        return Response(200, sim.user_cancel(body.get("ordId") or None, body.get("clOrdId") or None))
    elif route == "POST /sim/user-cancel-algo":
        return Response(200, sim.user_cancel_algo(_optional(body, "algoId"), _optional(body, "algoClOrdId")))
    elif route == "POST /sim/user-close":
        mgn_mode = body.get("mgnMode")
        return Response(
            200,
            sim.user_close(str(body["instId"]), str(body["posSide"]), str(mgn_mode) if mgn_mode else None),
        )
    elif route == "POST /sim/account":
        acct_lv, pos_mode = body.get("acctLv"), body.get("posMode")
        return Response(200, sim.set_account(acct_lv and str(acct_lv), pos_mode and str(pos_mode)))
    elif route == "POST /sim/user-order":
        order = sim.user_order(
            str(body["side"]),
            str(body["sz"]),
            inst_id=_optional(body, "instId") or "ETH-USDT-SWAP",
            ord_type=_optional(body, "ordType") or "market",
            px=_optional(body, "px"),
            pos_side=_optional(body, "posSide"),
            td_mode=_optional(body, "tdMode") or "isolated",
            client_order_id=_optional(body, "clOrdId"),
        )
        return Response(200, order)
    else:
        raise LookupError(f"no admin route {route}")
    state = sim.state()
    return Response(200, {"px": state["px"], "clock_ms": state["clock_ms"]})
