"""Machine YAML -> a validated, immutable `MachineSpec`, refused before anything runs.

The loader reads PyYAML's node tree (not plain dicts) so that every refusal names the file, the row or
state with its line, and the field. Row order in the file is priority: for one trigger and source state
the first row whose guards pass wins, so a row that an earlier row always beats is refused.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from fsm.errors import EXIT_USAGE, EngineError

Kind = Literal["ladder", "order"]
Classification = Literal["transition", "ignore", "anomaly"]

LADDER_GUARDS: frozenset[str] = frozenset(
    {
        "signal_ready",
        "entry_expired",
        "submit_armed",
        "any_fill",
        "submit_in_doubt",
        "all_rungs_terminal",
        "cancel_retry_due",
        "position_flat",
        "exit_due",
        "close_requested",
        "close_sent",
        "closed_in_earlier_tick",
        "strays_on_book",
        "stray_cancel_due",
        "paused",
        "flatten_requested",
    }
)
LADDER_ACTIONS: frozenset[str] = frozenset(
    {
        "render_intent",
        "submit_entries",
        "cancel_working_rungs",
        "close_position",
        "archive_cycle",
        "reset_cycle",
    }
)
BARS = ("1m", "3m", "5m", "15m", "30m", "1H", "4H")

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_MACHINE_NAME = re.compile(r"[a-z0-9_]+")
_CL_ORD_ID_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9]{0,7}")
_TOP_KEYS = ("machine", "kind", "description", "initial", "states", "params", "transitions", "ignore")
_STATE_KEYS = ("name", "description", "terminal")
_ROW_KEYS = ("trigger", "source", "dest", "guards", "unless", "actions", "description")
_IGNORE_KEYS = ("trigger", "source", "description")
_SIGNAL_KEYS = ("provider", "lookback_bars", "entry_filter", "path")
_YAML_TAG = "tag:yaml.org,2002:"


class SpecError(EngineError):
    """A refused machine file; the message names the file, the row or state (and its line), the field."""

    exit_code = EXIT_USAGE

    def __init__(self, path: Path, where: str, line: int | None, field: str, problem: str) -> None:
        self.path = path
        self.where = where
        self.line = line
        self.field = field
        self.problem = problem
        at_line = f"line {line}" if line else ""
        place = f"{where} ({at_line})" if where and at_line else where or at_line
        super().__init__(": ".join(part for part in (str(path), place, field, problem) if part))


@dataclass(frozen=True)
class StateSpec:
    index: int
    line: int
    name: str
    description: str
    terminal: bool


@dataclass(frozen=True)
class RowSpec:
    """One transition row; `index` is its position in `transitions`, which is its priority."""

    index: int
    line: int
    trigger: str
    sources: tuple[str, ...]
    dest: str
    guards: tuple[str, ...]
    unless: tuple[str, ...]
    actions: tuple[str, ...]
    description: str

    @property
    def where(self) -> str:
        return f"transitions[{self.index}] (line {self.line})"

    @property
    def label(self) -> str:
        """`trigger [guard, !unless] / action`: how diagrams and previews show the row."""
        conditions = [*self.guards, *(f"!{name}" for name in self.unless)]
        text = self.trigger + (f" [{', '.join(conditions)}]" if conditions else "")
        return text + (f" / {', '.join(self.actions)}" if self.actions else "")


@dataclass(frozen=True)
class IgnoreSpec:
    """(trigger, source) pairs declared no-ops (order machines only)."""

    index: int
    line: int
    trigger: str
    sources: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class MachineSpec:
    name: str
    kind: Kind
    description: str
    initial: str
    states: tuple[StateSpec, ...]
    rows: tuple[RowSpec, ...]
    ignores: tuple[IgnoreSpec, ...]
    params: Mapping[str, Any]  # ladder: checked; decimals are Decimal, lists tuples; order: empty
    path: Path
    spec_hash: str  # sha256 hex of the file's bytes

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(state.name for state in self.states)

    @property
    def triggers(self) -> tuple[str, ...]:
        """Every trigger a row or an ignore names, in order of first appearance."""
        names = [row.trigger for row in self.rows] + [ignore.trigger for ignore in self.ignores]
        return tuple(dict.fromkeys(names))

    def state(self, name: str) -> StateSpec:
        for state in self.states:
            if state.name == name:
                return state
        raise KeyError(f"machine {self.name} has no state {name!r}")

    def rows_from(self, state: str, trigger: str) -> tuple[RowSpec, ...]:
        """The candidate rows for `trigger` in `state`, in priority order."""
        return tuple(row for row in self.rows if row.trigger == trigger and state in row.sources)


@dataclass(frozen=True)
class OrderMachineSpec(MachineSpec):
    """An order machine: rows have no guards, so a (state, trigger) pair has at most one row."""

    def classify(self, state: str, trigger: str) -> Classification:
        """A declared transition, a declared no-op, or an anomaly (journal it; the state stays)."""
        self._check_known(state, trigger)
        if self.rows_from(state, trigger):
            return "transition"
        if any(ignore.trigger == trigger and state in ignore.sources for ignore in self.ignores):
            return "ignore"
        return "anomaly"

    def dest(self, state: str, trigger: str) -> str:
        """The state after `trigger`: the row's dest; unchanged for an ignore or an anomaly."""
        self._check_known(state, trigger)
        rows = self.rows_from(state, trigger)
        return rows[0].dest if rows else state

    def _check_known(self, state: str, trigger: str) -> None:
        if state not in self.state_names:
            raise ValueError(f"machine {self.name} has no state {state!r}")
        if trigger not in self.triggers:
            raise ValueError(f"machine {self.name} has no trigger {trigger!r}")


def load_spec(path: Path, *, guards: Collection[str], actions: Collection[str]) -> MachineSpec:
    """Read and check one machine file; `guards` and `actions` are the names the engine implements."""
    return _load(Path(path), frozenset(guards), frozenset(actions), None)


def load_order_spec(path: Path) -> OrderMachineSpec:
    """Read an order machine (kind `order`: no guards, no actions)."""
    return cast(OrderMachineSpec, _load(Path(path), frozenset(), frozenset(), "order"))


def _load(path: Path, guards: frozenset[str], actions: frozenset[str], kind: Kind | None) -> MachineSpec:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(path, "", None, "", f"cannot read the file ({exc.strerror})") from None
    try:
        loader = yaml.SafeLoader(data.decode("utf-8"))
        root = loader.get_single_node()
    except UnicodeDecodeError:
        raise SpecError(path, "", None, "", "not UTF-8 text") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise SpecError(path, "", line, "", f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise SpecError(path, "", None, "", f"not valid YAML: {exc}") from None
    if not isinstance(root, MappingNode):
        raise SpecError(path, "", 1, "", "must be a YAML mapping (machine, kind, states, transitions ...)")
    checker = _Checker(path, guards, actions, loader)
    return checker.machine(root, hashlib.sha256(data).hexdigest(), kind)


@dataclass(frozen=True)
class _At:
    """Where a problem is: a row or state (`transitions[3]`) or a section, and a line."""

    where: str
    line: int | None


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


class _Fields(dict[str, Node]):
    """A YAML mapping's values by key, remembering the line of each key."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[str, int] = {}

    def at(self, key: str, where: str = "") -> _At:
        return _At(where, self.lines.get(key))


def _tag(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "mapping"
    if isinstance(node, SequenceNode):
        return "list"
    tag = str(node.tag)
    return tag.removeprefix(_YAML_TAG)


def _type_name(node: Node) -> str:
    names = {"str": "a string", "bool": "a boolean", "int": "an integer", "float": "a float", "null": "empty"}
    tag = _tag(node)
    return names.get(tag, f"a {tag}")


def _not_a_string(node: Node) -> str:
    if _tag(node) == "bool" and isinstance(node, ScalarNode) and node.style is None:
        return f"{node.value!r} is read as a YAML 1.1 boolean, not a name; quote it: '{node.value}'"
    return f"must be a string, got {_type_name(node)}"


def _did_you_mean(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(sorted(known)) or 'none'}"


def _shared(a: Sequence[str], b: Sequence[str]) -> list[str]:
    return [name for name in a if name in b]


_Read = Callable[[Node, _At, str], Any]


class _Checker:
    """The checks over one file's node tree; the first problem found is raised."""

    def __init__(
        self, path: Path, guards: frozenset[str], actions: frozenset[str], loader: yaml.SafeLoader
    ) -> None:
        self.path = path
        self.guards = guards
        self.actions = actions
        self.loader = loader

    def fail(self, at: _At, field: str, problem: str) -> SpecError:
        return SpecError(self.path, at.where, at.line, field, problem)

    # ---- typed reads of nodes -------------------------------------------------------------------

    def mapping(self, node: Node, at: _At, field: str, allowed: Sequence[str]) -> _Fields:
        """A mapping's values by key; refuses non-string, duplicate and unknown keys."""
        if not isinstance(node, MappingNode):
            raise self.fail(at, field, f"must be a mapping, got {_type_name(node)}")
        out = _Fields()
        for key, value in node.value:
            key_at = _At(at.where, _line(key))
            if _tag(key) != "str":
                raise self.fail(key_at, field, f"key {_not_a_string(key)}")
            name = f"{field}.{key.value}" if field else str(key.value)
            if key.value in out:
                raise self.fail(key_at, name, f"duplicate key (first on line {out.lines[key.value]})")
            if key.value not in allowed:
                raise self.fail(key_at, name, f"unknown key; allowed: {', '.join(allowed)}")
            out[key.value] = value
            out.lines[key.value] = _line(key)
        return out

    def required(self, fields: Mapping[str, Node], key: str, at: _At) -> Node:
        if key not in fields or _tag(fields[key]) == "null":
            raise self.fail(at, key, "missing")
        return fields[key]

    def text(self, node: Node, at: _At, field: str) -> str:
        if _tag(node) != "str":
            raise self.fail(at, field, _not_a_string(node))
        return str(node.value)

    def optional_text(self, node: Node | None, at: _At, field: str) -> str:
        return "" if node is None or _tag(node) == "null" else self.text(node, at, field)

    def nonempty_text(self, node: Node, at: _At, field: str) -> str:
        value = self.text(node, at, field)
        if not value.strip():
            raise self.fail(at, field, "must not be empty")
        return value

    def name(self, node: Node, at: _At, field: str, pattern: re.Pattern[str] = _NAME) -> str:
        value = self.text(node, at, field)
        if not pattern.fullmatch(value):
            raise self.fail(at, field, f"{value!r} must match {pattern.pattern}")
        return value

    def names(self, node: Node | None, at: _At, field: str, *, sources: bool = False) -> tuple[str, ...]:
        """Distinct names in a list; for `sources`, one name stands for a list of one, and none is refused."""
        if node is None or _tag(node) == "null":
            return ()
        if sources and isinstance(node, ScalarNode):
            return (self.name(node, at, field),)
        if not isinstance(node, SequenceNode):
            raise self.fail(at, field, f"must be a list of names, got {_type_name(node)}")
        out: list[str] = []
        for i, item in enumerate(node.value):
            value = self.name(item, at, f"{field}[{i}]")
            if value in out:
                raise self.fail(at, f"{field}[{i}]", f"{value!r} is listed twice")
            out.append(value)
        if sources and not out:
            raise self.fail(at, field, "must name at least one state")
        return tuple(out)

    def choice(self, options: Sequence[str]) -> _Read:
        def read(node: Node, at: _At, field: str) -> str:
            value = self.text(node, at, field)
            if value not in options:
                raise self.fail(at, field, f"{value!r} must be one of {', '.join(options)}")
            return value

        return read

    def boolean(self, node: Node, at: _At, field: str) -> bool:
        if _tag(node) != "bool":
            raise self.fail(at, field, f"must be true or false, got {_type_name(node)}")
        return bool(self.loader.construct_object(node, deep=True))

    def integer(self, minimum: int) -> _Read:
        def read(node: Node, at: _At, field: str) -> int:
            if _tag(node) != "int":
                raise self.fail(at, field, f"must be an integer, got {_type_name(node)}")
            value = int(self.loader.construct_object(node, deep=True))
            if value < minimum:
                raise self.fail(at, field, f"must be at least {minimum}, got {value}")
            return value

        return read

    def decimal(self, node: Node, at: _At, field: str) -> Decimal:
        if _tag(node) in ("float", "int"):
            raise self.fail(
                at,
                field,
                f"is {_type_name(node)} ({node.value}); write decimals as quoted strings "
                f'("{node.value}"): floats lose money precision',
            )
        raw = self.text(node, at, field)
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise self.fail(at, field, f"{raw!r} is not a decimal number") from None
        if not value.is_finite():
            raise self.fail(at, field, f"{raw!r} is not a finite decimal number")
        return value

    # ---- the machine ----------------------------------------------------------------------------

    def machine(self, root: MappingNode, spec_hash: str, expected_kind: Kind | None) -> MachineSpec:
        top = self.mapping(root, _At("", 1), "", _TOP_KEYS)
        head = _At("", None)
        name = self.name(self.required(top, "machine", head), top.at("machine"), "machine", _MACHINE_NAME)
        kind_node = self.required(top, "kind", head)
        kind = cast(Kind, self.choice(("ladder", "order"))(kind_node, top.at("kind"), "kind"))
        if expected_kind not in (None, kind):
            raise self.fail(top.at("kind"), "kind", f"expected {expected_kind!r} here, got {kind!r}")
        description = self.optional_text(top.get("description"), top.at("description"), "description")
        states = self.states(self.required(top, "states", head), top.at("states"))
        known = {state.name for state in states}
        initial = self.name(self.required(top, "initial", head), top.at("initial"), "initial")
        if initial not in known:
            unknown = f"unknown state {initial!r}{_did_you_mean(initial, known)}"
            raise self.fail(top.at("initial"), "initial", unknown)
        rows = self.rows(self.required(top, "transitions", head), top.at("transitions"), kind, states)
        ignores = self.ignores(top.get("ignore"), top.at("ignore"), kind, known, rows)
        params = self.params(top.get("params"), top.at("params"), kind)
        self.check_graph(states, rows, initial)
        # Last, so a renamed copy of a machine reports its real mistakes first.
        if name != self.path.stem:
            problem = f"{name!r} must equal the file name's stem {self.path.stem!r}"
            raise self.fail(top.at("machine"), "machine", problem)
        cls = OrderMachineSpec if kind == "order" else MachineSpec
        return cls(
            name=name,
            kind=kind,
            description=description,
            initial=initial,
            states=states,
            rows=rows,
            ignores=ignores,
            params=params,
            path=self.path,
            spec_hash=spec_hash,
        )

    def states(self, node: Node, section: _At) -> tuple[StateSpec, ...]:
        if not isinstance(node, SequenceNode) or not node.value:
            raise self.fail(section, "states", "must be a non-empty list of states")
        out: list[StateSpec] = []
        for i, item in enumerate(node.value):
            at = _At(f"states[{i}]", _line(item))
            fields = self.mapping(item, at, "", _STATE_KEYS)
            name = self.name(self.required(fields, "name", at), at, "name")
            for earlier in out:
                if earlier.name == name:
                    duplicate = f"duplicate state {name!r} (first at states[{earlier.index}])"
                    raise self.fail(at, "name", duplicate)
            terminal = fields.get("terminal")
            out.append(
                StateSpec(
                    index=i,
                    line=_line(item),
                    name=name,
                    description=self.optional_text(fields.get("description"), at, "description"),
                    terminal=False if terminal is None else self.boolean(terminal, at, "terminal"),
                )
            )
        return tuple(out)

    def rows(self, node: Node, section: _At, kind: Kind, states: Sequence[StateSpec]) -> tuple[RowSpec, ...]:
        if not isinstance(node, SequenceNode) or not node.value:
            raise self.fail(section, "transitions", "must be a non-empty list of rows")
        out: list[RowSpec] = []
        for i, item in enumerate(node.value):
            at = _At(f"transitions[{i}]", _line(item))
            fields = self.mapping(item, at, "", _ROW_KEYS)
            row = RowSpec(
                index=i,
                line=_line(item),
                trigger=self.name(self.required(fields, "trigger", at), at, "trigger"),
                sources=self.names(self.required(fields, "source", at), at, "source", sources=True),
                dest=self.name(self.required(fields, "dest", at), at, "dest"),
                guards=self.names(fields.get("guards"), at, "guards"),
                unless=self.names(fields.get("unless"), at, "unless"),
                actions=self.names(fields.get("actions"), at, "actions"),
                description=self.optional_text(fields.get("description"), at, "description"),
            )
            self.check_row(row, at, kind, states)
            self.check_not_beaten(row, at, out)
            out.append(row)
        return tuple(out)

    def check_row(self, row: RowSpec, at: _At, kind: Kind, states: Sequence[StateSpec]) -> None:
        known = {state.name for state in states}
        terminal = {state.name for state in states if state.terminal}
        for i, source in enumerate(row.sources):
            field = "source" if len(row.sources) == 1 else f"source[{i}]"
            if source not in known:
                raise self.fail(at, field, f"unknown state {source!r}{_did_you_mean(source, known)}")
            if source in terminal:
                raise self.fail(at, field, f"{source!r} is terminal: no row may leave it")
        if row.dest not in known:
            raise self.fail(at, "dest", f"unknown state {row.dest!r}{_did_you_mean(row.dest, known)}")
        checks = (
            ("guards", row.guards, self.guards, "guard"),
            ("unless", row.unless, self.guards, "guard"),
            ("actions", row.actions, self.actions, "action"),
        )
        for field, names, registry, what in checks:
            if names and kind == "order":
                raise self.fail(at, field, "order machines take no guards, unless or actions")
            for i, name in enumerate(names):
                if name not in registry:
                    unknown = f"unknown {what} {name!r}{_did_you_mean(name, registry)}"
                    raise self.fail(at, f"{field}[{i}]", unknown)
        both = _shared(row.unless, row.guards)
        if both:
            raise self.fail(at, "unless", f"{both[0]!r} is also in guards: the row can never fire")

    def check_not_beaten(self, row: RowSpec, at: _At, earlier_rows: Sequence[RowSpec]) -> None:
        for earlier in earlier_rows:
            shared = _shared(row.sources, earlier.sources)
            if (
                earlier.trigger == row.trigger
                and shared
                and set(earlier.guards) <= set(row.guards)
                and set(earlier.unless) <= set(row.unless)
            ):
                raise self.fail(
                    at,
                    "guards",
                    f"never fires: {earlier.where} comes first with the same trigger {row.trigger!r} and "
                    f"source {shared[0]!r}, and passes whenever this row does (its guards and unless are "
                    "subsets of this row's)",
                )

    def ignores(
        self, node: Node | None, section: _At, kind: Kind, known: set[str], rows: Sequence[RowSpec]
    ) -> tuple[IgnoreSpec, ...]:
        if node is None:
            return ()
        if kind != "order":
            raise self.fail(section, "ignore", "only order machines declare ignored observations")
        if not isinstance(node, SequenceNode):
            raise self.fail(section, "ignore", f"must be a list, got {_type_name(node)}")
        out: list[IgnoreSpec] = []
        for i, item in enumerate(node.value):
            at = _At(f"ignore[{i}]", _line(item))
            fields = self.mapping(item, at, "", _IGNORE_KEYS)
            ignore = IgnoreSpec(
                index=i,
                line=_line(item),
                trigger=self.name(self.required(fields, "trigger", at), at, "trigger"),
                sources=self.names(self.required(fields, "source", at), at, "source", sources=True),
                description=self.optional_text(fields.get("description"), at, "description"),
            )
            for source in ignore.sources:
                pair = f"({ignore.trigger!r}, {source!r})"
                if source not in known:
                    raise self.fail(at, "source", f"unknown state {source!r}{_did_you_mean(source, known)}")
                for row in rows:
                    if row.trigger == ignore.trigger and source in row.sources:
                        raise self.fail(at, "source", f"{pair} is also a row: {row.where}")
                for other in out:
                    if other.trigger == ignore.trigger and source in other.sources:
                        raise self.fail(at, "source", f"{pair} is already ignored by ignore[{other.index}]")
            out.append(ignore)
        return tuple(out)

    def check_graph(self, states: Sequence[StateSpec], rows: Sequence[RowSpec], initial: str) -> None:
        reached = {initial}
        frontier = [initial]
        while frontier:
            current = frontier.pop()
            for row in rows:
                if current in row.sources and row.dest not in reached:
                    reached.add(row.dest)
                    frontier.append(row.dest)
        for state in states:
            at = _At(f"states[{state.index}]", state.line)
            if state.name not in reached:
                raise self.fail(at, "name", f"state {state.name!r} is unreachable from initial {initial!r}")
            if not state.terminal and not any(state.name in r.sources and r.dest != state.name for r in rows):
                stuck = f"non-terminal state {state.name!r} has no row leaving it (or mark it terminal)"
                raise self.fail(at, "name", stuck)

    # ---- ladder params --------------------------------------------------------------------------

    def params(self, node: Node | None, section: _At, kind: Kind) -> Mapping[str, Any]:
        if kind == "order":
            if node is not None:
                raise self.fail(section, "params", "order machines take no params")
            return MappingProxyType({})
        if node is None:
            raise self.fail(section, "params", "missing (a ladder machine needs its params)")
        schema, optional = self.ladder_schema(), self.ladder_optional()
        at = _At("params", section.line)
        fields = self.mapping(node, at, "", (*schema, *optional))
        out: dict[str, Any] = {}
        for key, read in schema.items():
            out[key] = read(self.required(fields, key, at), fields.at(key, "params"), key)
        for key, (read, default) in optional.items():
            out[key] = read(fields[key], fields.at(key, "params"), key) if key in fields else default
        return MappingProxyType(out)

    def ladder_optional(self) -> dict[str, tuple[_Read, Any]]:
        """Params a ladder may leave out, with the value it then gets."""
        return {
            # expTime of every place request: OKX never applies it later, so "not found" after it is final.
            "exp_time_ms": (self.integer(500), 5000),
            # The leverage set (and verified) before a cycle's first entry; left as it is when absent.
            "leverage": (self.positive_decimal, None),
        }

    def ladder_schema(self) -> dict[str, _Read]:
        return {
            "strategy_id": lambda node, at, field: self.name(node, at, field, _MACHINE_NAME),
            "cl_ord_id_prefix": lambda node, at, field: self.name(node, at, field, _CL_ORD_ID_PREFIX),
            "symbol": self.nonempty_text,
            "bar": self.choice(BARS),
            "offsets": self.offsets,
            "notional_per_rung": self.positive_decimal,
            "td_mode": self.choice(("isolated", "cross")),
            "pos_side": self.choice(("long", "short")),
            "side": self.choice(("buy", "sell")),
            "expiry_bars": self.integer(1),
            "hold_bars": self.integer(1),
            "cancel_retry_seconds": self.integer(1),
            "signal": self.signal,
            "state_file": self.state_file,
        }

    def positive_decimal(self, node: Node, at: _At, field: str) -> Decimal:
        value = self.decimal(node, at, field)
        if value <= 0:
            raise self.fail(at, field, f"must be greater than 0, got {node.value}")
        return value

    def offsets(self, node: Node, at: _At, field: str) -> tuple[Decimal, ...]:
        if not isinstance(node, SequenceNode) or not node.value:
            raise self.fail(at, field, 'must be a non-empty list of quoted decimals like "0.003"')
        out: list[Decimal] = []
        for i, item in enumerate(node.value):
            item_at, item_field = _At(at.where, _line(item)), f"{field}[{i}]"
            value = self.decimal(item, item_at, item_field)
            if not Decimal(0) < value < Decimal(1):
                raise self.fail(item_at, item_field, f"must be between 0 and 1 (exclusive), got {item.value}")
            if out and value <= out[-1]:
                raise self.fail(item_at, item_field, f"must be greater than the offset before it ({out[-1]})")
            out.append(value)
        return tuple(out)

    def signal(self, node: Node, at: _At, field: str) -> Mapping[str, Any]:
        fields = self.mapping(node, at, field, _SIGNAL_KEYS)
        provider_node = self.required(fields, "provider", at)
        provider = self.choice(("robust_twap", "file"))(provider_node, at, f"{field}.provider")
        needs: dict[str, _Read] = (
            {"lookback_bars": self.integer(3), "entry_filter": self.choice(("close_above_ref", "none"))}
            if provider == "robust_twap"
            else {"path": self.nonempty_text}
        )
        for key in fields:
            if key != "provider" and key not in needs:
                problem = f"not a parameter of provider {provider!r}"
                raise self.fail(fields.at(key, at.where), f"{field}.{key}", problem)
        out: dict[str, Any] = {"provider": provider}
        for key, read in needs.items():
            if key not in fields:
                raise self.fail(at, f"{field}.{key}", f"missing (provider {provider!r} needs it)")
            out[key] = read(fields[key], fields.at(key, at.where), f"{field}.{key}")
        return MappingProxyType(out)

    def state_file(self, node: Node, at: _At, field: str) -> str:
        value = self.text(node, at, field)
        if not value.endswith(".json") or "/" in value or "\\" in value or value.startswith("."):
            raise self.fail(at, field, f"{value!r} must be a plain file name ending in .json")
        return value
