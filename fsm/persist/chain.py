"""The journal's record format and hash chain.

Format 2 (written now): a line is the canonical JSON of the record's content (sorted keys, no spaces,
UTF-8; ``"v": 2``), with ``,"hash":"<sha256 of those content bytes>"`` inserted before its closing
brace. A reader proves no byte changed by hashing the line's own bytes, never re-encoding them, so
verifying costs a read, a parse and a sha256. ``state`` (the snapshot) is carried only by the record
that ends a unit (see ``JournalWriter.append_many``); the others carry their event and its evidence.

Format 1 (read, verified and rolled forward, never written): no ``v``; every record carries
``state``; the hash is the sha256 of the canonical encoding of the content without ``hash``, which
sorts between ``data`` and ``kind``, so a reader re-encodes the content to check it.

Both chain each record to the previous one through ``prev``; a journal may hold format 1 records
followed by format 2 ones (the engine upgraded in between).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from fsm.errors import JournalChainBroken

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
    "risk",  # the hard limits refused what a machine was about to send (fsm.risk)
    "cooldown",  # losing cycles in a row: no new cycle until a time (the limits' cooldown_after_losses)
    "replay",  # a replay's first record: the candles, range, overrides and fill model (fsm.replay)
    "trading",  # the account's trading state changed: what set it, what clears it (fsm.risk.ledger)
)
GENESIS_HASH = "0" * 64
FORMAT = 2

_V1_FIELDS = frozenset({"seq", "ts", "kind", "data", "state", "prev", "hash"})
_V2_FIELDS = frozenset({"v", "seq", "ts", "kind", "data", "prev", "hash"})
_V2_STATE_FIELDS = _V2_FIELDS | {"state"}  # a unit's last record
_HASH_SUFFIX = len(',"hash":""}\n') + 64
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
    """One journal line, as written and as read back (data and state are plain JSON values).

    ``state`` is the snapshot after the record, or None (format 2, inside a unit); ``offset`` is where
    the line starts in the journal, in bytes.
    """

    seq: int
    ts: int
    kind: str
    data: dict[str, Any]
    state: dict[str, Any] | None
    prev: str
    hash: str
    offset: int = 0
    segment: str = ""  # the journal file the line is in (its name)

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.seq, self.hash)


class _NotPlain(Exception):
    """Something `_copy` does not take as it is: `_plain` says what and where, or copies it."""


def _copy(value: object) -> Any:
    """A copy of ``value`` made only of exact dicts, lists, str, int, bool, None and finite floats,
    without the locating `_plain` does (most of every record); _NotPlain at anything else."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        out: dict[str, Any] = {}
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str:
                raise _NotPlain
            out[key] = _copy(item)
        return out
    if kind is list or kind is tuple:
        return [_copy(item) for item in value]  # type: ignore[attr-defined]
    if kind is float and math.isfinite(value):  # type: ignore[arg-type]
        return value
    raise _NotPlain


def _plain_copy(value: object, where: str) -> Any:
    """A plain-JSON copy of ``value``, or TypeError naming where the first non-JSON value sits."""
    try:
        return _copy(value)
    except _NotPlain:
        return _plain(value, where)


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


def _v1_record(data_json: str, kind: str, prev: str, seq: int, state_json: str, ts: int) -> tuple[str, bytes]:
    """A format 1 record's hash and its line, from the canonical JSON of its data and state.

    Assembled by hand in exactly ``canonical_json``'s layout (keys sorted: data, hash, kind, prev,
    seq, state, ts) so that the big values are encoded once for both the hash and the line.
    UnicodeEncodeError if a string is not valid UTF-8 text (a lone surrogate).
    """
    tail = f',"kind":{canonical_json(kind)},"prev":"{prev}","seq":{seq},"state":{state_json},"ts":{ts}}}'
    digest = _sha256_hex('{"data":' + data_json + tail)
    return digest, f'{{"data":{data_json},"hash":"{digest}"{tail}\n'.encode()


def encode_record(
    seq: int,
    ts: int,
    kind: str,
    data: Mapping[str, Any],
    state: Mapping[str, Any] | None,
    prev: str,
    offset: int = 0,
    segment: str = "",
) -> tuple[JournalRecord, bytes]:
    """Build a format 2 record and its line; raises before any I/O if an input cannot be journaled."""
    if kind not in KINDS:
        raise ValueError(f"unknown journal kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not isinstance(ts, int) or isinstance(ts, bool):
        raise TypeError(f"ts must be an int of exchange milliseconds, not {type(ts).__name__}")
    if ts < 0:
        raise ValueError(f"ts must not be negative, got {ts}")
    for name, value in (("data", data), ("state", state)):
        if not isinstance(value, Mapping) and not (name == "state" and value is None):
            raise TypeError(f"{name} must be a mapping, not {type(value).__name__}")
    plain_data = _plain_copy(data, "data")
    plain_state = None if state is None else _plain_copy(state, "state")
    content: dict[str, Any] = {"v": FORMAT, "seq": seq, "ts": int(ts), "kind": kind, "data": plain_data}
    content["prev"] = prev
    if plain_state is not None:
        content["state"] = plain_state
    try:
        body = canonical_json(content).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise TypeError(f"text that is not valid UTF-8 cannot be journaled: {exc}") from None
    digest = hashlib.sha256(body).hexdigest()
    line = body[:-1] + b',"hash":"' + digest.encode("ascii") + b'"}\n'
    return JournalRecord(seq, int(ts), kind, plain_data, plain_state, prev, digest, offset, segment), line


class NotJson(ValueError):
    """A journal line that is not JSON (or holds NaN or Infinity)."""


def _reject_constant(name: str) -> Any:
    raise NotJson(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)  # one decoder for every line: it is the hot path


def load_line(line: bytes) -> Any:
    try:
        return _DECODER.decode(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotJson(str(exc)) from None


def check_record(
    path: Path, lineno: int, obj: Any, line: bytes, after: Cursor, offset: int = 0, segment: str = ""
) -> JournalRecord:
    """The record on ``line`` (starting at byte ``offset``) if it continues the chain after ``after``,
    else JournalChainBroken."""

    def broken(reason: str) -> JournalChainBroken:
        return JournalChainBroken(path, lineno, reason)

    if type(obj) is not dict:
        raise broken(f"not a journal record (found {type(obj).__name__}, expected an object)")
    keys = obj.keys()
    v2 = "v" in obj
    if keys not in (_V2_STATE_FIELDS, _V2_FIELDS) if v2 else keys != _V1_FIELDS:
        expected = sorted(_V2_STATE_FIELDS if v2 else _V1_FIELDS)
        raise broken(f"not a journal record (found {sorted(obj)}, expected the fields {expected})")
    if v2 and (obj["v"] != FORMAT or type(obj["v"]) is not int):
        raise broken(f"unknown journal format {obj['v']!r} (this engine reads 1 and {FORMAT})")
    seq, ts, kind, data, state = obj["seq"], obj["ts"], obj["kind"], obj["data"], obj.get("state")
    if type(seq) is not int or type(ts) is not int:  # (bool is not int here)
        raise broken("seq and ts must be integers")
    if kind not in KINDS:
        raise broken(f"unknown kind {kind!r}")
    if type(data) is not dict or not (type(state) is dict or (v2 and state is None)):
        raise broken("data and state must be JSON objects")
    prev, digest = obj["prev"], obj["hash"]
    # A prev equal to the last hash, and a hash equal to the digest of the bytes, are hex digests
    # already: their form is checked only when one of those comparisons fails.
    if (prev != after.hash and not is_hex_digest(prev)) or type(digest) is not str:
        raise broken("prev and hash must be lowercase hex sha256 digests")
    if seq != after.seq + 1:
        raise broken(f"seq {seq} where {after.seq + 1} was expected (a record is missing or out of order)")
    if prev != after.hash:
        raise broken(f"prev does not match the hash of record {after.seq}")
    if v2:
        _check_v2_bytes(line, digest, seq, broken)
    else:
        _check_v1_bytes(line, obj, broken)
    return JournalRecord(seq, ts, kind, data, state, prev, digest, offset, segment)


def _check_v2_bytes(line: bytes, digest: str, seq: int, broken: Any) -> None:
    """The line's bytes hash to its ``hash``, which closes the line (format 2)."""
    content = hashlib.sha256(memoryview(line)[:-_HASH_SUFFIX])
    content.update(b"}")
    if content.hexdigest() == digest and line[-_HASH_SUFFIX:] == b',"hash":"' + digest.encode() + b'"}\n':
        return
    if not is_hex_digest(digest):
        raise broken("prev and hash must be lowercase hex sha256 digests")
    if line[-_HASH_SUFFIX:] != b',"hash":"' + digest.encode("ascii") + b'"}\n':
        raise broken(f"record {seq} is not in canonical form (its bytes were changed)")
    raise broken(f"record {seq} does not match its hash (its content was changed)")


def _check_v1_bytes(line: bytes, obj: dict[str, Any], broken: Any) -> None:
    """The line is the canonical encoding of its content and that content hashes to ``hash`` (format 1)."""
    seq = obj["seq"]
    try:
        digest, canonical = _v1_record(
            canonical_json(obj["data"]),
            obj["kind"],
            obj["prev"],
            seq,
            canonical_json(obj["state"]),
            obj["ts"],
        )
    except UnicodeEncodeError:
        raise broken(f"record {seq} holds text that is not valid UTF-8 (a lone surrogate)") from None
    if digest != obj["hash"]:
        raise broken(f"record {seq} does not match its hash (its content was changed)")
    if canonical != line:
        raise broken(f"record {seq} is not in canonical form (its bytes were changed)")
