"""The HTTP layer: a client that hangs up is normal (counted, never a traceback); a bug still shows."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from exchange.sim import Simulator
from exchange.sim.server import Dispatch, HttpServer, Request, Response
from tests.exchange.sim.okx_http import RawOkx

CEILING_S = 60.0  # generous: only a broken simulator ever waits this long


@contextmanager
def serving(dispatch: Dispatch) -> Iterator[tuple[str, threading.Semaphore]]:
    """An HttpServer on a free loopback port; the semaphore is released once per hung-up client."""
    hung_up = threading.Semaphore(0)
    server = HttpServer("127.0.0.1", 0, dispatch, hung_up.release)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}", hung_up
    finally:
        server.stop()


def _raises(exc: BaseException) -> Dispatch:
    def dispatch(request: Request) -> Response:
        raise exc

    return dispatch


@pytest.mark.parametrize("exc", [BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset")])
def test_an_answer_the_client_never_takes_is_counted_and_not_printed(
    exc: BaseException, capfd: pytest.CaptureFixture[str]
) -> None:
    """What writing an answer to a client that left raises, as the handler sees it."""
    with serving(_raises(exc)) as (url, hung_up):
        with pytest.raises(requests.ConnectionError):  # closed without an answer, after handle_error
            requests.get(url + "/api/v5/public/time", timeout=CEILING_S)
        assert hung_up.acquire(timeout=CEILING_S)
    assert capfd.readouterr().err == ""


def test_any_other_failure_keeps_its_traceback(capfd: pytest.CaptureFixture[str]) -> None:
    with serving(_raises(RuntimeError("a simulator bug"))) as (url, hung_up):
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/api/v5/public/time", timeout=CEILING_S)
        assert not hung_up.acquire(blocking=False)
    err = capfd.readouterr().err
    assert "Traceback" in err and "RuntimeError: a simulator bug" in err


def test_a_client_that_resets_mid_request_is_counted_and_the_simulator_serves_on(
    sim: Simulator, okx: RawOkx, capfd: pytest.CaptureFixture[str]
) -> None:
    host, port = sim.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as conn:
        conn.sendall(b"POST /api/v5/trade/order HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
    give_up = time.monotonic() + CEILING_S
    while sim.stats()["hung_up"] == 0:
        assert time.monotonic() < give_up, "the reset connection was never counted"
        time.sleep(0.01)
    assert sim.stats()["hung_up"] == 1
    assert okx.get("/api/v5/public/time")["code"] == "0"
    assert capfd.readouterr().err == ""
