"""The private WebSocket channels on their own port: login, subscribe, order pushes, ping/pong, faults.

Two paths, as at OKX: `/ws/v5/private` serves `orders` and `positions`, `/ws/v5/business` serves
`orders-algo`; a channel asked for on the other path is 60018. Login is checked as OKX does: the API key,
the passphrase, a Unix-seconds timestamp within 30 s of the simulator's clock or the host's wall clock,
and Base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify")). Every order change of the
account is pushed to the connections subscribed to `orders`; after a fill, the positions of that
instrument (as REST lists them) go to those subscribed to `positions` (OKX also pushes positions on a
timer and on mark moves; the simulator does not). Every algo change goes to `orders-algo` subscribers
(of the algo's instrument when they named one); nothing is pushed on subscribe, only later changes.
Pushes leave from one sender thread per connection, so a delay fault holds that connection's messages
back in order.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import queue
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from .algos import Algo
from .auth import TIMESTAMP_WINDOW_MS, Credentials, sign
from .orders import Order

WS_PATH = "/ws/v5/private"
BUSINESS_WS_PATH = "/ws/v5/business"
VERIFY_PREHASH = "GET/users/self/verify"
CHANNELS = {WS_PATH: ("orders", "positions"), BUSINESS_WS_PATH: ("orders-algo",)}
_SECONDS = re.compile(r"\d{1,12}(\.\d{1,3})?")
# Codes and texts as OKX's WebSocket error-code table gives them (checked 2026-12-02; the facts sheet
# has no WS table). OKX's 60018 text names the channel; the simulator's does not.
ERRORS = {
    "60004": "Invalid timestamp",
    "60005": "Invalid apiKey",
    "60006": "Timestamp request expired",
    "60007": "Invalid sign",
    "60009": "Login failure",
    "60011": "Please log in",
    "60012": "Invalid request",
    "60018": "Wrong URL or channel doesn't exist",
    "60024": "Wrong passphrase",
}


class LoginRefused(Exception):
    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


@dataclass(eq=False)  # hashed by identity: one per connection
class _Session:
    conn: ServerConnection
    path: str  # WS_PATH or BUSINESS_WS_PATH: which channels it serves
    conn_id: str = field(default_factory=lambda: secrets.token_hex(4))
    logged_in: bool = False
    subscriptions: dict[str, str] = field(default_factory=dict)  # channel -> instType
    inst_ids: dict[str, str] = field(default_factory=dict)  # channel -> the instId it was narrowed to
    outbox: queue.Queue[tuple[float, str] | None] = field(default_factory=queue.Queue)


class PrivateChannel:
    """The `/ws/v5/private` and `/ws/v5/business` endpoints of one account. `publish` and `publish_algo`
    are called under the venue's lock."""

    def __init__(
        self,
        credentials: Credentials,
        clocks_ms: Callable[[], Sequence[int]],
        uid: str,
        positions: Callable[[str], list[dict[str, Any]]],
    ) -> None:
        self._credentials = credentials
        self._clocks_ms = clocks_ms
        self._uid = uid
        self._positions = positions  # instId -> its position records, as GET /account/positions lists them
        self._lock = threading.Lock()
        self._sessions: set[_Session] = set()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self.delay_ms = 0
        self.lose = 0
        counters = ("pushed", "positions_pushed", "algos_pushed", "lost", "pongs", "drops", "logins")
        self.stats = dict.fromkeys(counters, 0)

    def start(self, host: str) -> int:
        """Listen on a free port of `host`; returns the port."""
        self._server = serve(self._serve, host, 0, process_request=_known_path, ping_interval=None)
        self._thread = threading.Thread(target=self._server.serve_forever, name="okx-sim-ws", daemon=True)
        self._thread.start()
        return int(self._server.socket.getsockname()[1])

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._server = self._thread = None

    # -- faults ----------------------------------------------------------------------------------

    def configure(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """{"drop": true} cuts every connection now ({"drop": "/ws/v5/business"} those of one path only);
        {"delay_ms": n} holds each push back n ms; {"lose": n} loses the next n order or algo changes.
        Returns the settings and counters."""
        unknown = set(spec) - {"drop", "delay_ms", "lose"}
        if unknown:
            raise ValueError(f"unknown ws fault fields: {sorted(unknown)}")
        drop = spec.get("drop", False)
        if not isinstance(drop, bool) and drop not in CHANNELS:
            raise ValueError(f"drop must be true, false or one of {sorted(CHANNELS)}")
        for name in ("delay_ms", "lose"):
            value = spec.get(name, getattr(self, name))
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer")
            setattr(self, name, value)
        if drop:
            self._drop(None if drop is True else str(drop))
        return self.settings()

    def settings(self) -> dict[str, Any]:
        with self._lock:
            connections = len(self._sessions)
        return {"delay_ms": self.delay_ms, "lose": self.lose, "connections": connections, **self.stats}

    def reset(self) -> None:
        self.delay_ms = self.lose = 0
        self.stats = dict.fromkeys(self.stats, 0)

    def _drop(self, path: str | None) -> None:
        """Shut the TCP connections (of `path`, or all) without a close frame, as a broken network would."""
        with self._lock:
            sessions = [s for s in self._sessions if path in (None, s.path)]
        for session in sessions:
            with contextlib.suppress(OSError):
                session.conn.socket.shutdown(socket.SHUT_RDWR)
        self.stats["drops"] += len(sessions)

    # -- pushes ----------------------------------------------------------------------------------

    def publish(self, order: Order) -> None:
        """Push one order change to every `orders` subscriber (avgPx "0" before a fill, as OKX's WS does),
        and after a fill the instrument's positions to every `positions` subscriber."""
        if self.lose:
            self.lose -= 1
            self.stats["lost"] += 1
            return
        data = order.to_okx()
        data["avgPx"] = data["avgPx"] or "0"
        self.stats["pushed"] += self._push("orders", [data])
        filled_now = order.last_fill is not None and order.last_fill.ts == order.u_time
        if filled_now:
            self.stats["positions_pushed"] += self._push("positions", self._positions(order.inst.inst_id))

    def publish_algo(self, algo: Algo) -> None:
        """Push one algo change to every `orders-algo` subscriber (with the amend's reqId and result)."""
        if self.lose:
            self.lose -= 1
            self.stats["lost"] += 1
            return
        data = {**algo.to_okx(), "reqId": algo.req_id, "amendResult": algo.amend_result}
        self.stats["algos_pushed"] += self._push("orders-algo", [data], algo.inst.inst_id)

    def _push(self, channel: str, data: list[dict[str, Any]], inst_id: str | None = None) -> int:
        """Queue `data` for every SWAP subscriber of `channel` (of `inst_id`, when they named an instrument);
        how many connections it went to."""
        with self._lock:
            sessions = [
                s
                for s in self._sessions
                if s.subscriptions.get(channel) in ("SWAP", "ANY")
                and s.inst_ids.get(channel) in (None, inst_id)
            ]
        for session in sessions:
            arg = {"channel": channel, "instType": session.subscriptions[channel], "uid": self._uid}
            if channel in session.inst_ids:
                arg["instId"] = session.inst_ids[channel]
            session.outbox.put((self.delay_ms / 1000, _text({"arg": arg, "data": data})))
        return len(sessions)

    # -- one connection --------------------------------------------------------------------------

    def _serve(self, conn: ServerConnection) -> None:
        session = _Session(conn, conn.request.path if conn.request else WS_PATH)
        sender = threading.Thread(target=_send_loop, args=(session,), name="okx-sim-ws-send", daemon=True)
        sender.start()
        with self._lock:
            self._sessions.add(session)
        try:
            for message in conn:
                reply = self._answer(session, message)
                session.outbox.put((0.0, reply))
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._sessions.discard(session)
            session.outbox.put(None)
            sender.join()

    def _answer(self, session: _Session, message: str | bytes) -> str:
        if message == "ping":
            self.stats["pongs"] += 1
            return "pong"
        try:
            request = json.loads(message)
        except ValueError:
            return self._error(session, "60012")
        op = request.get("op") if isinstance(request, dict) else None
        args = request.get("args") if isinstance(request, dict) else None
        if not isinstance(args, list) or not args or not all(isinstance(a, dict) for a in args):
            return self._error(session, "60012")
        if op == "login":
            try:
                self._login(args[0])
            except LoginRefused as exc:
                return self._error(session, exc.code)
            session.logged_in = True
            self.stats["logins"] += 1
            return _text({"event": "login", "code": "0", "msg": "", "connId": session.conn_id})
        if op == "subscribe":
            return self._subscribe(session, args)
        return self._error(session, "60012")

    def _login(self, arg: Mapping[str, Any]) -> None:
        values = [arg.get(name) for name in ("apiKey", "passphrase", "timestamp", "sign")]
        if not all(isinstance(v, str) and v for v in values):
            raise LoginRefused("60009")
        key, passphrase, timestamp, signature = (str(v) for v in values)
        if not _SECONDS.fullmatch(timestamp):
            raise LoginRefused("60004")
        sent_ms = int(float(timestamp) * 1000)
        if all(abs(sent_ms - now) > TIMESTAMP_WINDOW_MS for now in self._clocks_ms()):
            raise LoginRefused("60006")
        if not hmac.compare_digest(key.encode(), self._credentials.api_key.encode()):
            raise LoginRefused("60005")
        if not hmac.compare_digest(passphrase.encode(), self._credentials.passphrase.encode()):
            raise LoginRefused("60024")
        expected = sign(self._credentials.secret_key, (timestamp + VERIFY_PREHASH).encode())
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise LoginRefused("60007")

    def _subscribe(self, session: _Session, args: list[dict[str, Any]]) -> str:
        if not session.logged_in:
            return self._error(session, "60011")
        if any(a.get("channel") not in CHANNELS[session.path] for a in args):
            return self._error(session, "60018")
        for arg in args:
            session.subscriptions[arg["channel"]] = str(arg.get("instType") or "ANY")
            if arg.get("instId"):
                session.inst_ids[arg["channel"]] = str(arg["instId"])
        for arg in args[:-1]:
            session.outbox.put((0.0, _text({"event": "subscribe", "arg": arg, "connId": session.conn_id})))
        return _text({"event": "subscribe", "arg": args[-1], "connId": session.conn_id})

    def _error(self, session: _Session, code: str) -> str:
        return _text({"event": "error", "code": code, "msg": ERRORS[code], "connId": session.conn_id})


def _known_path(conn: ServerConnection, request: Request) -> Response | None:
    """Refuse the upgrade of any path but /ws/v5/private and /ws/v5/business."""
    return None if request.path in CHANNELS else conn.respond(404, "Not Found\n")


def _send_loop(session: _Session) -> None:
    while (item := session.outbox.get()) is not None:
        delay_s, text = item
        if delay_s:
            time.sleep(delay_s)
        try:
            session.conn.send(text)
        except ConnectionClosed:
            return


def _text(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"))
