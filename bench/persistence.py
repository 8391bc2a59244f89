"""The journal's side of `make bench`: store-open time by journal length, verify-log speed against
a read+parse+sha256 floor, and bytes per record.

Journals are built from a real one: the records of `okx-fsm demo` (kinds, data and snapshots as the
engine writes them), repeated in units of five (a busy tick) until the journal is long enough.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from fsm.persist.journal import read_journal, verify_journal
from fsm.persist.statefile import Identity
from fsm.persist.store import StateStore

IDENTITY = Identity("bench", "ETH-USDT-SWAP", "15m", "0" * 64)
UNIT = 5


def demo_records(journal: Path) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """(kind, data, snapshot) of every record of a journal, identity removed."""
    out = []
    for r in read_journal(journal).records:
        data = {k: v for k, v in r.data.items() if k != "identity"}
        out.append((r.kind, data, r.state))
    return out


def build_store(path: Path, records: int, template: list[tuple[str, dict[str, Any], Any]]) -> None:
    """A store of `records` records, committed in units of UNIT as the engine commits them. Building
    skips fsync (the bytes are the same; only their durability, irrelevant here, differs)."""
    snapshots = [s for _, _, s in template if s is not None]
    real_fsync, os.fsync = os.fsync, lambda fd: None
    try:
        _commit_units(path, records, template, snapshots)
    finally:
        os.fsync = real_fsync


def _commit_units(path: Path, records: int, template: list[Any], snapshots: list[Any]) -> None:
    with StateStore(path, IDENTITY) as store:
        store.open()
        written = 0
        while written < records:
            take = min(UNIT, records - written)
            events = [
                (template[(written + i) % len(template)][0], template[(written + i) % len(template)][1], i)
                for i in range(take)
            ]
            store.commit_many(events, snapshots[(written // UNIT) % len(snapshots)])
            written += take


def open_seconds(path: Path, repeats: int = 5) -> float:
    """Median wall time of opening the store (lock, checkpoint, verify the tail, close)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        with StateStore(path, IDENTITY) as store:
            store.open()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def verify_rate(journal: Path) -> tuple[float, float]:
    """verify-log's records/s and the floor's (read each line, parse it, sha256 it), best of three."""

    def floor() -> int:
        count = 0
        with journal.open("rb") as handle:
            for line in handle:
                json.loads(line)
                hashlib.sha256(line).digest()
                count += 1
        return count

    def verify() -> int:
        return verify_journal(journal).records

    rates = []
    for run in (verify, floor):
        best = min(_timed(run) for _ in range(3))
        rates.append(best)
    records = verify()
    return records / rates[0], records / rates[1]


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def bytes_per_record(journal: Path) -> float:
    lines = journal.read_bytes().count(b"\n")
    return journal.stat().st_size / max(lines, 1)
