"""`extends:`: a ladder machine that is another machine with other params.

An extending file gives `extends` (the parent's file, a path relative to the extending file),
`machine`, an optional `description` (never inherited) and `params`; kind, initial, states and
transitions are the parent's. Its params replace the parent's key by key (`signal` as a whole;
`sizes` or `notional_per_rung` replace the parent's sizing). Its strategy_id, client_order_id_prefix and
state_file must differ from every ancestor's: machines sharing one would share clOrdIds, a state file
or a journal. A chain of extends works; a cycle is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fsm.spec.ladder import ParamsLayer
from fsm.spec.model import MachineSpec
from fsm.spec.nodes import Fields, NodeReader

IDENTITY = ("strategy_id", "client_order_id_prefix", "state_file")
INHERITED = ("kind", "initial", "states", "transitions", "ignore")  # what only a parent declares
_SUFFIXES = (".yaml", ".yml")


def parent_path(reader: NodeReader, top: Fields, chain: Sequence[Path]) -> Path:
    """The file `extends` names, relative to the extending file; refuses a missing file and a cycle.

    A bare machine name is refused: looked up on a search path, one file could mean different parents
    from different working directories.
    """
    at = top.at("extends")
    value = reader.nonempty_text(top["extends"], at, "extends")
    if Path(value).suffix not in _SUFFIXES:
        problem = f"{value!r} is not a file name: give the parent's path relative to this file ({value}.yaml)"
        raise reader.fail(at, "extends", problem)
    path = reader.path.parent / value
    seen = [*chain, reader.path]
    for i, earlier in enumerate(seen):
        if earlier.resolve() == path.resolve():
            loop = " -> ".join(p.name for p in [*seen[i:], path])
            raise reader.fail(at, "extends", f"cycle: {loop}")
    if not path.is_file():
        raise reader.fail(at, "extends", f"the parent {value!r} does not exist ({path})")
    return path


def check_inherited(reader: NodeReader, top: Fields) -> None:
    """An extending file declares no kind, initial, states, transitions or ignores of its own."""
    for key in INHERITED:
        if key in top:
            problem = (
                "comes from the parent in an extending machine: give only machine, description and params"
            )
            raise reader.fail(top.at(key), key, problem)


def check_identity(
    reader: NodeReader, own: ParamsLayer, params: Mapping[str, Any], ancestors: Sequence[MachineSpec]
) -> None:
    """strategy_id, client_order_id_prefix and state_file: given by the extending file, and none an
    ancestor's."""
    parent = ancestors[-1]
    for key in IDENTITY:
        value = params[key]
        if key not in own.fields:
            problem = f"inherits {value!r} from {parent.path.name}: an extending machine needs its own"
            raise reader.fail(own.section, key, problem)
        for ancestor in ancestors:
            if ancestor.params[key] == value:
                problem = (
                    f"{value!r} is also the {key} of {ancestor.path.name}: an extending machine needs its "
                    "own (clOrdIds, state files and journals must not be shared)"
                )
                raise reader.fail(own.at(key), key, problem)
