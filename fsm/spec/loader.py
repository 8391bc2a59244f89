"""Machine YAML -> a validated, immutable `MachineSpec`, refused before anything runs.

The loader reads PyYAML's node tree (not plain dicts) so that every refusal names the file, the row or
state with its line, and the field. Row order in the file is priority: for one trigger and source state
the first row whose guards pass wins, so a row that an earlier row always beats is refused. What each
state means to the engine is declared beside it (ladder `tracks`, order `role`), and a guard or action
that reads what its row's state does not track is refused here, not discovered in a tick.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

from yaml.nodes import MappingNode, Node, SequenceNode

from fsm.spec import extends, ladder
from fsm.spec.model import (
    KINDS,
    ROLES,
    TRACKS,
    IgnoreSpec,
    Kind,
    MachineSpec,
    Needs,
    RowSpec,
    SpecError,
    StateSpec,
    Vocabulary,
)
from fsm.spec.nodes import (
    At,
    Fields,
    NodeReader,
    did_you_mean,
    line_of,
    parse_yaml,
    read_yaml,
    type_name,
)

_MACHINE_NAME = re.compile(r"[a-z0-9_]+")
_TOP_KEYS = (
    "machine", "extends", "kind", "description", "initial", "states", "params", "transitions", "ignore",
)  # fmt: skip
_STATE_KEYS = {
    "ladder": ("name", "description", "tracks"),
    "order": ("name", "description", "role"),
    "stop": ("name", "description", "role"),
}
_ROW_KEYS = ("trigger", "source", "dest", "guards", "unless", "actions", "description")
_IGNORE_KEYS = ("trigger", "source", "description")


def load_spec(
    path: Path, vocabulary: Vocabulary, *, kind: Kind | None = None, overrides: Sequence[str] = ()
) -> MachineSpec:
    """Read and check one machine file (and every file it extends) against the guards and actions an
    engine implements. `overrides` (PARAM=VALUE, a YAML value) replace params for one run, read and
    refused as the file's own params are, named as the --set that gave them."""
    loaded = _load(Path(path), vocabulary, kind, ())
    return loaded.spec if not overrides else _overridden(loaded, overrides)


OVERRIDES_SOURCE = Path("--set")
_OVERRIDE = re.compile(r"([a-z_]+)=(.*)", re.DOTALL)


def _overridden(loaded: _Loaded, overrides: Sequence[str]) -> MachineSpec:
    """The machine with its params replaced by `overrides`, one params layer after the file's; line N of
    the layer is the N-th --set, so a refusal names it. The spec hash covers the overrides."""
    lines = []
    for number, text in enumerate(overrides, start=1):
        match = _OVERRIDE.fullmatch(text)
        if match is None or "\n" in text:
            problem = f"{text!r} must be PARAM=VALUE (a params key, then a YAML value on one line)"
            raise SpecError(OVERRIDES_SOURCE, "params", number, "", problem)
        lines.append(f"{match.group(1)}: {match.group(2)}\n")
    data = "".join(lines).encode("utf-8")
    loader, root = parse_yaml(OVERRIDES_SOURCE, data)
    if loaded.spec.kind != "ladder" or root is None:
        raise SpecError(OVERRIDES_SOURCE, "params", None, "", "only a ladder machine's params can be set")
    reader = NodeReader(OVERRIDES_SOURCE, loader)
    layers = (*loaded.layers, ladder.params_layer(reader, root, At("params", 1)))
    return dataclasses.replace(
        loaded.spec,
        params=ladder.read_params(layers),
        spec_hash=_chain_hash((*loaded.digests, hashlib.sha256(data).hexdigest())),
        params_at=ladder.params_at(layers),
    )


@dataclass(frozen=True)
class _Loaded:
    """A checked machine with what a machine extending it builds on."""

    spec: MachineSpec
    layers: tuple[ladder.ParamsLayer, ...]  # its params sections, the root parent's first
    ancestors: tuple[MachineSpec, ...]  # the machines it extends, the root first
    digests: tuple[str, ...]  # sha256 hex of each file's bytes, the root's first


def _load(path: Path, vocabulary: Vocabulary, kind: Kind | None, chain: tuple[Path, ...]) -> _Loaded:
    loader, root, data = read_yaml(path)
    if not isinstance(root, MappingNode):
        raise SpecError(path, "", 1, "", "must be a YAML mapping (machine, kind, states, transitions ...)")
    checker = _Checker(NodeReader(path, loader), vocabulary)
    return checker.machine(root, hashlib.sha256(data).hexdigest(), kind, chain)


def _chain_hash(digests: Sequence[str]) -> str:
    """One file: its own sha256; a chain: the sha256 of every file's digest in order, the root's first."""
    return digests[0] if len(digests) == 1 else hashlib.sha256("".join(digests).encode()).hexdigest()


def load_order_spec(path: Path, kind: Kind = "order") -> MachineSpec:
    """Read an order machine (kind `order`, or `stop` for an algo order: no guards, no actions)."""
    return load_spec(path, Vocabulary(), kind=kind)


def _shared(a: Sequence[str], b: Sequence[str]) -> list[str]:
    return [name for name in a if name in b]


class _Checker:
    """The checks over one file's node tree; the first problem found is raised."""

    def __init__(self, reader: NodeReader, vocabulary: Vocabulary) -> None:
        self.read = reader
        self.vocabulary = vocabulary
        self.path = reader.path

    def fail(self, at: At, field: str, problem: str) -> SpecError:
        return self.read.fail(at, field, problem)

    def machine(
        self, root: MappingNode, digest: str, expected_kind: Kind | None, chain: tuple[Path, ...]
    ) -> _Loaded:
        read = self.read
        top = read.mapping(root, At("", 1), "", _TOP_KEYS)
        if "extends" in top:
            return self.extending(top, digest, expected_kind, chain)
        head = At("", None)
        name = read.name(read.required(top, "machine", head), top.at("machine"), "machine", _MACHINE_NAME)
        kind_node = read.required(top, "kind", head)
        kind = cast(Kind, read.choice(KINDS)(kind_node, top.at("kind"), "kind"))
        if expected_kind not in (None, kind):
            raise self.fail(top.at("kind"), "kind", f"expected {expected_kind!r} here, got {kind!r}")
        description = read.optional_text(top.get("description"), top.at("description"), "description")
        states = self.states(read.required(top, "states", head), top.at("states"), kind)
        known = {state.name for state in states}
        initial = read.name(read.required(top, "initial", head), top.at("initial"), "initial")
        if initial not in known:
            unknown = f"unknown state {initial!r}{did_you_mean(initial, known)}"
            raise self.fail(top.at("initial"), "initial", unknown)
        rows = self.rows(read.required(top, "transitions", head), top.at("transitions"), kind, states)
        ignores = self.ignores(top.get("ignore"), top.at("ignore"), kind, known, rows)
        params_node = top.get("params")
        layers: tuple[ladder.ParamsLayer, ...] = ()
        if kind != "ladder":
            if params_node is not None:
                raise self.fail(top.at("params"), "params", f"{kind} machines take no params")
            params: Mapping[str, Any] = MappingProxyType({})
        elif params_node is None:
            raise self.fail(top.at("params"), "params", "missing (a ladder machine needs its params)")
        else:
            layers = (ladder.params_layer(read, params_node, top.at("params")),)
            params = ladder.read_params(layers)
        self.check_graph(states, rows, initial)
        if kind != "ladder":
            self.check_initial_role(states, initial, top.at("initial"), kind)
        self.check_stem(name, top)
        spec = MachineSpec(
            name=name,
            kind=kind,
            description=description,
            initial=initial,
            states=states,
            rows=rows,
            ignores=ignores,
            params=params,
            path=self.path,
            files=(self.path,),
            spec_hash=digest,
            params_at=ladder.params_at(layers),
        )
        return _Loaded(spec, layers, (), (digest,))

    def extending(
        self, top: Fields, digest: str, expected_kind: Kind | None, chain: tuple[Path, ...]
    ) -> _Loaded:
        """A machine that is its parent with other params (see fsm.spec.extends)."""
        read, at = self.read, top.at("extends")
        extends.check_inherited(read, top)
        parent = _load(extends.parent_path(read, top, chain), self.vocabulary, None, (*chain, self.path))
        if parent.spec.kind != "ladder" or expected_kind not in (None, "ladder"):
            raise self.fail(at, "extends", "only ladder machines extend and are extended")
        name = read.name(read.required(top, "machine", at), top.at("machine"), "machine", _MACHINE_NAME)
        description = read.optional_text(top.get("description"), top.at("description"), "description")
        if "params" not in top:
            problem = "missing: an extending machine gives at least its own " + ", ".join(extends.IDENTITY)
            raise self.fail(at, "params", problem)
        own = ladder.params_layer(read, top["params"], top.at("params"))
        layers = (*parent.layers, own)
        params = ladder.read_params(layers)
        ancestors = (*parent.ancestors, parent.spec)
        extends.check_identity(read, own, params, ancestors)
        self.check_stem(name, top)
        digests = (*parent.digests, digest)
        spec = dataclasses.replace(
            parent.spec,
            name=name,
            description=description,
            params=params,
            path=self.path,
            files=(*parent.spec.files, self.path),
            spec_hash=_chain_hash(digests),
            params_at=ladder.params_at(layers),
        )
        return _Loaded(spec, layers, ancestors, digests)

    def check_stem(self, name: str, top: Fields) -> None:
        """Last of the checks, so a renamed copy of a machine reports its real mistakes first."""
        if name != self.path.stem:
            problem = f"{name!r} must equal the file name's stem {self.path.stem!r}"
            raise self.fail(top.at("machine"), "machine", problem)

    def states(self, node: Node, section: At, kind: Kind) -> tuple[StateSpec, ...]:
        read = self.read
        if not isinstance(node, SequenceNode) or not node.value:
            raise self.fail(section, "states", "must be a non-empty list of states")
        out: list[StateSpec] = []
        for i, item in enumerate(node.value):
            at = At(f"states[{i}]", line_of(item))
            fields = read.mapping(item, at, "", _STATE_KEYS[kind])
            name = read.name(read.required(fields, "name", at), at, "name")
            for earlier in out:
                if earlier.name == name:
                    duplicate = f"duplicate state {name!r} (first at states[{earlier.index}])"
                    raise self.fail(at, "name", duplicate)
            tracks: frozenset[str] = frozenset()
            role: str | None = None
            if kind == "ladder":
                if "tracks" not in fields:
                    raise self.fail(
                        at, "tracks", f"missing: what the tick observes here ({', '.join(TRACKS)})"
                    )
                tracks = frozenset(self.tracks(fields["tracks"], at))
            else:
                role = read.choice(ROLES[kind])(read.required(fields, "role", at), at, "role")
            description = read.optional_text(fields.get("description"), at, "description")
            out.append(StateSpec(i, line_of(item), name, description, tracks, role))
        return tuple(out)

    def tracks(self, node: Node, at: At) -> tuple[str, ...]:
        names = self.read.names(node, at, "tracks")
        for i, name in enumerate(names):
            if name not in TRACKS:
                raise self.fail(at, f"tracks[{i}]", f"unknown {name!r}{did_you_mean(name, TRACKS)}")
        return names

    def rows(self, node: Node, section: At, kind: Kind, states: Sequence[StateSpec]) -> tuple[RowSpec, ...]:
        read = self.read
        if not isinstance(node, SequenceNode) or not node.value:
            raise self.fail(section, "transitions", "must be a non-empty list of rows")
        out: list[RowSpec] = []
        for i, item in enumerate(node.value):
            at = At(f"transitions[{i}]", line_of(item))
            fields = read.mapping(item, at, "", _ROW_KEYS)
            row = RowSpec(
                index=i,
                line=line_of(item),
                trigger=read.name(read.required(fields, "trigger", at), at, "trigger"),
                sources=read.names(read.required(fields, "source", at), at, "source", sources=True),
                dest=read.name(read.required(fields, "dest", at), at, "dest"),
                guards=read.names(fields.get("guards"), at, "guards"),
                unless=read.names(fields.get("unless"), at, "unless"),
                actions=read.names(fields.get("actions"), at, "actions"),
                description=read.optional_text(fields.get("description"), at, "description"),
            )
            self.check_row(row, at, kind, states)
            self.check_not_beaten(row, at, out)
            out.append(row)
        return tuple(out)

    def check_row(self, row: RowSpec, at: At, kind: Kind, states: Sequence[StateSpec]) -> None:
        by_name = {state.name: state for state in states}
        for i, source in enumerate(row.sources):
            field = "source" if len(row.sources) == 1 else f"source[{i}]"
            if source not in by_name:
                raise self.fail(at, field, f"unknown state {source!r}{did_you_mean(source, by_name)}")
            if by_name[source].terminal:
                raise self.fail(at, field, f"{source!r} is terminal: no row may leave it")
        if row.dest not in by_name:
            raise self.fail(at, "dest", f"unknown state {row.dest!r}{did_you_mean(row.dest, by_name)}")
        checks = (
            ("guards", row.guards, self.vocabulary.guards, "guard"),
            ("unless", row.unless, self.vocabulary.guards, "guard"),
            ("actions", row.actions, self.vocabulary.actions, "action"),
        )
        for field, names, registry, what in checks:
            if names and kind != "ladder":
                raise self.fail(at, field, f"{kind} machines take no guards, unless or actions")
            for i, name in enumerate(names):
                if name not in registry:
                    unknown = f"unknown {what} {name!r}{did_you_mean(name, registry)}"
                    raise self.fail(at, f"{field}[{i}]", unknown)
                self.check_needs(row, at, f"{field}[{i}]", f"{what} {name!r}", registry[name], by_name)
        both = _shared(row.unless, row.guards)
        if both:
            raise self.fail(at, "unless", f"{both[0]!r} is also in guards: the row can never fire")

    def check_needs(
        self, row: RowSpec, at: At, field: str, what: str, needs: Needs, states: dict[str, StateSpec]
    ) -> None:
        """A guard or action reads what its source states track; an action's dest follows what it left."""
        wanted = [(source, needs.reads, "reads") for source in row.sources]
        wanted.append((row.dest, needs.follows, "leaves on OKX"))
        for name, needed, verb in wanted:
            state = states[name]
            missing = sorted(needed - state.tracks)
            if missing:
                raise self.fail(
                    at,
                    field,
                    f"{what} {verb} {', '.join(sorted(needed))}, but state {name!r} does not track "
                    f"{', '.join(missing)} (add it to {state.where} tracks)",
                )

    def check_not_beaten(self, row: RowSpec, at: At, earlier_rows: Sequence[RowSpec]) -> None:
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
        self, node: Node | None, section: At, kind: Kind, known: set[str], rows: Sequence[RowSpec]
    ) -> tuple[IgnoreSpec, ...]:
        read = self.read
        if node is None:
            return ()
        if kind == "ladder":
            raise self.fail(section, "ignore", "only order and stop machines declare ignored observations")
        if not isinstance(node, SequenceNode):
            raise self.fail(section, "ignore", f"must be a list, got {type_name(node)}")
        out: list[IgnoreSpec] = []
        for i, item in enumerate(node.value):
            at = At(f"ignore[{i}]", line_of(item))
            fields = read.mapping(item, at, "", _IGNORE_KEYS)
            ignore = IgnoreSpec(
                index=i,
                line=line_of(item),
                trigger=read.name(read.required(fields, "trigger", at), at, "trigger"),
                sources=read.names(read.required(fields, "source", at), at, "source", sources=True),
                description=read.optional_text(fields.get("description"), at, "description"),
            )
            for source in ignore.sources:
                pair = f"({ignore.trigger!r}, {source!r})"
                if source not in known:
                    raise self.fail(at, "source", f"unknown state {source!r}{did_you_mean(source, known)}")
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
            at = At(f"states[{state.index}]", state.line)
            if state.name not in reached:
                raise self.fail(at, "name", f"state {state.name!r} is unreachable from initial {initial!r}")
            if not state.terminal and not any(state.name in r.sources and r.dest != state.name for r in rows):
                stuck = (
                    f"non-terminal state {state.name!r} has no row leaving it (or give it a terminal role)"
                )
                raise self.fail(at, "name", stuck)

    def check_initial_role(self, states: Sequence[StateSpec], initial: str, at: At, kind: Kind) -> None:
        """An order (or stop) begins rendered and unsent: the engine sends only what is `unsent`."""
        role = next(state.role for state in states if state.name == initial)
        if role != "unsent":
            article = "an" if kind == "order" else "a"
            problem = f"{initial!r} has role {role!r}; {article} {kind} machine starts unsent"
            raise self.fail(at, "initial", problem)
