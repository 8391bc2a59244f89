"""The simulator served to a client in the same process: a requests session whose one adapter hands the
prepared request's exact bytes (method, path and query, headers, body) to the simulator's dispatch and
turns its answer into a requests.Response, with no socket in between. The client signs, sends and
parses as it does over HTTP; a replay uses it because the loopback is the bottleneck there.

Nothing leaves the process, so what `requests` adds for the network (cookies, netrc and proxies from
the environment, hooks, redirects) has nothing to act on: the session prepares a request from its
method, URL, headers and body alone and hands it straight to the adapter, which is most of a replay's
per-request cost saved.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from .server import Dispatch, Request

IN_PROCESS_URL = "http://okx-sim.in-process"
_NO_ENVIRONMENT: dict[str, Any] = {"proxies": {}, "stream": False, "verify": True, "cert": None}


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
        body = request.body or b""
        raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        answer = self._dispatch(Request(request.method or "GET", target, request.headers, raw, "127.0.0.1"))
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


class InProcessSession(requests.Session):
    """A session that reaches `dispatch` at IN_PROCESS_URL and nothing else."""

    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__()
        self.trust_env = False
        self._adapter = InProcessAdapter(dispatch)
        self.mount(IN_PROCESS_URL, self._adapter)

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        """The request as given (the client built its URL and body to be sent as they are), with the
        session's default headers under its own; refused as `requests` would for a bad header."""
        if not str(request.url).startswith(IN_PROCESS_URL + "/"):
            raise requests.exceptions.InvalidURL(f"only {IN_PROCESS_URL} is served in process")
        prepared = requests.PreparedRequest()
        prepared.method = str(request.method).upper()
        prepared.url = str(request.url)
        prepared.prepare_headers({**self.headers, **(request.headers or {})})
        prepared.body = request.data or None
        prepared.hooks = {"response": []}
        return prepared

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: MutableMapping[str, str] | None,
        stream: bool | None,
        verify: bool | str | None,
        cert: str | tuple[str, str] | None,
    ) -> Any:
        """No environment applies to a request that never leaves the process."""
        return dict(_NO_ENVIRONMENT)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Straight to the simulator: no hooks, cookies or redirects to follow."""
        return self._adapter.send(request)
