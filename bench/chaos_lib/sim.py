"""The simulator as a subprocess (`okx-fsm sim --clock manual`) and its unsigned admin routes (loopback)."""

from __future__ import annotations

import ipaddress
import json
import queue
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[2]
MACHINE = "eth_robust_twap_15m"
SYMBOL = "ETH-USDT-SWAP"
PREFIX = "ertw"  # the machine's client_order_id_prefix (machines/eth_robust_twap_15m.yaml)
HAND_PREFIX = "hand"  # clOrdIds of the hand trades the driver places through /sim/user-order


def okx_fsm_command() -> list[str]:
    """The installed `okx-fsm` console script next to this interpreter, else the same entry point via -c."""
    script = Path(sys.executable).with_name("okx-fsm")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from fsm.cli.app import main; main()"]


class AdminError(Exception):
    """An admin route answered with an HTTP error (400 bad body, 404 no such order)."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status


def _require_loopback(base_url: str) -> None:
    host = urlparse(base_url).hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise RuntimeError(f"the simulator must listen on loopback, not {host!r}")


class SimProcess:
    """`okx-fsm sim --clock manual --seed S --port 0` (or a realtime clock at a speed) in a subprocess,
    stopped on exit.

    The JSON line it prints gives the base URL and the credentials; `env` carries them for the CLI.
    `start_timeout_s` is a generous ceiling for that line: a starved machine may take long to start it.
    """

    def __init__(self, seed: int, *, start_timeout_s: float = 120.0, speed: float | None = None) -> None:
        self.seed = seed
        realtime = ["--clock", "realtime", "--speed", str(speed)]
        self._clock = ["--clock", "manual"] if speed is None else realtime
        self._start_timeout_s = start_timeout_s
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str] = queue.Queue()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.base_url = ""
        self.env: dict[str, str] = {}

    def __enter__(self) -> SimProcess:
        cmd = [*okx_fsm_command(), "sim", *self._clock, "--seed", str(self.seed), "--port", "0"]
        self._proc = subprocess.Popen(
            cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        threading.Thread(target=self._drain, daemon=True).start()
        try:
            line = self._lines.get(timeout=self._start_timeout_s)
            info = json.loads(line)
            self.base_url = str(info["base_url"]).rstrip("/")
            _require_loopback(self.base_url)
        except BaseException:
            self._stop()
            raise
        self.env = {
            "OKX_BASE_URL": self.base_url,
            "OKX_API_KEY": str(info["api_key"]),
            "OKX_API_SECRET": str(info["secret_key"]),
            "OKX_API_PASSPHRASE": str(info["passphrase"]),
            "OKX_WS_URL": str(info["ws_url"]),
            "NO_COLOR": "1",
            "NO_PROXY": "127.0.0.1,localhost",
        }
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()

    def _drain(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self._lines.put(line)

    def _stop(self) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    # -- admin routes ---------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(request, timeout=60) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise AdminError(exc.code, exc.read().decode(errors="replace")) from None

    def state(self) -> dict[str, Any]:
        doc: dict[str, Any] = self._call("GET", "/sim/state")
        return doc

    def stats(self) -> dict[str, Any]:
        doc: dict[str, Any] = self._call("GET", "/sim/stats")
        return doc

    def set_price(self, px: str | None = None, *, mark: str | None = None) -> dict[str, Any]:
        """Trade the last price to `px`; put the mark price at `mark` (it keeps that distance from the last
        price as it moves: set it equal to the last price to close the gap again)."""
        body = {k: v for k, v in (("px", px), ("mark", mark)) if v is not None}
        doc: dict[str, Any] = self._call("POST", "/sim/price", body)
        return doc

    def advance(self, seconds: int) -> dict[str, Any]:
        doc: dict[str, Any] = self._call("POST", "/sim/advance", {"seconds": seconds})
        return doc

    def set_faults(self, body: dict[str, Any]) -> Any:
        return self._call("POST", "/sim/faults", body)

    def set_ws_faults(self, body: dict[str, Any]) -> Any:
        """The private channel's faults: {"drop": true}, {"lose": n} pushes, {"delay_ms": n}."""
        return self._call("POST", "/sim/ws", body)

    def user_cancel(self, ord_id: str) -> Any:
        return self._call("POST", "/sim/user-cancel", {"ordId": ord_id})

    def user_cancel_algo(self, algo_id: str) -> Any:
        return self._call("POST", "/sim/user-cancel-algo", {"algoId": algo_id})

    def user_order(self, side: str, sz: str, client_order_id: str) -> Any:
        body = {"side": side, "sz": sz, "instId": SYMBOL, "ordType": "market", "posSide": "long"}
        return self._call("POST", "/sim/user-order", {**body, "clOrdId": client_order_id})
