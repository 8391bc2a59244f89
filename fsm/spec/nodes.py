"""Typed reads of PyYAML nodes, so that every refusal can name the file, the row or state, its line
and the field (plain dicts would have lost the lines)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeAlias

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from fsm.spec.model import SpecError

NAME = re.compile(r"[a-z][a-z0-9_]*")
_YAML_TAG = "tag:yaml.org,2002:"


@dataclass(frozen=True)
class At:
    """Where a problem is: a row or state (`transitions[3]`) or a section, and a line."""

    where: str
    line: int | None


def line_of(node: Node) -> int:
    return int(node.start_mark.line) + 1


class Fields(dict[str, Node]):
    """A YAML mapping's values by key, remembering the line of each key."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[str, int] = {}

    def at(self, key: str, where: str = "") -> At:
        return At(where, self.lines.get(key))


def tag_of(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "mapping"
    if isinstance(node, SequenceNode):
        return "list"
    tag = str(node.tag)
    return tag.removeprefix(_YAML_TAG)


def type_name(node: Node) -> str:
    names = {"str": "a string", "bool": "a boolean", "int": "an integer", "float": "a float", "null": "empty"}
    tag = tag_of(node)
    return names.get(tag, f"a {tag}")


def _not_a_string(node: Node) -> str:
    if tag_of(node) == "bool" and isinstance(node, ScalarNode) and not node.style:  # plain: None or ""
        return f"{node.value!r} is read as a YAML 1.1 boolean, not a name; quote it: '{node.value}'"
    return f"must be a string, got {type_name(node)}"


def did_you_mean(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(sorted(known)) or 'none'}"


Read = Callable[[Node, At, str], Any]
Loader: TypeAlias = "yaml.SafeLoader | yaml.CSafeLoader"  # the C one exists only with libyaml


def _compose(text: str) -> tuple[Loader, Node | None]:
    """The node tree, by libyaml when PyYAML has it: the pure-Python parser is some 15x slower, and every
    command that loads a machine reads three files before it starts. Invalid YAML is parsed again by the
    pure-Python parser, whose refusal names the offending character (libyaml's does not)."""
    if yaml.__with_libyaml__:
        try:
            fast = yaml.CSafeLoader(text)
            return fast, fast.get_single_node()
        except yaml.YAMLError:
            pass
    loader = yaml.SafeLoader(text)
    return loader, loader.get_single_node()


def read_yaml(path: Path) -> tuple[Loader, Node | None, bytes]:
    """One YAML file's loader, node tree and bytes; unreadable, non-UTF-8 or invalid YAML is refused
    naming the file (and the line)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(path, "", None, "", f"cannot read the file ({exc.strerror})") from None
    loader, root = parse_yaml(path, data)
    return loader, root, data


def parse_yaml(source: Path, data: bytes) -> tuple[Loader, Node | None]:
    """YAML bytes' loader and node tree; non-UTF-8 or invalid YAML is refused naming `source` (a file,
    or where the text came from) and the line."""
    try:
        loader, root = _compose(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise SpecError(source, "", None, "", "not UTF-8 text") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise SpecError(source, "", line, "", f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise SpecError(source, "", None, "", f"not valid YAML: {exc}") from None
    return loader, root


class NodeReader:
    """Typed reads of one file's YAML nodes; every refusal names the file, the place, the field."""

    def __init__(self, path: Path, loader: Loader) -> None:
        self.path = path
        self.loader = loader

    def fail(self, at: At, field: str, problem: str) -> SpecError:
        return SpecError(self.path, at.where, at.line, field, problem)

    # ---- typed reads of nodes -------------------------------------------------------------------

    def mapping(self, node: Node, at: At, field: str, allowed: Sequence[str]) -> Fields:
        """A mapping's values by key; refuses non-string, duplicate and unknown keys."""
        if not isinstance(node, MappingNode):
            raise self.fail(at, field, f"must be a mapping, got {type_name(node)}")
        out = Fields()
        for key, value in node.value:
            key_at = At(at.where, line_of(key))
            if tag_of(key) != "str":
                raise self.fail(key_at, field, f"key {_not_a_string(key)}")
            name = f"{field}.{key.value}" if field else str(key.value)
            if key.value in out:
                raise self.fail(key_at, name, f"duplicate key (first on line {out.lines[key.value]})")
            if key.value not in allowed:
                raise self.fail(key_at, name, f"unknown key; allowed: {', '.join(allowed)}")
            out[key.value] = value
            out.lines[key.value] = line_of(key)
        return out

    def required(self, fields: Mapping[str, Node], key: str, at: At) -> Node:
        if key not in fields or tag_of(fields[key]) == "null":
            raise self.fail(at, key, "missing")
        return fields[key]

    def text(self, node: Node, at: At, field: str) -> str:
        if tag_of(node) != "str":
            raise self.fail(at, field, _not_a_string(node))
        return str(node.value)

    def optional_text(self, node: Node | None, at: At, field: str) -> str:
        return "" if node is None or tag_of(node) == "null" else self.text(node, at, field)

    def nonempty_text(self, node: Node, at: At, field: str) -> str:
        value = self.text(node, at, field)
        if not value.strip():
            raise self.fail(at, field, "must not be empty")
        return value

    def name(self, node: Node, at: At, field: str, pattern: re.Pattern[str] = NAME) -> str:
        value = self.text(node, at, field)
        if not pattern.fullmatch(value):
            raise self.fail(at, field, f"{value!r} must match {pattern.pattern}")
        return value

    def names(self, node: Node | None, at: At, field: str, *, sources: bool = False) -> tuple[str, ...]:
        """Distinct names in a list; for `sources`, one name stands for a list of one, and none is refused."""
        if node is None or tag_of(node) == "null":
            return ()
        if sources and isinstance(node, ScalarNode):
            return (self.name(node, at, field),)
        if not isinstance(node, SequenceNode):
            raise self.fail(at, field, f"must be a list of names, got {type_name(node)}")
        out: list[str] = []
        for i, item in enumerate(node.value):
            value = self.name(item, at, f"{field}[{i}]")
            if value in out:
                raise self.fail(at, f"{field}[{i}]", f"{value!r} is listed twice")
            out.append(value)
        if sources and not out:
            raise self.fail(at, field, "must name at least one state")
        return tuple(out)

    def choice(self, options: Sequence[str]) -> Read:
        def read(node: Node, at: At, field: str) -> str:
            value = self.text(node, at, field)
            if value not in options:
                raise self.fail(at, field, f"{value!r} must be one of {', '.join(options)}")
            return value

        return read

    def boolean(self, node: Node, at: At, field: str) -> bool:
        if tag_of(node) != "bool":
            raise self.fail(at, field, f"must be true or false, got {type_name(node)}")
        return bool(self.loader.construct_object(node, deep=True))

    def integer(self, minimum: int) -> Read:
        def read(node: Node, at: At, field: str) -> int:
            if tag_of(node) != "int":
                raise self.fail(at, field, f"must be an integer, got {type_name(node)}")
            value = int(self.loader.construct_object(node, deep=True))
            if value < minimum:
                raise self.fail(at, field, f"must be at least {minimum}, got {value}")
            return value

        return read

    def decimal(self, node: Node, at: At, field: str) -> Decimal:
        if tag_of(node) in ("float", "int"):
            raise self.fail(
                at,
                field,
                f"is {type_name(node)} ({node.value}); write decimals as quoted strings "
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

    def positive_decimal(self, node: Node, at: At, field: str) -> Decimal:
        value = self.decimal(node, at, field)
        if value <= 0:
            raise self.fail(at, field, f"must be greater than 0, got {node.value}")
        return value
