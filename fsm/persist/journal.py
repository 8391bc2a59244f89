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

from fsm.errors import JournalChainBroken, JournalTornTail, StateAheadOfJournal
from fsm.persist.chain import GENESIS, Cursor, JournalRecord, NotJson, check_record, encode_record, load_line
from fsm.persist.durable import claim_numbered, fsync_directory
from fsm.persist.segments import journal_files, segment_path

Event = tuple[str, Mapping[str, Any], int]  # kind, data, ts (exchange ms)


@dataclass(frozen=True)
class Checkpoint:
    """A record known to be verified: its seq, hash, the journal file it is in (a segment's name, or
    the base file's) and the byte offset where its line starts there."""

    seq: int
    hash: str
    offset: int
    segment: str


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
    segments: int = 1  # the files the chain runs across
    first_seq: int = 1  # above 1 when the oldest segments were moved away


class JournalReader:
    """Streams a journal's records, verifying each against the chain as it goes.

    Iterating raises JournalChainBroken at the first record that does not continue the chain, and
    JournalTornTail at the end if the last line is incomplete (after yielding every good record).
    After a full pass, ``cursor`` and ``size`` describe the verified journal, ready to append to.
    Memory stays flat however long the journal is. From a ``start`` checkpoint it reads only the
    checkpoint's record (which must be there, as named) and what follows it.
    """

    def __init__(self, path: Path, start: Checkpoint | None = None) -> None:
        self.path = path  # the base file; its segments (fsm.persist.segments) are read after it
        self.start = start
        self.cursor = GENESIS
        self.size = 0  # bytes verified in the newest file (where the next append goes)
        self.active = path  # the newest file read
        self.files = 0
        self.first_seq = 1

    def __iter__(self) -> Iterator[JournalRecord]:
        self.cursor, self.size, self.files, self.first_seq = GENESIS, 0, 0, 1
        files = journal_files(self.path)
        begin = 0
        if self.start is not None:
            names = [path.name for path, _ in files]
            if self.start.segment not in names:
                raise JournalChainBroken(
                    self.path,
                    None,
                    f"the state file's checkpoint is in {self.start.segment}, which is missing",
                )
            begin = names.index(self.start.segment)
        for i, (path, first) in enumerate(files[begin:], begin):
            yield from self._read_file(path, first, i == len(files) - 1, self.start if i == begin else None)

    def _read_file(
        self, path: Path, first: int, newest: bool, start: Checkpoint | None
    ) -> Iterator[JournalRecord]:
        """One file's records; a torn last line is a torn tail only in the newest file."""
        self.active, self.size = path, 0
        self.files += 1
        unparseable: tuple[int, int, str] | None = None  # line number, length, reason
        line_of_first = 1
        with path.open("rb") as handle:
            if start is not None:
                self.size = start.offset
                handle.seek(start.offset)
                yield self._checkpoint_record(handle.readline(), newest)
                line_of_first = start.seq - first + 2
            for lineno, line in enumerate(handle, start=line_of_first):
                if unparseable is not None:
                    bad_line, _, reason = unparseable
                    raise JournalChainBroken(path, bad_line, f"not valid JSON ({reason})")
                if not line.endswith(b"\n"):
                    if newest:
                        raise JournalTornTail(path, self.size, len(line))
                    raise JournalChainBroken(path, lineno, "an incomplete line where a later segment follows")
                try:
                    obj = load_line(line[:-1])
                except NotJson as exc:
                    unparseable = (lineno, len(line), str(exc))  # torn if it is the last line
                    continue
                if self.cursor == GENESIS and first > 1 and isinstance(obj, dict):
                    # The oldest files were moved away: the chain is verified from the first one here.
                    self.cursor, self.first_seq = Cursor(first - 1, str(obj.get("prev"))), first
                record = check_record(path, lineno, obj, line, self.cursor, self.size, path.name)
                self.cursor = record.cursor
                self.size += len(line)
                yield record
        if unparseable is not None:
            if newest:
                raise JournalTornTail(path, self.size, unparseable[1])
            raise JournalChainBroken(path, unparseable[0], f"not valid JSON ({unparseable[2]})")

    def _checkpoint_record(self, line: bytes, newest: bool) -> JournalRecord:
        """The record at the checkpoint, verified on its own bytes and matched to the checkpoint; cut
        short at the end of the newest file, it is a torn tail (so the refusal names `repair`)."""
        start = self.start
        assert start is not None

        def refuse(why: str) -> JournalChainBroken:
            return JournalChainBroken(
                self.active,
                start.seq,
                f"the state file's checkpoint (seq {start.seq} at byte {start.offset}) {why}",
            )

        if not line and newest:
            raise StateAheadOfJournal(self.active, start.seq, None)
        if not line:
            raise refuse("is past the end of the file, which a later segment follows")
        if newest and not line.endswith(b"\n"):
            raise JournalTornTail(self.active, start.offset, len(line))
        try:
            obj = load_line(line[:-1]) if line.endswith(b"\n") else None
        except NotJson:
            obj = None
        if isinstance(obj, dict) and obj.get("seq") == start.seq and obj.get("hash") != start.hash:
            raise JournalChainBroken(
                self.active,
                start.seq,
                f"the state file names hash {start.hash} for seq {start.seq}, "
                f"the journal has {obj.get('hash')}",
            )
        if not isinstance(obj, dict) or obj.get("seq") != start.seq:
            raise refuse("does not match the journal there")
        prev = obj.get("prev")
        if not isinstance(prev, str):
            raise refuse("names a record without prev")
        record = check_record(
            self.active, start.seq, obj, line, Cursor(start.seq - 1, prev), start.offset, start.segment
        )
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

    def report(self, path: Path, reader: JournalReader) -> VerifyReport:
        """The summary of a journal whose full verified pass ``reader`` made."""
        cursor = reader.cursor
        return VerifyReport(
            path=path,
            records=cursor.seq - reader.first_seq + 1 if cursor.seq else 0,
            last_seq=cursor.seq,
            last_hash=cursor.hash,
            first_ts=self.first_ts,
            last_ts=self.last_ts,
            kinds=dict(sorted(self.kinds.items())),
            segments=reader.files,
            first_seq=reader.first_seq,
        )


def verify_journal(path: Path) -> VerifyReport:
    """Verify the journal's chain and summarise it; raises as ``read_journal`` does."""
    tally = Tally()
    reader = JournalReader(path)
    for record in reader:
        tally.add(record)
    return tally.report(path, reader)


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
        path, offset, length = torn.path, torn.offset, torn.length  # the newest file of the journal
    else:
        raise ValueError(f"journal {path} has no torn tail; nothing to repair")
    with path.open("rb") as source:
        source.seek(offset)
        torn_bytes = source.read(length)
    target, fd = claim_numbered(
        path, "torn", lambda free: os.open(free, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    )
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

    def __init__(
        self,
        path: Path,
        cursor: Cursor = GENESIS,
        size: int = 0,
        *,
        base: Path | None = None,
        durable: bool = True,
    ) -> None:
        self.path = path  # the file appended to: the base file or its newest segment
        self.durable = durable  # fsync each append (a replay's journal, made again at will, skips it)
        self.base = base if base is not None else path
        self._cursor = cursor
        self._size = size
        self._fd: int | None = None
        self._failed = False
        self._roll = False

    @property
    def cursor(self) -> Cursor:
        return self._cursor

    def roll(self) -> None:
        """Start a new segment with the next append (the chain goes on in it)."""
        self._roll = self._cursor.seq > 0

    @property
    def rolls_next(self) -> bool:
        """Whether the next append starts a new segment."""
        return self._roll

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
        if self._roll:
            self.close()
            self.path, self._size, self._roll = segment_path(self.base, self._cursor.seq + 1), 0, False
        records: list[JournalRecord] = []
        lines: list[bytes] = []
        cursor, offset = self._cursor, self._size
        for i, (kind, data, ts_ms) in enumerate(events):
            snapshot = state if i == len(events) - 1 else None
            record, line = encode_record(
                cursor.seq + 1, ts_ms, kind, data, snapshot, cursor.hash, offset, self.path.name
            )
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
            if self.durable:
                os.fsync(self._fd)
            if created and self.durable:
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


def first_day(path: Path) -> int | None:
    """The UTC day (exchange ms // one day) of a journal file's first record, None if it has none."""
    try:
        with path.open("rb") as handle:
            line = handle.readline()
        return int(load_line(line[:-1])["ts"]) // 86_400_000 if line.endswith(b"\n") else None
    except (OSError, NotJson, KeyError, TypeError, ValueError):
        return None
