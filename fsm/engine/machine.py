"""Finding and loading a ladder machine: its YAML, order machine and stop machine, checked against what
the engine implements, with the runtimes built once and reused by every tick."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fsm.engine.actions import ACTION_NEEDS, ACTIONS
from fsm.engine.context import TickContext
from fsm.engine.guards import GUARD_NEEDS, GUARDS
from fsm.engine.observe import ORDER_TRIGGERS
from fsm.engine.observe_stop import STOP_TRIGGERS
from fsm.engine.roles import OrderRoles, StopRoles
from fsm.engine.runtime import MachineRuntime
from fsm.engine.state import LadderState
from fsm.engine.view import ExchangeView
from fsm.errors import EngineError, ExitStatus
from fsm.persist.store import Identity
from fsm.risk.entries import RiskSetup
from fsm.risk.trading import ACTIVE, Trading, TradingState
from fsm.spec.ladder import LadderParams
from fsm.spec.limits import Limits, LimitsFile, effective_limits
from fsm.spec.loader import load_order_spec, load_spec
from fsm.spec.model import IgnoreSpec, Kind, MachineSpec, RowSpec, SpecError, Vocabulary

REPO_MACHINES = Path(__file__).resolve().parents[2] / "machines"
ORDER_MACHINE = "okx_order"
STOP_MACHINE = "okx_stop"
PLACE_STOP = "place_stop"  # the action that places the stop: a ladder declaring `stop` needs a row with it
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
    stop_spec: MachineSpec
    stop_machine: MachineRuntime
    stops: StopRoles
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
        self,
        state: LadderState,
        view: ExchangeView,
        *,
        armed: bool,
        adopt: bool = False,
        trading: Trading = ACTIVE,
    ) -> TickContext:
        """The tick's context; gated when limits are declared or the account is not ACTIVE."""
        gated = self.limits is not None or trading.state is not TradingState.ACTIVE
        return TickContext(
            ladder=self.spec,
            orders=self.orders,
            order_machine=self.order_machine,
            stops=self.stops,
            stop_machine=self.stop_machine,
            params=self.params,
            state=state,
            view=view,
            armed=armed,
            adopt=adopt,
            risk=RiskSetup(self.limits or Limits(), self.state_path, trading) if gated else None,
        )


def load_ladder_spec(path: Path, overrides: Sequence[str] = ()) -> MachineSpec:
    """A ladder YAML checked against the guards and actions this engine implements (its params replaced
    by `overrides`, PARAM=VALUE, for one run)."""
    spec = load_spec(path, VOCABULARY, kind="ladder", overrides=overrides)
    for row in spec.rows:
        if row.trigger != TICK:
            where, problem = row.where.split(" (")[0], f"{row.trigger!r}: the engine fires only {TICK!r}"
            raise SpecError(spec.rows_file, where, row.line, "trigger", problem)
    return spec


TRIGGERS: dict[Kind, tuple[str, ...]] = {"order": ORDER_TRIGGERS, "stop": STOP_TRIGGERS}


def load_order_machine(path: Path, kind: Kind = "order") -> MachineSpec:
    """An order (or stop) YAML whose triggers are exactly those the engine fires on OKX evidence."""
    spec = load_order_spec(path, kind)
    fired = TRIGGERS[kind]
    declared: list[RowSpec | IgnoreSpec] = [*spec.rows, *spec.ignores]
    for rule in declared:
        if rule.trigger not in fired:
            where = rule.where.split(" (")[0]
            problem = f"{rule.trigger!r} is never fired by the engine; it fires {', '.join(fired)}"
            raise SpecError(spec.path, where, rule.line, "trigger", problem)
    missing = [t for t in fired if t not in spec.triggers]
    if missing:
        problem = f"declares no row or ignore for {', '.join(missing)}: the engine fires them on OKX evidence"
        raise SpecError(spec.path, "transitions", None, "trigger", problem)
    return spec


def load_any_spec(path: Path) -> MachineSpec:
    """A ladder, order or stop YAML, checked as the engine would run it (for `diagram`)."""
    kind = load_spec(path, VOCABULARY).kind
    return load_ladder_spec(path) if kind == "ladder" else load_order_machine(path, kind)


def _beside(ladder_path: Path, name: str) -> Path:
    """The order or stop machine next to the ladder's file, else the shipped one."""
    beside = ladder_path.parent / f"{name}.yaml"
    return beside if beside.is_file() else REPO_MACHINES / f"{name}.yaml"


def _check_stop_rows(spec: MachineSpec, params: LadderParams) -> None:
    """A ladder that declares a stop must have a row that places it: a declared stop never placed would
    leave the position unprotected while `status` claims otherwise."""
    if params.stop is not None and not any(PLACE_STOP in row.actions for row in spec.rows):
        problem = f"a stop is declared but no row runs {PLACE_STOP}: the position would be held unprotected"
        raise SpecError(spec.path, "params", None, "stop", problem)


def load_machine(
    name_or_path: str, *, state_dir: Path, limits: LimitsFile | None = None, overrides: Sequence[str] = ()
) -> LoadedMachine:
    """A machine ready to tick, under the account's `limits` (tightened by its own `limits` param), its
    params replaced by `overrides` (PARAM=VALUE) for this run."""
    path = resolve_machine_path(name_or_path)
    spec = load_ladder_spec(path, overrides)
    order_spec = load_order_machine(_beside(path, ORDER_MACHINE))
    stop_spec = load_order_machine(_beside(path, STOP_MACHINE), "stop")
    params = LadderParams.from_mapping(spec.params, base_dir=Path.cwd())
    _check_stop_rows(spec, params)
    return LoadedMachine(
        spec=spec,
        order_spec=order_spec,
        params=params,
        state_path=state_dir / params.state_file,
        runtime=MachineRuntime(spec, GUARDS, ACTIONS),
        order_machine=MachineRuntime(order_spec),
        orders=OrderRoles.of(order_spec),
        stop_spec=stop_spec,
        stop_machine=MachineRuntime(stop_spec),
        stops=StopRoles.of(stop_spec),
        limits=effective_limits(spec, limits),
    )
