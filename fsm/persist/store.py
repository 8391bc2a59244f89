"""The state file, its journal and its lock: where a machine's state survives a crash.

``<name>.json`` holds the latest snapshot and the journal cursor it reflects; ``<name>.jsonl`` is
the journal; ``<name>.json.lock`` is the one-runner lock. A commit appends to the journal (fsync)
and only then replaces the state file, so the journal is never behind the state: on open, a
journal that is ahead is rolled forward, and anything else that disagrees is refused untouched.
``inspect()`` makes the same checks without the lock and without writing, for read-only commands.
The snapshot is an opaque JSON-able dict (the typed model lives in ``fsm.engine.state``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from types import TracebackType
from typing import Any

from fsm.errors import JournalChainBroken, JournalTornTail, StateCorrupt, StateLocked, StateMismatch
from fsm.persist.journal import (
    GENESIS,
    Cursor,
    Event,
    JournalReader,
    JournalRecord,
    JournalWriter,
    Tally,
    VerifyReport,
    fsync_directory,
    is_hex_digest,
    repair_torn_tail,
)

SCHEMA_VERSION = 1
_IDENTITY_KEY = "identity"
_STATE_KEYS = frozenset({"schema_version", "identity", "cursor", "snapshot"})
_TEMP_SUFFIX = ".tmp"
# A torn tail seen without the lock may be a runner's append in progress: read again while it grows.
_TORN_TAIL_READS = 3
_APPEND_SETTLE_S = 0.05


@dataclass(frozen=True)
class Identity:
    """Which machine a state file belongs to; a different one is refused."""

    strategy_id: str
    symbol: str
    bar: str
    spec_hash: str

    @classmethod
    def from_dict(cls, value: object) -> Identity | None:
        """The identity stored in a state file or journal, or None if it is malformed."""
        names = [field.name for field in fields(cls)]
        if not isinstance(value, dict) or sorted(value) != sorted(names):
            return None
        if not all(isinstance(value[name], str) for name in names):
            return None
        return cls(**{name: value[name] for name in names})


@dataclass(frozen=True)
class _StateFile:
    identity: Identity
    cursor: Cursor
    snapshot: dict[str, Any]


@dataclass(frozen=True)
class _JournalPass:
    exists: bool
    cursor: Cursor
    size: int
    last: JournalRecord | None
    at_state_cursor: JournalRecord | None
    identity: Identity | None
    tally: Tally


@dataclass(frozen=True)
class Inspection:
    """The state file and journal, verified and reconciled as ``open()`` would, read-only.

    ``snapshot`` and ``cursor`` are what ``open()`` would return and reach: the journal's newest
    record when the journal is ahead of the state file. ``state_file_cursor`` is None without a
    state file, ``journal`` None without a journal.
    """

    snapshot: dict[str, Any] | None
    cursor: Cursor
    state_file_cursor: Cursor | None
    journal: VerifyReport | None

    @property
    def journal_ahead_by(self) -> int:
        """How many records the next ``open()`` rolls the state file forward by (its ``rolled_forward``)."""
        return self.cursor.seq - (0 if self.state_file_cursor is None else self.state_file_cursor.seq)


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so a crash leaves the old file or the new one, never a mix.

    A process killed before the rename leaves ``.<name>.<random>.tmp``; ``StateStore.open`` removes it.
    """
    fd, temp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=_TEMP_SUFFIX, dir=path.parent)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(temp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    fsync_directory(path.parent)


class StateStore:
    """One machine's state file, journal and lock. Call ``open()`` before ``commit()``.

    Usable as a context manager that closes (releases the lock) on exit:
    ``with StateStore(path, identity) as store: snapshot = store.open()``.
    """

    def __init__(self, state_path: Path, identity: Identity, *, allow_spec_change: bool = False) -> None:
        if state_path.suffix != ".json":
            raise ValueError(f"state file {state_path} must end in .json")
        self.state_path = state_path
        self.journal_path = state_path.with_suffix(".jsonl")
        self.lock_path = state_path.with_name(state_path.name + ".lock")
        self.identity = identity
        self.allow_spec_change = allow_spec_change
        self.rolled_forward = 0
        self.cleaned_temp_files = 0
        self.spec_changed_from: str | None = None
        self._lock_fd: int | None = None
        self._writer: JournalWriter | None = None
        self._journal_identity: Identity | None = None
        self._cursor = GENESIS

    @property
    def cursor(self) -> Cursor:
        return self._cursor

    def __enter__(self) -> StateStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def open(self) -> dict[str, Any] | None:
        """Lock, load and reconcile with the journal; the snapshot, or None for a fresh machine.

        Once loaded, removes the temporary files an interrupted state write left behind (counted in
        ``cleaned_temp_files``, not journaled); only a lock holder writes them, so none is in use.
        Refusals (StateLocked, StateCorrupt, StateMismatch, JournalChainBroken, JournalTornTail)
        leave every file as it was and release the lock.
        """
        if self._lock_fd is not None:
            raise RuntimeError(f"state store {self.state_path} is already open")
        self.rolled_forward = 0
        self.cleaned_temp_files = 0
        self.spec_changed_from = None
        self._journal_identity = None
        self._cursor = GENESIS
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock()
        try:
            snapshot = self._load()
            self.cleaned_temp_files = self._remove_stale_temp_files()
            return snapshot
        except BaseException:
            self.close()
            raise

    def inspect(self) -> Inspection:
        """Verify the state file against the whole journal without the lock, writing nothing.

        Refuses as ``open()`` does (except StateLocked: a runner may hold the lock). The state file
        is read before the journal, which is never behind it; a torn tail that grows while waiting a
        moment is a runner's append in progress, and is read again.
        """
        for _ in range(_TORN_TAIL_READS - 1):
            try:
                return self._inspect_once()
            except JournalTornTail as torn:
                time.sleep(_APPEND_SETTLE_S)
                if self._journal_size() == torn.offset + torn.length:
                    raise
        return self._inspect_once()

    def commit(
        self, kind: str, data: Mapping[str, Any], snapshot: Mapping[str, Any], ts_ms: int
    ) -> JournalRecord:
        """Journal one event with the snapshot after it (fsync), then replace the state file."""
        return self.commit_many([(kind, data, snapshot, ts_ms)])[-1]

    def commit_many(self, events: Sequence[Event]) -> list[JournalRecord]:
        """Journal events as one unit (one write, one fsync), then replace the state file once.

        Each event carries the snapshot after it. ``data`` must not use the key "identity": the store
        adds the machine's identity there on the first record and whenever the spec hash changed, so
        the journal alone can be checked. If replacing the state file fails, the records are already
        durable and the next open rolls the state forward to them.
        """
        if self._writer is None:
            raise RuntimeError(f"state store {self.state_path} is not open")
        if not events:
            return []
        if any(_IDENTITY_KEY in data for _, data, _, _ in events):
            raise ValueError(f"{_IDENTITY_KEY!r} is reserved in journal data")
        if self._journal_identity != self.identity:
            kind, data, snapshot, ts_ms = events[0]
            events = [(kind, {**data, _IDENTITY_KEY: asdict(self.identity)}, snapshot, ts_ms), *events[1:]]
        records = self._writer.append_many(events)
        self._journal_identity = self.identity
        self._cursor = records[-1].cursor
        self._write_state(records[-1])
        return records

    def peek(self) -> tuple[dict[str, Any], Cursor] | None:
        """The state file's snapshot and cursor without the lock or the journal: for read-only displays.

        Identity is still checked, so a display never shows another machine's state.
        """
        state = self._read_state()
        if state is None:
            return None
        self._check_identity(self.state_path, state.identity)
        return state.snapshot, state.cursor

    def repair_torn_tail(self) -> Path:
        """Under the lock, move the journal's torn last line aside (see `journal.repair_torn_tail`)."""
        if self._lock_fd is not None:
            return repair_torn_tail(self.journal_path)
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock()
        try:
            return repair_torn_tail(self.journal_path)
        finally:
            self.close()

    def close(self) -> None:
        """Release the journal and the lock; safe to call twice."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    def _lock(self) -> None:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            raise StateLocked(
                self.state_path, self.lock_path, int(holder) if holder.isdigit() else None
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._lock_fd = fd

    def _load(self) -> dict[str, Any] | None:
        state, journal = self._examine()
        self._writer = JournalWriter(self.journal_path, journal.cursor, journal.size)
        self._journal_identity = journal.identity
        snapshot, cursor = self._reconcile(state, journal)
        applied = cursor.seq - (0 if state is None else state.cursor.seq)
        if applied:
            assert journal.last is not None
            self._write_state(journal.last)
            self.rolled_forward = applied
        self._cursor = cursor
        return snapshot

    def _inspect_once(self) -> Inspection:
        state, journal = self._examine()
        snapshot, cursor = self._reconcile(state, journal)
        return Inspection(
            snapshot=snapshot,
            cursor=cursor,
            state_file_cursor=None if state is None else state.cursor,
            journal=journal.tally.report(self.journal_path, journal.cursor) if journal.exists else None,
        )

    def _examine(self) -> tuple[_StateFile | None, _JournalPass]:
        """The state file, then the journal, each checked to belong to this machine."""
        state = self._read_state()
        if state is not None:
            self._check_identity(self.state_path, state.identity)
        journal = self._read_journal(state.cursor.seq if state is not None else 0)
        if journal.identity is not None:
            self._check_identity(self.journal_path, journal.identity)
        return state, journal

    def _reconcile(
        self, state: _StateFile | None, journal: _JournalPass
    ) -> tuple[dict[str, Any] | None, Cursor]:
        """The snapshot and cursor the state file and journal agree on (the journal's if it is ahead)."""
        if state is None:
            return (None, GENESIS) if journal.last is None else (journal.last.state, journal.cursor)
        cursor = state.cursor
        if not journal.exists and cursor.seq > 0:
            raise JournalChainBroken(
                self.journal_path,
                None,
                f"it is missing but the state file {self.state_path} is at seq {cursor.seq}",
            )
        if cursor.seq > journal.cursor.seq:
            raise JournalChainBroken(
                self.journal_path,
                None,
                f"the state file {self.state_path} is at seq {cursor.seq}, ahead of the journal's last seq "
                f"{journal.cursor.seq}",
            )
        at_cursor = journal.at_state_cursor
        if at_cursor is not None and at_cursor.hash != cursor.hash:
            raise JournalChainBroken(
                self.journal_path,
                cursor.seq,
                f"the state file {self.state_path} names hash {cursor.hash} for seq {cursor.seq}, "
                f"the journal has {at_cursor.hash}",
            )
        if at_cursor is not None and at_cursor.state != state.snapshot:
            raise StateCorrupt(
                self.state_path, f"its snapshot differs from journal record {cursor.seq}'s state"
            )
        if cursor.seq < journal.cursor.seq:
            assert journal.last is not None
            return journal.last.state, journal.cursor
        return state.snapshot, cursor

    def _read_journal(self, state_seq: int) -> _JournalPass:
        """One streaming pass over the journal, keeping only what reconciling with the state needs."""
        tally = Tally()
        if not self.journal_path.exists():
            return _JournalPass(False, GENESIS, 0, None, None, None, tally)
        reader = JournalReader(self.journal_path)
        last = at_state_cursor = None
        identity: Identity | None = None
        for record in reader:
            tally.add(record)
            if _IDENTITY_KEY in record.data:
                identity = Identity.from_dict(record.data[_IDENTITY_KEY])
                if identity is None:
                    raise JournalChainBroken(
                        self.journal_path, record.seq, f"data.{_IDENTITY_KEY} is malformed"
                    )
            elif record.seq == 1:
                raise JournalChainBroken(
                    self.journal_path, 1, f"the first record carries no data.{_IDENTITY_KEY}"
                )
            if record.seq == state_seq:
                at_state_cursor = record
            last = record
        return _JournalPass(True, reader.cursor, reader.size, last, at_state_cursor, identity, tally)

    def _journal_size(self) -> int | None:
        try:
            return self.journal_path.stat().st_size
        except FileNotFoundError:
            return None

    def _remove_stale_temp_files(self) -> int:
        """Delete the temp files of this state file that an interrupted write left; only under the lock."""
        name = re.compile(
            re.escape(_temp_prefix(self.state_path)) + "[A-Za-z0-9_]+" + re.escape(_TEMP_SUFFIX)
        )
        removed = 0
        with os.scandir(self.state_path.parent) as entries:
            for entry in entries:
                if name.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                        removed += 1
        if removed:
            fsync_directory(self.state_path.parent)
        return removed

    def _read_state(self) -> _StateFile | None:
        """The state file's identity, cursor and snapshot; None if absent, StateCorrupt if unusable."""
        try:
            raw = self.state_path.read_bytes()
        except FileNotFoundError:
            return None

        def corrupt(reason: str) -> StateCorrupt:
            return StateCorrupt(self.state_path, reason)

        try:
            document = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise corrupt(f"it is not JSON ({exc})") from None
        if not isinstance(document, dict) or set(document) != _STATE_KEYS:
            found = sorted(document) if isinstance(document, dict) else type(document).__name__
            raise corrupt(f"wrong shape (found {found}, expected the keys {sorted(_STATE_KEYS)})")
        version = document["schema_version"]
        if version != SCHEMA_VERSION or isinstance(version, bool):
            raise corrupt(f"unknown schema_version {version!r} (this engine reads {SCHEMA_VERSION})")
        identity = Identity.from_dict(document["identity"])
        if identity is None:
            raise corrupt("identity must hold the strings strategy_id, symbol, bar and spec_hash")
        raw_cursor = document["cursor"]
        if not (
            isinstance(raw_cursor, dict)
            and set(raw_cursor) == {"seq", "hash"}
            and isinstance(raw_cursor["seq"], int)
            and not isinstance(raw_cursor["seq"], bool)
            and raw_cursor["seq"] >= 0
            and is_hex_digest(raw_cursor["hash"])
        ):
            raise corrupt("cursor must be {seq: int >= 0, hash: hex sha256}")
        cursor = Cursor(raw_cursor["seq"], raw_cursor["hash"])
        if cursor.seq == 0 and cursor != GENESIS:
            raise corrupt("cursor at seq 0 must carry the genesis hash (64 zeros)")
        if not isinstance(document["snapshot"], dict):
            raise corrupt("snapshot must be a JSON object")
        return _StateFile(identity, cursor, document["snapshot"])

    def _check_identity(self, path: Path, found: Identity) -> None:
        for name in ("strategy_id", "symbol", "bar", "spec_hash"):
            expected, recorded = getattr(self.identity, name), getattr(found, name)
            if expected == recorded:
                continue
            if name == "spec_hash" and self.allow_spec_change:
                self.spec_changed_from = recorded
                continue
            raise StateMismatch(path, name, expected, recorded)

    def _write_state(self, record: JournalRecord) -> None:
        document = {
            "schema_version": SCHEMA_VERSION,
            "identity": asdict(self.identity),
            "cursor": asdict(record.cursor),
            "snapshot": record.state,
        }
        text = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
        atomic_write(self.state_path, text.encode("utf-8"))
