"""End-to-end harness: the real `okx-fsm` CLI against the simulator over loopback (manual clock)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from exchange.sim import Simulator
from fsm.cli.app import app

MACHINE = "eth_robust_twap_15m"
SYMBOL = "ETH-USDT-SWAP"
BAR_S = 900


@dataclass
class Harness:
    sim: Simulator
    state_dir: Path
    env: dict[str, str]

    def cli(self, *args: str, expect: int = 0) -> Any:
        result = CliRunner().invoke(app, list(args), env=self.env, catch_exceptions=False)
        assert result.exit_code == expect, f"okx-fsm {' '.join(args)} -> {result.exit_code}\n{result.output}"
        return result

    def tick(self, *, submit: bool = False) -> dict[str, Any]:
        args = ["tick", MACHINE, "--state-dir", str(self.state_dir), "--json"]
        doc: dict[str, Any] = json.loads(self.cli(*args, *(["--submit"] if submit else [])).stdout)
        return doc

    def status(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(
            self.cli("status", MACHINE, "--state-dir", str(self.state_dir), "--json").stdout
        )
        return doc

    @property
    def journal_path(self) -> Path:
        return self.state_dir / f"{MACHINE}_live.jsonl"

    def journal(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.journal_path.read_text().splitlines()]

    def kinds(self) -> list[str]:
        return [r["kind"] for r in self.journal()]

    def transitions(self) -> list[tuple[str, str]]:
        return [(r["data"]["from"], r["data"]["to"]) for r in self.journal() if r["kind"] == "transition"]

    def posts(self) -> int:
        return sum(n for k, n in self.sim.stats()["requests"].items() if k.startswith("POST "))

    def signal(self) -> None:
        """Make the next closed 15m candle a robust-TWAP signal: close above the median typical price."""
        px = Decimal(self.sim.state()["px"])
        self.sim.set_price(px + 10)
        self.sim.advance(BAR_S)

    def rung_prices(self, doc: dict[str, Any]) -> list[Decimal]:
        return [Decimal(r["px"]) for r in doc["rungs"]]

    def sim_orders(self) -> list[dict[str, Any]]:
        orders: list[dict[str, Any]] = self.sim.state()["orders"]
        return orders

    def assert_exchange_agrees(self) -> None:
        """No clOrdId submitted twice; every exchange fill of ours (entries and exits) is in the journal."""
        ours = [o for o in self.sim_orders() if o["clOrdId"].startswith("ertw")]
        cl_ids = [o["clOrdId"] for o in ours]
        assert len(cl_ids) == len(set(cl_ids)), f"a clOrdId was submitted twice: {cl_ids}"
        journaled = {r["data"]["tradeId"] for r in self.journal() if r["kind"] == "fill"}
        exchange_fills = {f["tradeId"] for f in self.sim.state()["fills"] if f["clOrdId"] in set(cl_ids)}
        assert exchange_fills <= journaled, f"fills missing from the journal: {exchange_fills - journaled}"

    def verify_log(self) -> None:
        self.cli("verify-log", MACHINE, "--state-dir", str(self.state_dir))


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with Simulator(seed=7, clock="manual", start_px="3000") as sim:
        env = {
            "OKX_API_KEY": sim.api_key,
            "OKX_API_SECRET": sim.secret_key,
            "OKX_API_PASSPHRASE": sim.passphrase,
            "OKX_BASE_URL": sim.base_url,
            "NO_COLOR": "1",
        }
        yield Harness(sim=sim, state_dir=tmp_path / "state", env=env)
