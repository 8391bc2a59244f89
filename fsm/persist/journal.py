"""The append-only, hash-chained JSONL journal: the engine's write-ahead log and audit trail.

One record a line, each carrying the full state snapshot after its event, so recovery is
"take the last record's state". Records are written in canonical JSON (sorted keys, no spaces,
UTF-8), which makes journals byte-deterministic and lets a reader prove that no byte was changed:
each line must be the canonical encoding of its content, and its ``hash`` must be the sha256 of
that content without ``hash``, chained to the previous record through ``prev``.

A crash during an append can only leave an incomplete last line (a torn tail). That is reported,
never dropped or glued; ``repair_torn_tail`` moves the torn bytes aside. Anything else that is
wrong (a bad line before the last, a seq gap, a hash mismatch) is a broken chain and is refused.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from fsm.errors import JournalChainBroken, JournalTornTail

Event = tuple[str, Mapping[str, Any], Mapping[str, Any], int]  # kind, data, state after it, ts (ms)

KINDS: tuple[str, ...] = (
    "intent",
    "submit",
    "ack",
    "order",
    "fill",
    "cancel",
    "transition",
    "anomaly",
    "operator",
    "archive",
    "observe",
)
GENESIS_HASH = "0" * 64

_FIELDS = frozenset({"seq", "ts", "kind", "data", "state", "prev", "hash"})
_HEX = frozenset("0123456789abcdef")


def canonical_json(obj: Any) -> str:
    """The one JSON encoding the journal hashes and writes."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_hex_digest(value: object) -> bool:
    """True for a lowercase hex sha256 digest, the form of ``prev``, ``hash`` and cursors."""
    return isinstance(value, str) and len(value) == 64 and _HEX.issuperset(value)


@dataclass(frozen=True)
class Cursor:
    """A position in the journal: the last applied record's seq and hash (0 and 64 zeros before any)."""

    seq: int
    hash: str


GENESIS = Cursor(0, GENESIS_HASH)


@dataclass(frozen=True)
class JournalRecord:
    """One journal line, as written and as read back (data and state are plain JSON values)."""

    seq: int
    ts: int
    kind: str
    data: dict[str, Any]
    state: dict[str, Any]
    prev: str
    hash: str

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.seq, self.hash)


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


def _plain(value: object, where: str) -> Any:
    """A plain-JSON copy of ``value``, or TypeError naming where the first non-JSON value sits.

    Plain means it reads back equal: str keys only, finite floats only, tuples become lists.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{where}: {value!r} is not JSON-able")
        return float(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: key {key!r} is not a string")
            out[str.__str__(key)] = _plain(item, f"{where}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    hint = "; format Decimals as strings first" if isinstance(value, Decimal) else ""
    raise TypeError(f"{where}: {type(value).__name__} is not JSON-able{hint}")


def _canonical_record(
    data_json: str, kind: str, prev: str, seq: int, state_json: str, ts: int
) -> tuple[str, bytes]:
    """A record's hash and its line, from the canonical JSON of its data and state.

    Assembled by hand in exactly ``canonical_json``'s layout (keys sorted: data, hash, kind, prev,
    seq, state, ts) so that the big values are encoded once for both the hash and the line.
    UnicodeEncodeError if a string is not valid UTF-8 text (a lone surrogate).
    """
    tail = f',"kind":{canonical_json(kind)},"prev":"{prev}","seq":{seq},"state":{state_json},"ts":{ts}}}'
    digest = _sha256_hex('{"data":' + data_json + tail)
    return digest, f'{{"data":{data_json},"hash":"{digest}"{tail}\n'.encode()


def _encode(
    seq: int, ts: int, kind: str, data: Mapping[str, Any], state: Mapping[str, Any], prev: str
) -> tuple[JournalRecord, bytes]:
    """Build the record and its line; raises before any I/O if an input cannot be journaled."""
    if kind not in KINDS:
        raise ValueError(f"unknown journal kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not isinstance(ts, int) or isinstance(ts, bool):
        raise TypeError(f"ts must be an int of exchange milliseconds, not {type(ts).__name__}")
    if ts < 0:
        raise ValueError(f"ts must not be negative, got {ts}")
    for name, value in (("data", data), ("state", state)):
        if not isinstance(value, Mapping):
            raise TypeError(f"{name} must be a mapping, not {type(value).__name__}")
    plain_data, plain_state = _plain(data, "data"), _plain(state, "state")
    ts = int(ts)
    try:
        digest, line = _canonical_record(
            canonical_json(plain_data), kind, prev, seq, canonical_json(plain_state), ts
        )
    except UnicodeEncodeError as exc:
        raise TypeError(f"text that is not valid UTF-8 cannot be journaled: {exc}") from None
    return JournalRecord(seq, ts, kind, plain_data, plain_state, prev, digest), line


class _NotJson(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not JSON")


def _load_line(line: bytes) -> Any:
    try:
        return json.loads(line.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _NotJson(str(exc)) from None


def _check_record(path: Path, lineno: int, obj: Any, line: bytes, after: Cursor) -> JournalRecord:
    """The record on ``line`` if it continues the chain after ``after``, else JournalChainBroken."""

    def broken(reason: str) -> JournalChainBroken:
        return JournalChainBroken(path, lineno, reason)

    if not isinstance(obj, dict) or set(obj) != _FIELDS:
        found = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise broken(f"not a journal record (found {found}, expected the fields {sorted(_FIELDS)})")
    seq, ts, kind, data, state = obj["seq"], obj["ts"], obj["kind"], obj["data"], obj["state"]
    if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(ts, int) or isinstance(ts, bool):
        raise broken("seq and ts must be integers")
    if kind not in KINDS:
        raise broken(f"unknown kind {kind!r}")
    if not isinstance(data, dict) or not isinstance(state, dict):
        raise broken("data and state must be JSON objects")
    if not is_hex_digest(obj["prev"]) or not is_hex_digest(obj["hash"]):
        raise broken("prev and hash must be lowercase hex sha256 digests")
    if seq != after.seq + 1:
        raise broken(f"seq {seq} where {after.seq + 1} was expected (a record is missing or out of order)")
    if obj["prev"] != after.hash:
        raise broken(f"prev does not match the hash of record {after.seq}")
    try:
        digest, canonical = _canonical_record(
            canonical_json(data), kind, obj["prev"], seq, canonical_json(state), ts
        )
    except UnicodeEncodeError:
        raise broken(f"record {seq} holds text that is not valid UTF-8 (a lone surrogate)") from None
    if digest != obj["hash"]:
        raise broken(f"record {seq} does not match its hash (its content was changed)")
    if canonical != line:
        raise broken(f"record {seq} is not in canonical form (its bytes were changed)")
    return JournalRecord(seq, ts, kind, data, state, obj["prev"], digest)


class JournalReader:
    """Streams a journal's records, verifying each against the chain as it goes.

    Iterating raises JournalChainBroken at the first record that does not continue the chain, and
    JournalTornTail at the end if the last line is incomplete (after yielding every good record).
    After a full pass, ``cursor`` and ``size`` describe the verified journal, ready to append to.
    Memory stays flat however long the journal is.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cursor = GENESIS
        self.size = 0

    def __iter__(self) -> Iterator[JournalRecord]:
        self.cursor, self.size = GENESIS, 0
        unparseable: tuple[int, int, str] | None = None  # line number, length, reason
        with self.path.open("rb") as handle:
            for lineno, line in enumerate(handle, start=1):
                if unparseable is not None:
                    bad_line, _, reason = unparseable
                    raise JournalChainBroken(self.path, bad_line, f"not valid JSON ({reason})")
                if not line.endswith(b"\n"):
                    raise JournalTornTail(self.path, self.size, len(line))
                try:
                    obj = _load_line(line[:-1])
                except _NotJson as exc:
                    unparseable = (lineno, len(line), str(exc))  # torn if it is the last line
                    continue
                record = _check_record(self.path, lineno, obj, line, self.cursor)
                self.cursor = record.cursor
                self.size += len(line)
                yield record
        if unparseable is not None:
            raise JournalTornTail(self.path, self.size, unparseable[1])


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


def fsync_directory(directory: Path) -> None:
    """Make a created, renamed or removed directory entry durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
        """Append one record durably; TypeError or ValueError (nothing written) for bad input."""
        return self.append_many([(kind, data, state, ts_ms)])[-1]

    def append_many(self, events: Sequence[Event]) -> list[JournalRecord]:
        """Append records durably as one unit: one write, one fsync (a killed process leaves all of
        them or none). TypeError or ValueError (nothing written) for bad input."""
        if not events:
            return []
        if self._failed:
            raise OSError(
                errno.EIO,
                f"an earlier append to journal {self.path} failed; reopen the store to re-check the journal",
            )
        records: list[JournalRecord] = []
        lines: list[bytes] = []
        cursor = self._cursor
        for kind, data, state, ts_ms in events:
            record, line = _encode(cursor.seq + 1, ts_ms, kind, data, state, cursor.hash)
            records.append(record)
            lines.append(line)
            cursor = record.cursor
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
