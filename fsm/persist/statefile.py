"""The state file: which machine it belongs to, the journal cursor it reflects, the snapshot, and
how it is read (every field checked) and written (atomically).

Schema 2 (written now) adds to the cursor the byte offset where the cursor's record starts in the
journal: a verified checkpoint, so opening the store reads only the journal after it. Schema 1 files
(no offset) are still read; the store then verifies the whole journal, once, and writes schema 2.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from fsm.errors import StateCorrupt
from fsm.persist.chain import GENESIS, Cursor, JournalRecord, is_hex_digest
from fsm.persist.durable import atomic_write

SCHEMA_VERSION = 2
_READ_VERSIONS = (1, SCHEMA_VERSION)
_STATE_KEYS = frozenset({"schema_version", "identity", "cursor", "snapshot"})


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
class StateFile:
    """What a state file holds."""

    identity: Identity
    cursor: Cursor
    snapshot: dict[str, Any]
    offset: int | None  # where the cursor's record starts in the journal; None in a schema 1 file
    segment: str | None = None  # the journal file that record is in, when not the base file


def read_state_file(path: Path) -> StateFile | None:
    """The state file's identity, cursor and snapshot; None if absent, StateCorrupt if unusable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None

    def corrupt(reason: str) -> StateCorrupt:
        return StateCorrupt(path, reason)

    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise corrupt(f"it is not JSON ({exc})") from None
    if not isinstance(document, dict) or set(document) != _STATE_KEYS:
        found = sorted(document) if isinstance(document, dict) else type(document).__name__
        raise corrupt(f"wrong shape (found {found}, expected the keys {sorted(_STATE_KEYS)})")
    version = document["schema_version"]
    if version not in _READ_VERSIONS or isinstance(version, bool):
        raise corrupt(f"unknown schema_version {version!r} (this engine reads 1 and {SCHEMA_VERSION})")
    identity = Identity.from_dict(document["identity"])
    if identity is None:
        raise corrupt("identity must hold the strings strategy_id, symbol, bar and spec_hash")
    raw_cursor = document["cursor"]
    keys = {"seq", "hash"} if version == 1 else {"seq", "hash", "offset"}

    def count(name: str) -> bool:
        value = raw_cursor[name]
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    segment = raw_cursor.get("segment") if isinstance(raw_cursor, dict) and version != 1 else None
    if not (
        isinstance(raw_cursor, dict)
        and set(raw_cursor) - {"segment"} == keys
        and all(count(name) for name in keys - {"hash"})
        and is_hex_digest(raw_cursor["hash"])
        and (segment is None or (isinstance(segment, str) and "/" not in segment))
    ):
        shape = "{seq: int >= 0, hash: hex sha256" + ("}" if version == 1 else ", offset: int >= 0}")
        raise corrupt(f"cursor must be {shape}")
    cursor = Cursor(raw_cursor["seq"], raw_cursor["hash"])
    if cursor.seq == 0 and cursor != GENESIS:
        raise corrupt("cursor at seq 0 must carry the genesis hash (64 zeros)")
    if not isinstance(document["snapshot"], dict):
        raise corrupt("snapshot must be a JSON object")
    return StateFile(identity, cursor, document["snapshot"], raw_cursor.get("offset"), segment)


def write_state_file(path: Path, identity: Identity, record: JournalRecord, *, durable: bool = True) -> None:
    """Replace the state file with `record`'s state and cursor (its checkpoint), for `identity`
    (fsynced unless not `durable`)."""
    if record.state is None:
        raise ValueError(f"record {record.seq} carries no snapshot: a state file names a unit's end")
    document = {
        "schema_version": SCHEMA_VERSION,
        "identity": asdict(identity),
        "cursor": _cursor_of(path, record),
        "snapshot": record.state,
    }
    text = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    atomic_write(path, text.encode("utf-8"), durable=durable)


def _cursor_of(path: Path, record: JournalRecord) -> dict[str, Any]:
    """The record as a checkpoint: seq, hash, offset, and its segment when not the base journal."""
    cursor: dict[str, Any] = {**asdict(record.cursor), "offset": record.offset}
    if record.segment and record.segment != path.with_suffix(".jsonl").name:
        cursor["segment"] = record.segment
    return cursor
