"""HTTP transport: raw requests in, JSON (or a dropped connection) out. No OKX knowledge here."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl


class Headers(Protocol):
    """A request's headers, looked up by name whatever its case (http.server's, or requests')."""

    def get(self, name: str) -> str | None: ...


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path and query exactly as received (what OKX signs)
    headers: Headers = field(repr=False)
    body: bytes = field(repr=False)
    client_ip: str

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> dict[str, str]:
        """Query parameters, first occurrence wins; empty values count as absent."""
        _, _, raw = self.target.partition("?")
        params: dict[str, str] = {}
        for name, value in parse_qsl(raw, keep_blank_values=True):
            if value and name not in params:
                params[name] = value
        return params

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass(frozen=True)
class Response:
    status: int
    payload: Any = None
    drop: bool = False  # close the connection without answering

    @classmethod
    def dropped(cls) -> Response:
        return cls(0, drop=True)

    def body(self) -> bytes:
        """The answer's bytes as they go on the wire."""
        return json.dumps(self.payload, separators=(",", ":")).encode("utf-8")


Dispatch = Callable[[Request], Response]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        request = Request(self.command, self.path, self.headers, body, self.client_address[0])
        response = self.server.dispatch(request)
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        data = response.body()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: request lines are not worth a terminal line each."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], dispatch: Dispatch, hung_up: Callable[[], None]) -> None:
        super().__init__(address, _Handler)
        self.dispatch = dispatch
        self.hung_up = hung_up

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-request or before its answer is written (a timeout, a killed
        process) is normal: counted, not printed. Anything else is a bug and keeps its traceback."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            self.hung_up()
            return
        super().handle_error(request, client_address)


class HttpServer:
    """A threaded HTTP server on its own thread; `start()` binds, `stop()` shuts down and joins.

    `hung_up` is called for each connection whose client left before it was answered.
    """

    def __init__(self, host: str, port: int, dispatch: Dispatch, hung_up: Callable[[], None]) -> None:
        self._server = _Server((host, port), dispatch, hung_up)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, name="okx-sim", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
