"""The state file, its journal and its lock: where a machine's state survives a crash.

``<name>.json`` holds the latest snapshot and the journal cursor it reflects (a checkpoint: seq,
hash, byte offset); ``<name>.jsonl`` is the journal; ``<name>.json.lock`` is the one-runner lock. A
commit appends a unit to the journal (one write, one fsync) and only then replaces the state file,
so the journal is never behind the state: on open, the journal after the checkpoint is verified and,
when it is ahead, rolled forward; anything that disagrees is refused untouched. Opening costs the
same however long the journal is; ``inspect(full=True)`` (verify-log) reads the whole chain once.
``inspect()`` makes the same checks without the lock and without writing, for read-only commands.
The snapshot is an opaque JSON-able dict (the typed model lives in ``fsm.engine.state``). The state
file's format is in ``fsm.persist.statefile``, its checks against the journal in ``fsm.persist.reconcile``.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from fsm.errors import JournalTornTail, StateLocked, StateMismatch
from fsm.persist.chain import GENESIS, Cursor, JournalRecord
from fsm.persist.durable import move_aside, remove_stale_temp_files
from fsm.persist.journal import Event, JournalWriter, VerifyReport, first_day, repair_torn_tail
from fsm.persist.reconcile import IDENTITY_KEY, JournalPass, reconcile, scan_journal
from fsm.persist.statefile import Identity, StateFile, read_state_file, write_state_file

__all__ = ["Identity", "Inspection", "Repair", "StateStore"]  # Identity: fsm.engine imports it from here

Segments = Literal["cycle", "day"] | None
DAY_MS = 86_400_000
CYCLE_START = "intent"  # the record kind a cycle begins with

# A torn tail seen without the lock may be a runner's append in progress: read again while it grows.
_TORN_TAIL_READS = 3
_APPEND_SETTLE_S = 0.05


@dataclass(frozen=True)
class Inspection:
    """The state file and journal, verified and reconciled as ``open()`` would, read-only.

    ``snapshot`` and ``cursor`` are what ``open()`` would return and reach: the journal's newest
    snapshot when the journal is ahead of the state file. ``state_file_cursor`` is None without a
    state file; ``journal_end`` is the journal's last record (None without a journal); ``journal``
    summarises the whole chain, and only a full inspection reads it (None otherwise).
    """

    snapshot: dict[str, Any] | None
    cursor: Cursor
    state_file_cursor: Cursor | None
    journal_end: Cursor | None
    journal: VerifyReport | None

    @property
    def journal_ahead_by(self) -> int:
        """How many records the next ``open()`` rolls the state file forward by (its ``rolled_forward``)."""
        return self.cursor.seq - (0 if self.state_file_cursor is None else self.state_file_cursor.seq)


@dataclass(frozen=True)
class Repair:
    """What ``StateStore.repair`` moved aside (nothing is deleted) and what the journal holds after it."""

    torn_tail: Path | None  # where the torn last line's bytes went
    torn_bytes: int
    state_file: Path | None  # where a state file ahead of the journal went
    state_file_seq: int | None  # the seq the state file was at (None without one)
    journal_end: Cursor  # the journal's last record
    snapshot_seq: int | None  # the journal's newest snapshot, which the next open starts from


class StateStore:
    """One machine's state file, journal and lock. Call ``open()`` before ``commit()``.

    Usable as a context manager that closes (releases the lock) on exit:
    ``with StateStore(path, identity) as store: snapshot = store.open()``.
    """

    def __init__(
        self,
        state_path: Path,
        identity: Identity,
        *,
        allow_spec_change: bool = False,
        segments: Segments = None,
        durable: bool = True,
    ) -> None:
        if state_path.suffix != ".json":
            raise ValueError(f"state file {state_path} must end in .json")
        self.state_path = state_path
        self.journal_path = state_path.with_suffix(".jsonl")
        self.lock_path = state_path.with_name(state_path.name + ".lock")
        self.identity = identity
        self.allow_spec_change = allow_spec_change
        self.durable = durable  # fsync journal and state file (a replay's, made again at will, do not)
        self.rolled_forward = 0
        self.cleaned_temp_files = 0
        self.spec_changed_from: str | None = None
        self._lock_fd: int | None = None
        self._writer: JournalWriter | None = None
        self._journal_identity: Identity | None = None
        self._cursor = GENESIS
        self.segments = segments  # roll the journal into a new segment per cycle, per UTC day, or never
        self._segment_day: int | None = None  # the UTC day of the newest segment's first record

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
            self.cleaned_temp_files = remove_stale_temp_files(self.state_path)
            return snapshot
        except BaseException:
            self.close()
            raise

    def inspect(self, *, full: bool = False) -> Inspection:
        """Verify the state file against the journal without the lock, writing nothing: after the
        checkpoint as ``open()`` does, or (``full``) the whole chain in one pass.

        Refuses as ``open()`` does (except StateLocked: a runner may hold the lock). The state file
        is read before the journal, which is never behind it; a torn tail that grows while waiting a
        moment is a runner's append in progress, and is read again.
        """
        for _ in range(_TORN_TAIL_READS - 1):
            try:
                return self._inspect_once(full)
            except JournalTornTail as torn:
                time.sleep(_APPEND_SETTLE_S)
                if self._journal_size() == torn.offset + torn.length:
                    raise
        return self._inspect_once(full)

    def commit(
        self, kind: str, data: Mapping[str, Any], snapshot: Mapping[str, Any], ts_ms: int
    ) -> JournalRecord:
        """Journal one event with the snapshot after it (fsync), then replace the state file."""
        return self.commit_many([(kind, data, ts_ms)], snapshot)[-1]

    def commit_many(self, events: Sequence[Event], snapshot: Mapping[str, Any]) -> list[JournalRecord]:
        """Journal events as one unit (one write, one fsync), the last carrying ``snapshot`` (the state
        after them all), then replace the state file once.

        ``data`` must not use the key "identity": the store adds the machine's identity there on the
        first record and whenever the spec hash changed, so the journal alone can be checked. If
        replacing the state file fails, the records are already durable and the next open rolls the
        state forward to them.
        """
        if self._writer is None:
            raise RuntimeError(f"state store {self.state_path} is not open")
        if not events:
            return []
        if any(IDENTITY_KEY in data for _, data, _ in events):
            raise ValueError(f"{IDENTITY_KEY!r} is reserved in journal data")
        if self._journal_identity != self.identity:
            kind, data, ts_ms = events[0]
            events = [(kind, {**data, IDENTITY_KEY: asdict(self.identity)}, ts_ms), *events[1:]]
        day = events[0][2] // DAY_MS
        if self._segment_day is not None and (
            (self.segments == "day" and day != self._segment_day)
            or (self.segments == "cycle" and any(kind == CYCLE_START for kind, _, _ in events))
        ):
            self._writer.roll()  # this unit begins the next segment
        rolls = self._writer.rolls_next or self._segment_day is None
        records = self._writer.append_many(events, snapshot)
        if rolls:
            self._segment_day = day
        self._journal_identity = self.identity
        self._cursor = records[-1].cursor
        write_state_file(self.state_path, self.identity, records[-1], durable=self.durable)
        return records

    def peek(self) -> tuple[dict[str, Any], Cursor] | None:
        """The state file's snapshot and cursor without the lock or the journal: for read-only displays.

        Identity is still checked, so a display never shows another machine's state.
        """
        state = read_state_file(self.state_path)
        if state is None:
            return None
        self._check_identity(self.state_path, state.identity)
        return state.snapshot, state.cursor

    def repair(self) -> Repair:
        """Under the lock, leave files that open again, moving aside (never deleting) what stops them:
        a torn journal tail (see `journal.repair_torn_tail`), then a state file whose checkpoint the
        journal no longer holds, so the next open rebuilds the state from the journal's newest snapshot
        (what the lost records said is observed again from OKX).

        Raises ValueError when neither applies, and refuses (JournalChainBroken) a journal whose
        complete records do not form one chain, changing nothing.
        """
        if self._lock_fd is not None:
            return self._repair()
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock()
        try:
            return self._repair()
        finally:
            self.close()

    def _repair(self) -> Repair:
        torn: tuple[Path, int] | None = None
        try:
            journal = scan_journal(self.journal_path, None, full=True)
        except JournalTornTail as found:
            torn = (repair_torn_tail(self.journal_path), found.length)
            journal = scan_journal(self.journal_path, None, full=True)
        state = read_state_file(self.state_path)
        ahead = state is not None and state.cursor.seq > journal.cursor.seq
        if torn is None and not ahead:
            raise ValueError(
                f"journal {self.journal_path} has no torn tail and the state file is not ahead of it; "
                "nothing to repair"
            )
        return Repair(
            torn_tail=None if torn is None else torn[0],
            torn_bytes=0 if torn is None else torn[1],
            state_file=move_aside(self.state_path, "ahead") if ahead else None,
            state_file_seq=None if state is None else state.cursor.seq,
            journal_end=journal.cursor,
            snapshot_seq=None if journal.last is None else journal.last.seq,
        )

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
        self._writer = JournalWriter(
            journal.reader.active, journal.cursor, journal.size, base=self.journal_path, durable=self.durable
        )
        self._segment_day = first_day(journal.reader.active)
        # From a checkpoint the journal's identity is the state file's unless a later record changed it.
        self._journal_identity = journal.identity
        if journal.identity is None and not journal.full and state is not None:
            self._journal_identity = state.identity
        snapshot, cursor = reconcile(self.state_path, state, self.journal_path, journal)
        applied = cursor.seq - (0 if state is None else state.cursor.seq)
        if applied:
            assert journal.last is not None
            write_state_file(self.state_path, self.identity, journal.last)
            self.rolled_forward = applied
        self._cursor = cursor
        return snapshot

    def _inspect_once(self, full: bool) -> Inspection:
        state, journal = self._examine(full)
        snapshot, cursor = reconcile(self.state_path, state, self.journal_path, journal)
        report = journal.tally.report(self.journal_path, journal.reader) if journal.full else None
        return Inspection(
            snapshot=snapshot,
            cursor=cursor,
            state_file_cursor=None if state is None else state.cursor,
            journal_end=journal.cursor if journal.exists else None,
            journal=report if journal.exists else None,
        )

    def _examine(self, full: bool = False) -> tuple[StateFile | None, JournalPass]:
        """The state file, then the journal (after its checkpoint, or all of it), each checked to
        belong to this machine."""
        state = read_state_file(self.state_path)
        if state is not None:
            self._check_identity(self.state_path, state.identity)
        journal = scan_journal(self.journal_path, state, full=full)
        if journal.identity is not None:
            self._check_identity(self.journal_path, journal.identity)
        return state, journal

    def _journal_size(self) -> int | None:
        try:
            return self.journal_path.stat().st_size
        except FileNotFoundError:
            return None

    def _check_identity(self, path: Path, found: Identity) -> None:
        for name in ("strategy_id", "symbol", "bar", "spec_hash"):
            expected, recorded = getattr(self.identity, name), getattr(found, name)
            if expected == recorded:
                continue
            if name == "spec_hash" and self.allow_spec_change:
                self.spec_changed_from = recorded
                continue
            raise StateMismatch(path, name, expected, recorded)
