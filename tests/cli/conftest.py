"""The driven-CLI suite's harness: the real `okx-fsm` commands against the simulator over loopback
(manual clock), with helpers that read the journal and judge from the simulator's own records.

Every simulator here carries recognisable credentials, so any test can also check that they never
reach an output, the state file or the journal. The tests marked `e2e` face OKX's rate limits, as the
engine does; the others, many short-lived clients in a row, a venue without them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from exchange import OkxClient
from exchange.sim import Simulator
from fsm.cli.app import app

MACHINE = "eth_robust_twap_15m"
SYMBOL = "ETH-USDT-SWAP"
BAR_S = 900
API_KEY = "APIKEYkey789-0000-0000-000000000000"
SECRET = "SECRETsecret123"
PASSPHRASE = "PASSphrase456"
CEILING_S = 60.0  # how long a condition may take on a busy machine; only a broken engine waits this long


@dataclass
class Cli:
    sim: Simulator
    state_dir: Path
    env: dict[str, str]
    outputs: list[str] = field(default_factory=list)
    name: str = MACHINE  # the machine the commands name: the shipped one, or a path to another YAML
    prefix: str = "ertw"  # its client_order_id_prefix

    def run(self, *args: str, expect: int = 0, input: str | None = None) -> Any:
        result = CliRunner().invoke(app, list(args), env=self.env, input=input, catch_exceptions=False)
        self.outputs.append(result.output)
        assert result.exit_code == expect, f"okx-fsm {' '.join(args)} -> {result.exit_code}\n{result.output}"
        return result

    def machine(self, command: str, *args: str, expect: int = 0, input: str | None = None) -> Any:
        args = (command, self.name, "--state-dir", str(self.state_dir), *args)
        return self.run(*args, expect=expect, input=input)

    def json(self, command: str, *args: str) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.machine(command, *args, "--json").stdout)
        return doc

    def tick(self, *, submit: bool = False) -> dict[str, Any]:
        return self.json("tick", *(["--submit"] if submit else []))

    def status(self) -> dict[str, Any]:
        return self.json("status")

    def verify_log(self) -> None:
        self.machine("verify-log")

    def posts(self) -> int:
        return sum(n for k, n in self.sim.stats()["requests"].items() if k.startswith("POST "))

    def signal(self) -> None:
        """Close the next 15m candle above the median typical price: a robust-TWAP signal."""
        self.sim.set_price(Decimal(self.sim.state()["px"]) + 10)
        self.sim.advance(BAR_S)

    @property
    def state_path(self) -> Path:
        return self.state_dir / f"{Path(self.name).stem}_live.json"

    @property
    def journal_path(self) -> Path:
        return self.state_path.with_suffix(".jsonl")

    def journal(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.journal_path.read_text().splitlines()]

    def kinds(self) -> list[str]:
        return [r["kind"] for r in self.journal()]

    def transitions(self) -> list[tuple[str, str]]:
        return [(r["data"]["from"], r["data"]["to"]) for r in self.journal() if r["kind"] == "transition"]

    def rung_prices(self, doc: dict[str, Any]) -> list[Decimal]:
        return [Decimal(r["px"]) for r in doc["rungs"]]

    def sim_orders(self) -> list[dict[str, Any]]:
        orders: list[dict[str, Any]] = self.sim.state()["orders"]
        return orders

    def assert_exchange_agrees(self) -> None:
        """No clOrdId submitted twice; every exchange fill of ours (entries and exits) is in the journal."""
        ours = [o for o in self.sim_orders() if o["clOrdId"].startswith(self.prefix)]
        cl_ids = [o["clOrdId"] for o in ours]
        assert len(cl_ids) == len(set(cl_ids)), f"a clOrdId was submitted twice: {cl_ids}"
        journaled = {r["data"]["tradeId"] for r in self.journal() if r["kind"] == "fill"}
        exchange_fills = {f["tradeId"] for f in self.sim.state()["fills"] if f["clOrdId"] in set(cl_ids)}
        assert exchange_fills <= journaled, f"fills missing from the journal: {exchange_fills - journaled}"

    def trader(self) -> OkxClient:
        """An armed client of its own, for orders placed by hand ("in the OKX app")."""
        return OkxClient(API_KEY, SECRET, PASSPHRASE, base_url=self.sim.base_url, armed=True)

    # --- scenarios ------------------------------------------------------------------------------

    def entries_open(self) -> dict[str, Any]:
        self.signal()
        doc = self.tick(submit=True)
        assert doc["state"] == "entries_open", doc["state"]
        return doc

    def partially_filled(self) -> dict[str, Any]:
        doc = self.entries_open()
        self.sim.set_price(str(Decimal(doc["rungs"][0]["px"]) - 1))
        self.sim.advance(5)
        doc = self.tick(submit=True)
        assert doc["state"] == "partially_filled", doc["state"]
        return doc

    def filled(self) -> dict[str, Any]:
        doc = self.partially_filled()
        self.sim.set_price(str(Decimal(doc["rungs"][2]["px"]) - 1))
        for _ in range(6):
            self.sim.advance(60)
        doc = self.tick(submit=True)
        assert doc["state"] == "filled", doc["state"]
        return doc


@contextmanager
def driven(state_dir: Path, *, rate_limits: bool, clock: str = "manual") -> Iterator[Cli]:
    """A simulator (seed 7, ETH at 3000, a manual clock unless told) and the CLI pointed at it, state in
    `state_dir`."""
    with Simulator(
        seed=7,
        clock=clock,
        start_px="3000",
        api_key=API_KEY,
        secret_key=SECRET,
        passphrase=PASSPHRASE,
        rate_limits=rate_limits,
    ) as sim:
        env = {
            "OKX_API_KEY": API_KEY,
            "OKX_API_SECRET": SECRET,
            "OKX_API_PASSPHRASE": PASSPHRASE,
            "OKX_BASE_URL": sim.base_url,
            "NO_COLOR": "1",
        }
        yield Cli(sim=sim, state_dir=state_dir, env=env)


@pytest.fixture
def rate_limits(request: pytest.FixtureRequest) -> bool:
    """OKX's rate limits for the e2e tests, which judge the engine on a venue as strict as OKX."""
    return request.node.get_closest_marker("e2e") is not None


@pytest.fixture
def cli(tmp_path: Path, rate_limits: bool) -> Iterator[Cli]:
    with driven(tmp_path / "state", rate_limits=rate_limits) as harness:
        yield harness
