"""Finding and loading a ladder machine: its YAML, the order machine, typed params, state paths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fsm.engine.actions import ACTIONS
from fsm.engine.guards import GUARDS
from fsm.errors import EngineError
from fsm.persist.store import Identity
from fsm.spec.ladder import LadderParams
from fsm.spec.loader import MachineSpec, OrderMachineSpec, load_order_spec, load_spec

REPO_MACHINES = Path(__file__).resolve().parents[2] / "machines"
ORDER_MACHINE = "okx_order"


class MachineNotFound(EngineError):
    """MACHINE names neither a YAML file nor a machine under ./machines or the shipped machines/."""

    exit_code = 2


def resolve_machine_path(name_or_path: str) -> Path:
    """A path to a YAML file, or a machine name looked up in ./machines then the shipped machines/."""
    direct = Path(name_or_path)
    if direct.suffix in (".yaml", ".yml") or direct.is_file():
        if not direct.is_file():
            raise MachineNotFound(f"machine file {direct} does not exist")
        return direct
    for folder in (Path.cwd() / "machines", REPO_MACHINES):
        candidate = folder / f"{name_or_path}.yaml"
        if candidate.is_file():
            return candidate
    raise MachineNotFound(
        f"no machine named {name_or_path!r}: looked for ./machines/{name_or_path}.yaml and "
        f"{REPO_MACHINES}/{name_or_path}.yaml; pass a path to a YAML file instead"
    )


@dataclass(frozen=True)
class LoadedMachine:
    """A validated ladder machine, ready for a tick."""

    spec: MachineSpec
    order_spec: OrderMachineSpec
    params: LadderParams
    state_path: Path

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def identity(self) -> Identity:
        p = self.params
        return Identity(strategy_id=p.strategy_id, symbol=p.symbol, bar=p.bar, spec_hash=self.spec.spec_hash)


def load_ladder_spec(path: Path) -> MachineSpec:
    return load_spec(path, guards=GUARDS.keys(), actions=ACTIONS.keys())


def load_machine(name_or_path: str, *, state_dir: Path) -> LoadedMachine:
    path = resolve_machine_path(name_or_path)
    spec = load_ladder_spec(path)
    if spec.kind != "ladder":
        raise MachineNotFound(f"{path} is a {spec.kind} machine; ticks run ladder machines")
    beside = path.parent / f"{ORDER_MACHINE}.yaml"
    order_spec = load_order_spec(beside if beside.is_file() else REPO_MACHINES / f"{ORDER_MACHINE}.yaml")
    params = LadderParams.from_mapping(spec.params, base_dir=Path.cwd())
    return LoadedMachine(
        spec=spec, order_spec=order_spec, params=params, state_path=state_dir / params.state_file
    )
