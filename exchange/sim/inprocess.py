"""The simulator served to a client in the same process: a requests transport adapter that hands the
prepared request's exact bytes (method, path and query, headers, body) to the simulator's dispatch and
turns its answer into a requests.Response, with no socket in between. The client signs, sends and
parses as it does over HTTP; a replay uses it because the loopback is the bottleneck there.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from .server import Dispatch, Request

IN_PROCESS_URL = "http://okx-sim.in-process"


class InProcessAdapter(BaseAdapter):
    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__()
        self._dispatch = dispatch

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        parts = urlsplit(request.url or "")
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = Message()
        for name, value in request.headers.items():
            headers[name] = value
        body = request.body or b""
        raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        answer = self._dispatch(Request(request.method or "GET", target, headers, raw, "127.0.0.1"))
        if answer.drop:
            raise requests.ConnectionError("the simulator dropped the connection", request=request)
        response = requests.Response()
        response.status_code = answer.status
        response._content = answer.body()
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        response.encoding = "utf-8"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to close: no connection is ever opened."""
