"""A machine's finished cycles read back out of its journal: each `archive` record with the `intent`
record that began it (the signal candle, the instrument's contract value, the entry side).

Every number comes from the journaled fills: realized PnL and fees are recomputed from the archived
fills by fsm.engine.pnl (the engine's own arithmetic, not a copy); the exit reason is the one the engine
journaled from the exit fills' evidence. The journal is verified as it is read (a broken chain or torn
tail is refused, never read past), or scanned for `status` (CycleScan); memory holds the finished
cycles, never the records.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from fsm.engine.orders import Fill, Rung, StopOrder
from fsm.engine.pnl import CycleSummary, fills_summary
from fsm.engine.state import Signal
from fsm.errors import JournalChainBroken
from fsm.persist.chain import NotJson, load_line
from fsm.persist.journal import JournalReader
from fsm.persist.segments import journal_files


@dataclass(frozen=True)
class Cycle:
    """One archived cycle: its signal, rungs, own fills and stops as journaled, what they made, and
    when it ran (exchange ms). `start_ts` is the intent's (the signal accepted), `end_ts` the last exit
    fill's, or the archive record's when nothing was exited."""

    cycle_id: str
    entry_side: str
    signal: Signal | None
    ct_val: Decimal | None
    rungs: tuple[Rung, ...]
    fills: tuple[Fill, ...]
    stops: tuple[StopOrder, ...]
    summary: CycleSummary
    exit_reason: str | None
    start_ts: int
    end_ts: int

    @property
    def entries(self) -> tuple[Fill, ...]:
        return tuple(f for f in self.fills if f.side == self.entry_side)

    @property
    def exits(self) -> tuple[Fill, ...]:
        return tuple(f for f in self.fills if f.side != self.entry_side)

    @property
    def traded(self) -> bool:
        """Whether anything was entered: a cycle whose rungs all ended unfilled is no trade."""
        return self.summary.bought > 0

    @property
    def entry_ts(self) -> int | None:
        """The first entry fill's time: where the holding time starts."""
        return min((f.fillTime for f in self.entries), default=None)

    @property
    def holding_ms(self) -> int:
        """From the first entry fill to the last exit fill (0 when nothing was entered)."""
        entry = self.entry_ts
        return 0 if entry is None else max(self.end_ts - entry, 0)

    @property
    def realized_pnl(self) -> Decimal:
        """Net of fees, in the settle currency; 0 when neither the intent (the contract value) nor the
        archive record (a cycle archived before cycles carried their results) says."""
        return self.summary.realized_pnl if self.summary.realized_pnl is not None else Decimal("0")


@dataclass
class _Intent:
    signal: Signal
    ct_val: Decimal | None
    side: str | None
    ts: int


class _Assembly:
    """Pairs each archive record with the intent record before it, as the records come."""

    def __init__(self) -> None:
        self.cycles: list[Cycle] = []
        self._intent: _Intent | None = None

    def add(self, kind: str, ts: int, data: dict[str, Any]) -> None:
        if kind == "intent":
            self._intent = _intent(data, ts)
        elif kind == "archive":
            intent = self._intent if self._intent is not None and _is_of(data, self._intent) else None
            self.cycles.append(_cycle(data, ts, intent))
            self._intent = None


_WANTED = ("intent", "archive")
_MARKS = tuple(f'"kind":"{kind}"'.encode() for kind in _WANTED)  # as canonical JSON writes the key


def read_cycles(journal: Path) -> list[Cycle]:
    """Every archived cycle in the journal, oldest first, every record verified against the chain
    (what `report` does); none when there is no journal yet."""
    assembly = _Assembly()
    if journal.exists():
        for record in JournalReader(journal):
            if record.kind in _WANTED:
                assembly.add(record.kind, record.ts, record.data)
    return assembly.cycles


class CycleScan:
    """The finished cycles of a journal for `status` and `watch`, whose store has verified the journal
    from its checkpoint already: only the intent and archive lines are parsed (found by their kind in
    the canonical line), and a second call reads only the whole lines appended since the first (watch
    refreshes every few seconds over journals of years). A file that vanished or shrank (moved away,
    repaired) starts the scan over."""

    def __init__(self, journal: Path) -> None:
        self.journal = journal
        self._scanned: dict[Path, int] = {}  # bytes of whole lines scanned in each file
        self._assembly = _Assembly()

    def cycles(self) -> list[Cycle]:
        files = [path for path, _ in journal_files(self.journal) if path.exists()]
        if any(not path.exists() or path.stat().st_size < done for path, done in self._scanned.items()):
            self._scanned, self._assembly = {}, _Assembly()
        for path in files:
            self._scan(path)
        return list(self._assembly.cycles)

    def _scan(self, path: Path) -> None:
        offset = self._scanned.get(path, 0)
        with path.open("rb") as handle:
            handle.seek(offset)
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # being appended now (or torn: the store refuses that): read next time
                offset += len(line)
                if any(mark in line for mark in _MARKS):
                    self._add(path, line)
        self._scanned[path] = offset

    def _add(self, path: Path, line: bytes) -> None:
        try:
            obj = load_line(line[:-1])
        except NotJson as exc:
            raise JournalChainBroken(path, None, f"a record that is not valid JSON ({exc})") from None
        if isinstance(obj, dict) and obj.get("kind") in _WANTED:  # not a "kind" nested in the data
            self._assembly.add(str(obj["kind"]), int(obj["ts"]), dict(obj["data"]))


def _intent(data: dict[str, Any], ts: int) -> _Intent:
    instrument = data.get("instrument") or {}
    payloads = data.get("payloads") or []
    ct_val = instrument.get("ctVal")
    return _Intent(
        signal=Signal.from_dict(data["signal"]),
        ct_val=Decimal(ct_val) if ct_val not in (None, "") else None,
        side=payloads[0].get("side") if payloads else None,
        ts=ts,
    )


def _is_of(archive: dict[str, Any], intent: _Intent) -> bool:
    """The cycle id is the clOrdId prefix and the signal candle's ts (render_intent names it so)."""
    return str(archive.get("cycle_id", "")).endswith(str(intent.signal.candle_ts))


def _cycle(data: dict[str, Any], ts: int, intent: _Intent | None) -> Cycle:
    rungs = tuple(Rung.from_dict(r) for r in data.get("rungs", []))
    fills = tuple(Fill.from_dict(f) for f in data.get("fills", []))
    stops = tuple(StopOrder.from_dict(s) for s in data.get("stops", []))
    side = _entry_side(intent, rungs, fills)
    ct_val = intent.ct_val if intent is not None else None
    summary = fills_summary(fills, ct_val, side)
    if summary.realized_pnl is None and (data.get("summary") or {}).get("realized_pnl") is not None:
        # No intent record to read the contract value from (moved away with an old segment): the
        # engine's own figure, computed by the same function when the cycle was archived.
        archived = Decimal(data["summary"]["realized_pnl"])
        summary = replace(summary, realized_pnl=archived)
    exits = [f.fillTime for f in fills if f.side != side]
    return Cycle(
        cycle_id=str(data.get("cycle_id")),
        entry_side=side,
        signal=intent.signal if intent is not None else None,
        ct_val=ct_val,
        rungs=rungs,
        fills=fills,
        stops=stops,
        summary=summary,
        exit_reason=data.get("exit_reason"),
        start_ts=intent.ts if intent is not None else min((r.submit_ts or ts for r in rungs), default=ts),
        end_ts=max(exits) if exits else ts,
    )


def _entry_side(intent: _Intent | None, rungs: tuple[Rung, ...], fills: tuple[Fill, ...]) -> str:
    """The ladder's side: the intent's payloads say it; else the rungs' payloads, else their fills."""
    if intent is not None and intent.side:
        return intent.side
    for rung in rungs:
        if rung.payload.get("side"):
            return str(rung.payload["side"])
    rung_ids = {r.clOrdId for r in rungs}
    return next((f.side for f in fills if f.clOrdId in rung_ids), "buy")
