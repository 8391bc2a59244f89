"""The append-only, hash-chained JSONL journal: the engine's write-ahead log and audit trail.

One record a line: the event and its evidence. A unit of records (what one commit writes, with one
write and one fsync) ends with a record that also carries the state snapshot after it, so recovery is
"take the newest snapshot". The line format (both versions) and the chain each line must continue
are in ``fsm.persist.chain``. A reader may start at a checkpoint (a record the state file names, with
its byte offset) and verify only what follows it.

A crash during an append can only leave an incomplete last line (a torn tail). That is reported,
never dropped or glued; ``repair_torn_tail`` moves the torn bytes aside. Anything else that is
wrong (a bad line before the last, a seq gap, a hash mismatch) is a broken chain and is refused.
"""

from __future__ import annotations

import errno
import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsm.errors import JournalChainBroken, JournalTornTail
from fsm.persist.chain import GENESIS, Cursor, JournalRecord, NotJson, check_record, encode_record, load_line
from fsm.persist.durable import fsync_directory

Event = tuple[str, Mapping[str, Any], int]  # kind, data, ts (exchange ms)


@dataclass(frozen=True)
class Checkpoint:
    """A record known to be verified: its seq, hash and the byte offset where its line starts."""

    seq: int
    hash: str
    offset: int


@dataclass(frozen=True)
class JournalScan:
    """A journal read and verified end to end; ``size`` is its length in bytes."""

    path: Path
    records: tuple[JournalRecord, ...]
    size: int

    @property
    def cursor(self) -> Cursor:
        return self.records[-1].cursor if self.records else GENESIS

    @property
    def last_seq(self) -> int:
        return self.cursor.seq

    @property
    def last_hash(self) -> str:
        return self.cursor.hash


@dataclass(frozen=True)
class VerifyReport:
    """What ``okx-fsm verify-log`` shows for a journal whose chain holds."""

    path: Path
    records: int
    last_seq: int
    last_hash: str
    first_ts: int | None
    last_ts: int | None
    kinds: dict[str, int]


class JournalReader:
    """Streams a journal's records, verifying each against the chain as it goes.

    Iterating raises JournalChainBroken at the first record that does not continue the chain, and
    JournalTornTail at the end if the last line is incomplete (after yielding every good record).
    After a full pass, ``cursor`` and ``size`` describe the verified journal, ready to append to.
    Memory stays flat however long the journal is. From a ``start`` checkpoint it reads only the
    checkpoint's record (which must be there, as named) and what follows it.
    """

    def __init__(self, path: Path, start: Checkpoint | None = None) -> None:
        self.path = path
        self.start = start
        self.cursor = GENESIS
        self.size = 0

    def __iter__(self) -> Iterator[JournalRecord]:
        self.cursor, self.size = GENESIS, 0
        unparseable: tuple[int, int, str] | None = None  # line number, length, reason
        first = 1 if self.start is None else self.start.seq
        with self.path.open("rb") as handle:
            if self.start is not None:
                self.size = self.start.offset
                handle.seek(self.start.offset)
                yield self._checkpoint_record(handle.readline())
            for lineno, line in enumerate(handle, start=first + (self.start is not None)):
                if unparseable is not None:
                    bad_line, _, reason = unparseable
                    raise JournalChainBroken(self.path, bad_line, f"not valid JSON ({reason})")
                if not line.endswith(b"\n"):
                    raise JournalTornTail(self.path, self.size, len(line))
                try:
                    obj = load_line(line[:-1])
                except NotJson as exc:
                    unparseable = (lineno, len(line), str(exc))  # torn if it is the last line
                    continue
                record = check_record(self.path, lineno, obj, line, self.cursor, self.size)
                self.cursor = record.cursor
                self.size += len(line)
                yield record
        if unparseable is not None:
            raise JournalTornTail(self.path, self.size, unparseable[1])

    def _checkpoint_record(self, line: bytes) -> JournalRecord:
        """The record at the checkpoint, verified on its own bytes and matched to the checkpoint."""
        start = self.start
        assert start is not None

        def refuse(why: str) -> JournalChainBroken:
            return JournalChainBroken(
                self.path,
                start.seq,
                f"the state file's checkpoint (seq {start.seq} at byte {start.offset}) {why}",
            )

        if not line:
            raise JournalChainBroken(
                self.path, None, f"the state file is at seq {start.seq}, ahead of the journal's end"
            )
        try:
            obj = load_line(line[:-1]) if line.endswith(b"\n") else None
        except NotJson:
            obj = None
        if isinstance(obj, dict) and obj.get("seq") == start.seq and obj.get("hash") != start.hash:
            raise JournalChainBroken(
                self.path,
                start.seq,
                f"the state file names hash {start.hash} for seq {start.seq}, "
                f"the journal has {obj.get('hash')}",
            )
        if not isinstance(obj, dict) or obj.get("seq") != start.seq:
            raise refuse("does not match the journal there")
        prev = obj.get("prev")
        if not isinstance(prev, str):
            raise refuse("names a record without prev")
        record = check_record(self.path, start.seq, obj, line, Cursor(start.seq - 1, prev), start.offset)
        self.cursor = record.cursor
        self.size += len(line)
        return record


def read_journal(path: Path) -> JournalScan:
    """Read and verify the whole journal; JournalTornTail or JournalChainBroken if it does not hold."""
    reader = JournalReader(path)
    records = tuple(reader)
    return JournalScan(path, records, reader.size)


@dataclass
class Tally:
    """Counts the records a verified pass yields, to summarise them as a VerifyReport."""

    kinds: Counter[str] = field(default_factory=Counter)
    first_ts: int | None = None
    last_ts: int | None = None

    def add(self, record: JournalRecord) -> None:
        self.kinds[record.kind] += 1
        self.first_ts = record.ts if self.first_ts is None else self.first_ts
        self.last_ts = record.ts

    def report(self, path: Path, cursor: Cursor) -> VerifyReport:
        """The summary of a journal whose verified pass ended at ``cursor``."""
        return VerifyReport(
            path=path,
            records=cursor.seq,
            last_seq=cursor.seq,
            last_hash=cursor.hash,
            first_ts=self.first_ts,
            last_ts=self.last_ts,
            kinds=dict(sorted(self.kinds.items())),
        )


def verify_journal(path: Path) -> VerifyReport:
    """Verify the journal's chain and summarise it; raises as ``read_journal`` does."""
    tally = Tally()
    reader = JournalReader(path)
    for record in reader:
        tally.add(record)
    return tally.report(path, reader.cursor)


def repair_torn_tail(path: Path) -> Path:
    """Move a torn last line into ``<journal>.torn-<n>`` and truncate the journal before it.

    The torn bytes are saved and fsynced before the journal is cut, so a crash loses nothing.
    Refuses (JournalChainBroken) if the complete records do not form a chain, and raises
    ValueError if there is no torn tail. Hold the state file's lock while calling it.
    """
    try:
        for _ in JournalReader(path):
            pass
    except JournalTornTail as torn:
        offset, length = torn.offset, torn.length
    else:
        raise ValueError(f"journal {path} has no torn tail; nothing to repair")
    with path.open("rb") as source:
        source.seek(offset)
        torn_bytes = source.read(length)
    n = 1
    while True:
        target = path.with_name(f"{path.name}.torn-{n}")
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:
            n += 1
    try:
        view = memoryview(torn_bytes)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_directory(path.parent)
    fd = os.open(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, offset)
        os.fsync(fd)
    finally:
        os.close(fd)
    return target


class JournalWriter:
    """Appends records to one journal: one ``os.write`` of the whole line, then ``os.fsync``.

    It continues after a verified read (pass the reader's ``cursor`` and ``size``; a new journal
    starts at GENESIS and 0) and checks before every append that the file is still the length it
    knows, so it never extends a journal that something else changed.
    """

    def __init__(self, path: Path, cursor: Cursor = GENESIS, size: int = 0) -> None:
        self.path = path
        self._cursor = cursor
        self._size = size
        self._fd: int | None = None
        self._failed = False

    @property
    def cursor(self) -> Cursor:
        return self._cursor

    def append(
        self, kind: str, data: Mapping[str, Any], state: Mapping[str, Any], ts_ms: int
    ) -> JournalRecord:
        """Append one record (a unit of one) durably; TypeError or ValueError (nothing written)."""
        return self.append_many([(kind, data, ts_ms)], state)[-1]

    def append_many(self, events: Sequence[Event], state: Mapping[str, Any]) -> list[JournalRecord]:
        """Append records durably as one unit, the last carrying ``state`` (the snapshot after them
        all): one write, one fsync. A killed process leaves all of them or none; a crash of the
        machine may cut the write at a line, leaving records without their snapshot, which recovery
        passes over (they were never applied: a unit is written before anything it records is sent).
        TypeError or ValueError (nothing written) for bad input."""
        if not events:
            return []
        if self._failed:
            raise OSError(
                errno.EIO,
                f"an earlier append to journal {self.path} failed; reopen the store to re-check the journal",
            )
        records: list[JournalRecord] = []
        lines: list[bytes] = []
        cursor, offset = self._cursor, self._size
        for i, (kind, data, ts_ms) in enumerate(events):
            snapshot = state if i == len(events) - 1 else None
            record, line = encode_record(cursor.seq + 1, ts_ms, kind, data, snapshot, cursor.hash, offset)
            records.append(record)
            lines.append(line)
            cursor, offset = record.cursor, offset + len(line)
        block = b"".join(lines)
        created = self._fd is None and not self.path.exists()
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        size = os.fstat(self._fd).st_size
        if size != self._size:
            self._failed = True
            raise JournalChainBroken(
                self.path,
                None,
                f"it is {size} bytes where {self._size} were written: something else changed it",
            )
        try:
            written = os.write(self._fd, block)
            if written != len(block):
                raise OSError(
                    errno.EIO, f"short write to journal {self.path}: {written} of {len(block)} bytes"
                )
            os.fsync(self._fd)
            if created:
                fsync_directory(self.path.parent)
        except OSError:
            self._failed = True
            raise
        self._size += len(block)
        self._cursor = cursor
        return records

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
