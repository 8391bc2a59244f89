"""`okx-fsm sim` / `python -m exchange.sim`: the flags checked, then a simulator served until a signal."""

from __future__ import annotations

import ipaddress
import json
import math
import os
import signal
import sys
import threading
from dataclasses import dataclass
from decimal import Decimal
from types import FrameType

from .decimals import fmt, to_decimal
from .instruments import INSTRUMENTS, PRIMARY_INST_ID
from .simulator import Simulator

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
            px = to_decimal(start_px, "--start-px")
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
            "ws_url": sim.ws_url,
            "business_ws_url": sim.business_ws_url,
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
