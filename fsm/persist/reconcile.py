"""A state file checked against its journal: one streaming pass over the journal (from the state
file's checkpoint, or the whole chain), then the snapshot and cursor both agree on (the journal's
newest snapshot when it is ahead), or the refusal that says why they cannot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fsm.errors import JournalChainBroken, StateAheadOfJournal, StateCorrupt
from fsm.persist.chain import GENESIS, Cursor, JournalRecord
from fsm.persist.journal import Checkpoint, JournalReader, Tally
from fsm.persist.segments import journal_files
from fsm.persist.statefile import Identity, StateFile

IDENTITY_KEY = "identity"  # the journal data key that names the machine (see StateStore.commit_many)


@dataclass(frozen=True)
class JournalPass:
    """What one pass over the journal keeps for reconciling it with the state file.

    ``cursor`` and ``size`` are the journal's end (where the next append goes); ``last`` is its newest
    record that carries a snapshot (records after it, if any, are an interrupted unit's). ``full``
    says the pass read the whole chain (so ``tally`` counts every record), not from a checkpoint.
    """

    exists: bool
    cursor: Cursor
    size: int
    last: JournalRecord | None
    at_state_cursor: JournalRecord | None
    identity: Identity | None
    tally: Tally
    full: bool
    reader: JournalReader  # after its pass: the newest file (``active``), how many files it read


def scan_journal(journal_path: Path, state: StateFile | None, *, full: bool = False) -> JournalPass:
    """One streaming pass over the journal, keeping only what reconciling with the state needs: from
    the state file's checkpoint when it has one (unless ``full``), else from the first record."""
    tally = Tally()
    files = journal_files(journal_path)
    if not files[0][0].exists():
        return JournalPass(False, GENESIS, 0, None, None, None, tally, True, JournalReader(journal_path))
    state_seq = 0 if state is None else state.cursor.seq
    start = None
    if not full and state is not None and state.offset is not None and state_seq > 0:
        segment = state.segment or journal_path.name
        start = Checkpoint(state_seq, state.cursor.hash, state.offset, segment)
    reader = JournalReader(journal_path, start)
    last = at_state_cursor = None
    identity: Identity | None = None
    for record in reader:
        tally.add(record)
        if IDENTITY_KEY in record.data:
            identity = Identity.from_dict(record.data[IDENTITY_KEY])
            if identity is None:
                raise JournalChainBroken(journal_path, record.seq, f"data.{IDENTITY_KEY} is malformed")
        elif record.seq == 1 and reader.first_seq == 1:
            raise JournalChainBroken(journal_path, 1, f"the first record carries no data.{IDENTITY_KEY}")
        if record.seq == state_seq:
            at_state_cursor = record
        if record.state is not None:
            last = record
    return JournalPass(
        True, reader.cursor, reader.size, last, at_state_cursor, identity, tally, start is None, reader
    )


def reconcile(
    state_path: Path, state: StateFile | None, journal_path: Path, journal: JournalPass
) -> tuple[dict[str, Any] | None, Cursor]:
    """The snapshot and cursor the state file and journal agree on (the journal's if it is ahead)."""
    if state is None:
        return (None, GENESIS) if journal.last is None else (journal.last.state, journal.last.cursor)
    cursor = state.cursor
    if not journal.exists and cursor.seq > 0:
        raise JournalChainBroken(
            journal_path,
            None,
            f"it is missing but the state file {state_path} is at seq {cursor.seq}",
        )
    if cursor.seq > journal.cursor.seq:
        raise StateAheadOfJournal(journal_path, cursor.seq, journal.cursor.seq)
    at_cursor = journal.at_state_cursor
    if at_cursor is not None and at_cursor.hash != cursor.hash:
        raise JournalChainBroken(
            journal_path,
            cursor.seq,
            f"the state file {state_path} names hash {cursor.hash} for seq {cursor.seq}, "
            f"the journal has {at_cursor.hash}",
        )
    if at_cursor is not None and at_cursor.state != state.snapshot:
        raise StateCorrupt(state_path, f"its snapshot differs from journal record {cursor.seq}'s state")
    if journal.last is not None and cursor.seq < journal.last.seq:
        return journal.last.state, journal.last.cursor
    return state.snapshot, cursor
