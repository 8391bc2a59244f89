"""The account's realized PnL by exchange time, from every machine's own journaled fills: each archived
cycle's fills (its `archive` record, valued with its `intent`'s contract value) and the cycle in flight
(the state file). Only what the machines' journals hold counts: a machine owns only its own fills.

A journal is read (and its chain verified) again only when one of its files changed size.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from fsm.engine.orders import Fill
from fsm.engine.pnl import realized_by_fill
from fsm.engine.state import LadderState
from fsm.persist.segments import journal_files
from fsm.report.cycles import read_cycles
from fsm.risk.trading import Realized

_Sizes = tuple[tuple[str, int], ...]
_cache: dict[Path, tuple[_Sizes, list[Realized]]] = {}


@dataclass(frozen=True)
class _Cycle:
    side: str | None = None
    ct_val: Decimal | None = None


def _sizes(journal: Path) -> _Sizes:
    return tuple((path.name, path.stat().st_size) for path, _ in journal_files(journal) if path.exists())


def _cycle_realized(fills: list[Fill], cycle: _Cycle) -> list[Realized]:
    if cycle.side is None or cycle.ct_val is None:
        return []
    return [Realized(ts, pnl) for ts, pnl in realized_by_fill(fills, cycle.side, cycle.ct_val)]


def _archived(journal: Path) -> list[Realized]:
    """What every archived cycle in the journal realized, per fill (the report's reading of the
    journal: each archive record with its intent's side and contract value)."""
    sizes = _sizes(journal)
    cached = _cache.get(journal)
    if cached is not None and cached[0] == sizes:
        return cached[1]
    out: list[Realized] = []
    for cycle in read_cycles(journal):
        out += _cycle_realized(list(cycle.fills), _Cycle(cycle.entry_side, cycle.ct_val))
    _cache[journal] = (sizes, out)
    return out


def _in_flight(state: LadderState) -> list[Realized]:
    """What the cycle not archived yet realized so far."""
    if state.cycle_id is None or state.archived_cycle_id == state.cycle_id:
        return []
    side = next((r.payload.get("side") for r in state.rungs if r.payload.get("side")), None)
    return _cycle_realized(state.fills, _Cycle(side, state.ct_val))


def machine_realized(state_path: Path, state: LadderState | None) -> list[Realized]:
    """One machine's realized PnL per fill: its archived cycles, then its cycle in flight."""
    journal = state_path.with_suffix(".jsonl")
    archived = _archived(journal) if journal.exists() else []
    return archived + ([] if state is None else _in_flight(state))
