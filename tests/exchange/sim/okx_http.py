"""A raw OKX v5 HTTP helper for the simulator's tests: signs exactly the bytes it sends, nothing more."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import requests

from exchange.sim import Simulator

TIMEOUT_S = 60.0  # a generous ceiling for one loopback request on a busy machine, never a budget


def sign(secret_key: str, prehash: str) -> str:
    digest = hmac.new(secret_key.encode("utf-8"), prehash.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


class RawOkx:
    """Sends requests to a simulator with full control over every header and byte."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.session = requests.Session()

    def headers(
        self,
        method: str,
        target: str,
        body: str = "",
        *,
        timestamp: str | None = None,
        secret_key: str | None = None,
    ) -> dict[str, str]:
        ts = timestamp if timestamp is not None else iso_ms(self.sim.now_ms())
        return {
            "OK-ACCESS-KEY": self.sim.api_key,
            "OK-ACCESS-SIGN": sign(secret_key or self.sim.secret_key, ts + method + target + body),
            "OK-ACCESS-TIMESTAMP": ts,
            "OK-ACCESS-PASSPHRASE": self.sim.passphrase,
            "Content-Type": "application/json",
            "x-simulated-trading": "1",
        }

    def send(self, method: str, target: str, body: str = "", **overrides: Any) -> requests.Response:
        """overrides: header values to replace (None removes the header), or timestamp/secret_key."""
        timestamp = overrides.pop("timestamp", None)
        secret_key = overrides.pop("secret_key", None)
        headers = self.headers(method, target, body, timestamp=timestamp, secret_key=secret_key)
        for name, value in overrides.items():
            headers.pop(name, None)
            if value is not None:
                headers[name] = value
        return self.session.request(
            method,
            self.sim.base_url + target,
            data=body.encode("utf-8") if body else None,
            headers=headers,
            timeout=TIMEOUT_S,
        )

    def get(self, target: str, **overrides: Any) -> Any:
        return self.send("GET", target, **overrides).json()

    def post(self, target: str, payload: Any, **overrides: Any) -> Any:
        return self.send("POST", target, json.dumps(payload, separators=(",", ":")), **overrides).json()

    def place(self, **fields: str) -> dict[str, Any]:
        """Place one order (isolated, ETH-USDT-SWAP unless given); returns the whole envelope."""
        order = {"instId": "ETH-USDT-SWAP", "tdMode": "isolated", **fields}
        result: dict[str, Any] = self.post("/api/v5/trade/order", order)
        return result

    def place_with_stop(self, attach: list[dict[str, str]], **fields: str) -> dict[str, Any]:
        """Place one order carrying `attachAlgoOrds` (isolated, ETH-USDT-SWAP unless given)."""
        order = {"instId": "ETH-USDT-SWAP", "tdMode": "isolated", **fields, "attachAlgoOrds": attach}
        result: dict[str, Any] = self.post("/api/v5/trade/order", order)
        return result

    def place_algo(self, **fields: Any) -> dict[str, Any]:
        """Place one algo (a long's market stop-loss on ETH-USDT-SWAP unless told); the whole envelope."""
        algo = {
            "instId": "ETH-USDT-SWAP",
            "tdMode": "isolated",
            "side": "sell",
            "posSide": "long",
            "ordType": "conditional",
            "slOrdPx": "-1",
            **fields,
        }
        result: dict[str, Any] = self.post("/api/v5/trade/order-algo", {k: v for k, v in algo.items() if v})
        return result

    def algo(self, algo_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.get(f"/api/v5/trade/order-algo?algoId={algo_id}")["data"][0]
        return result

    def order(self, ord_id: str, inst_id: str = "ETH-USDT-SWAP") -> dict[str, Any]:
        result: dict[str, Any] = self.get(f"/api/v5/trade/order?instId={inst_id}&ordId={ord_id}")["data"][0]
        return result

    def admin(self, method: str, route: str, payload: Any = None) -> requests.Response:
        return self.session.request(method, self.sim.base_url + route, json=payload, timeout=TIMEOUT_S)
