"""Finding and loading a ladder machine: its YAML and order machine, checked against what the engine
implements, with both runtimes built once and reused by every tick."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fsm.engine.actions import ACTION_NEEDS, ACTIONS
from fsm.engine.context import TickContext
from fsm.engine.guards import GUARD_NEEDS, GUARDS
from fsm.engine.observe import ORDER_TRIGGERS
from fsm.engine.roles import OrderRoles
from fsm.engine.runtime import MachineRuntime
from fsm.engine.state import LadderState
from fsm.engine.view import ExchangeView
from fsm.errors import EngineError, ExitStatus
from fsm.persist.store import Identity
from fsm.risk.entries import RiskSetup
from fsm.spec.ladder import LadderParams
from fsm.spec.limits import Limits, LimitsFile, effective_limits
from fsm.spec.loader import load_order_spec, load_spec
from fsm.spec.model import IgnoreSpec, MachineSpec, RowSpec, SpecError, Vocabulary

REPO_MACHINES = Path(__file__).resolve().parents[2] / "machines"
ORDER_MACHINE = "okx_order"
TICK = "tick"  # the one trigger the engine fires on a ladder
VOCABULARY = Vocabulary(guards=GUARD_NEEDS, actions=ACTION_NEEDS)


class MachineNotFound(EngineError):
    """MACHINE names neither a YAML file nor a machine under ./machines or the shipped machines/."""

    exit_code = ExitStatus.USAGE


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
    """A validated ladder machine, ready for any number of ticks."""

    spec: MachineSpec
    order_spec: MachineSpec
    params: LadderParams
    state_path: Path
    runtime: MachineRuntime  # the ladder, bound to the engine's guards and actions
    order_machine: MachineRuntime
    orders: OrderRoles
    limits: Limits | None = None  # the account's limits file tightened by the machine's own

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def identity(self) -> Identity:
        p = self.params
        return Identity(strategy_id=p.strategy_id, symbol=p.symbol, bar=p.bar, spec_hash=self.spec.spec_hash)

    def fresh_state(self) -> LadderState:
        """The state of a machine that has never ticked: its initial state, nothing else."""
        return LadderState(state=self.spec.initial)

    def context(
        self, state: LadderState, view: ExchangeView, *, armed: bool, adopt: bool = False
    ) -> TickContext:
        return TickContext(
            ladder=self.spec,
            orders=self.orders,
            order_machine=self.order_machine,
            params=self.params,
            state=state,
            view=view,
            armed=armed,
            adopt=adopt,
            risk=None if self.limits is None else RiskSetup(self.limits, self.state_path),
        )


def load_ladder_spec(path: Path) -> MachineSpec:
    """A ladder YAML checked against the guards and actions this engine implements."""
    spec = load_spec(path, VOCABULARY, kind="ladder")
    for row in spec.rows:
        if row.trigger != TICK:
            where, problem = row.where.split(" (")[0], f"{row.trigger!r}: the engine fires only {TICK!r}"
            raise SpecError(spec.rows_file, where, row.line, "trigger", problem)
    return spec


def load_order_machine(path: Path) -> MachineSpec:
    """An order YAML whose triggers are exactly those the engine fires on OKX evidence."""
    spec = load_order_spec(path)
    declared: list[RowSpec | IgnoreSpec] = [*spec.rows, *spec.ignores]
    for rule in declared:
        if rule.trigger not in ORDER_TRIGGERS:
            where = rule.where.split(" (")[0]
            problem = f"{rule.trigger!r} is never fired by the engine; it fires {', '.join(ORDER_TRIGGERS)}"
            raise SpecError(spec.path, where, rule.line, "trigger", problem)
    missing = [t for t in ORDER_TRIGGERS if t not in spec.triggers]
    if missing:
        problem = f"declares no row or ignore for {', '.join(missing)}: the engine fires them on OKX evidence"
        raise SpecError(spec.path, "transitions", None, "trigger", problem)
    return spec


def load_machine(name_or_path: str, *, state_dir: Path, limits: LimitsFile | None = None) -> LoadedMachine:
    """A machine ready to tick, under the account's `limits` (tightened by its own `limits` param)."""
    path = resolve_machine_path(name_or_path)
    spec = load_ladder_spec(path)
    beside = path.parent / f"{ORDER_MACHINE}.yaml"
    order_spec = load_order_machine(beside if beside.is_file() else REPO_MACHINES / f"{ORDER_MACHINE}.yaml")
    params = LadderParams.from_mapping(spec.params, base_dir=Path.cwd())
    return LoadedMachine(
        spec=spec,
        order_spec=order_spec,
        params=params,
        state_path=state_dir / params.state_file,
        runtime=MachineRuntime(spec, GUARDS, ACTIONS),
        order_machine=MachineRuntime(order_spec),
        orders=OrderRoles.of(order_spec),
        limits=effective_limits(spec, limits),
    )
