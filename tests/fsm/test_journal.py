"""The journal: its line format, the hash chain, torn-tail detection and repair."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fsm.errors import JournalChainBroken, JournalTornTail, StateRefused
from fsm.persist.chain import GENESIS_HASH, KINDS
from fsm.persist.journal import JournalWriter, read_journal, repair_torn_tail, verify_journal

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=4)
events = st.tuples(st.sampled_from(KINDS), json_objects, json_objects, st.integers(0, 2**48))


def write_journal(path: Path, count: int) -> JournalWriter:
    writer = JournalWriter(path)
    for i in range(1, count + 1):
        writer.append(
            KINDS[i % len(KINDS)],
            {"event": i, "px": f"{3000 + i}.5", "note": "é ünïcode"},
            {"ladder": "entries_open", "step": i, "rungs": [{"sz": "0.01", "accFillSz": str(i)}]},
            1_700_000_000_000 + i,
        )
    return writer


def resume(path: Path) -> JournalWriter:
    scan = read_journal(path)
    return JournalWriter(path, scan.cursor, scan.size)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "machine.jsonl"
    write_journal(path, 5).close()
    yield path


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def assert_documented_format(path: Path) -> None:
    """Check the file against the documented format 2 with json.dumps itself, independently of the
    reader: the canonical JSON of the content, its sha256 inserted as "hash" before the closing brace."""
    prev = GENESIS_HASH
    for seq, line in enumerate(lines_of(path), start=1):
        obj = json.loads(line)
        assert set(obj) - {"state"} == {"v", "seq", "ts", "kind", "data", "prev", "hash"}
        body = {key: value for key, value in obj.items() if key != "hash"}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert obj["hash"] == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        assert obj["v"] == 2 and obj["seq"] == seq and obj["prev"] == prev
        assert line == (canonical[:-1] + f',"hash":"{obj["hash"]}"}}').encode("utf-8") + b"\n"
        prev = obj["hash"]


def test_each_line_is_the_canonical_json_of_a_hash_chained_record(journal: Path) -> None:
    assert_documented_format(journal)


def test_appended_records_read_back_in_order_and_equal(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    writer = JournalWriter(path)
    written = [writer.append(kind, {"i": i}, {"state": kind}, 10 + i) for i, kind in enumerate(KINDS)]
    writer.close()
    scan = read_journal(path)
    assert scan.records == tuple(written)
    assert [r.kind for r in scan.records] == list(KINDS)
    assert scan.last_seq == len(KINDS) and scan.last_hash == written[-1].hash
    assert scan.size == path.stat().st_size


def test_writer_continues_the_chain_of_an_existing_journal(journal: Path) -> None:
    writer = resume(journal)
    record = writer.append("operator", {"cmd": "close"}, {"ladder": "closed"}, 5)
    writer.close()
    assert record.seq == 6
    assert read_journal(journal).records[-1] == record


@pytest.mark.parametrize(
    ("data", "state"),
    [
        ({"px": Decimal("3000.1")}, {}),
        ({}, {"rungs": [{"sz": Decimal("1")}]}),
        ({"x": float("nan")}, {}),
        ({"x": {1, 2}}, {}),
        ({"x": b"bytes"}, {}),
        ({1: "int key"}, {}),
        ({"x": "\ud800"}, {}),
    ],
    ids=["decimal-in-data", "decimal-in-state", "nan", "set", "bytes", "int-key", "lone-surrogate"],
)
def test_non_json_input_is_rejected_before_anything_is_written(
    journal: Path, data: dict[Any, Any], state: dict[str, Any]
) -> None:
    before = journal.read_bytes()
    writer = resume(journal)
    with pytest.raises(TypeError):
        writer.append("fill", data, state, 1)
    record = writer.append("fill", {"ok": True}, {}, 1)
    writer.close()
    assert record.seq == 6
    assert journal.read_bytes().startswith(before)


def test_unknown_kind_is_rejected(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path / "j.jsonl")
    with pytest.raises(ValueError, match="unknown journal kind"):
        writer.append("bogus", {}, {}, 1)
    assert not (tmp_path / "j.jsonl").exists()


def test_writer_refuses_a_journal_changed_underneath_it(journal: Path) -> None:
    writer = resume(journal)
    with journal.open("ab") as handle:
        handle.write(b"{}\n")
    with pytest.raises(JournalChainBroken, match="something else changed it"):
        writer.append("fill", {}, {}, 1)
    writer.close()


@pytest.mark.parametrize(
    "tail",
    [b'{"seq":6,"ts":1,"kind":"fi', b"{}", b"garbage\n", b"\x00\x00\x00\x00"],
    ids=["half-object", "json-without-newline", "newline-terminated-garbage", "zero-fill"],
)
def test_torn_last_line_is_reported_with_its_offset(journal: Path, tail: bytes) -> None:
    good = journal.read_bytes()
    journal.write_bytes(good + tail)
    with pytest.raises(JournalTornTail) as caught:
        read_journal(journal)
    assert (caught.value.offset, caught.value.length) == (len(good), len(tail))
    assert str(len(good)) in str(caught.value) and str(journal) in str(caught.value)
    assert caught.value.exit_code == 3
    assert journal.read_bytes() == good + tail


def test_complete_record_without_newline_is_torn_not_glued(journal: Path) -> None:
    lines = lines_of(journal)
    journal.write_bytes(b"".join(lines[:-1]) + lines[-1].rstrip(b"\n"))
    with pytest.raises(JournalTornTail):
        read_journal(journal)


def test_repair_moves_the_torn_bytes_aside_and_changes_nothing_else(journal: Path) -> None:
    good = journal.read_bytes()
    journal.write_bytes(good + b'{"seq":6,"ts"')
    saved = repair_torn_tail(journal)
    assert saved == journal.with_name("machine.jsonl.torn-1")
    assert saved.read_bytes() == b'{"seq":6,"ts"'
    assert journal.read_bytes() == good
    assert sorted(p.name for p in journal.parent.iterdir()) == ["machine.jsonl", "machine.jsonl.torn-1"]
    assert read_journal(journal).last_seq == 5
    journal.write_bytes(good + b"x")
    assert repair_torn_tail(journal).name == "machine.jsonl.torn-2"
    assert saved.read_bytes() == b'{"seq":6,"ts"'


def test_repair_without_a_torn_tail_changes_nothing(journal: Path) -> None:
    before = journal.read_bytes()
    with pytest.raises(ValueError, match="no torn tail"):
        repair_torn_tail(journal)
    assert journal.read_bytes() == before


def test_repair_refuses_a_broken_chain_even_with_a_torn_tail(journal: Path) -> None:
    lines = lines_of(journal)
    broken = b"".join([lines[0], lines[2], *lines[3:]]) + b"{"
    journal.write_bytes(broken)
    with pytest.raises(JournalChainBroken):
        repair_torn_tail(journal)
    assert journal.read_bytes() == broken
    assert [p.name for p in journal.parent.iterdir()] == ["machine.jsonl"]


def _edit_middle_value(lines: list[bytes]) -> list[bytes]:
    """A value changed in place, the line's layout kept: only the hash can tell."""
    start = lines[2].index(b'"px":"') + len(b'"px":"')
    edited = lines[2][:start] + b"1.0" + lines[2][lines[2].index(b'"', start) :]
    assert edited != lines[2]
    return [*lines[:2], edited, *lines[3:]]


def _respace_middle_line(lines: list[bytes]) -> list[bytes]:
    return [*lines[:2], json.dumps(json.loads(lines[2]), sort_keys=True).encode() + b"\n", *lines[3:]]


@pytest.mark.parametrize(
    ("mutate", "line", "reason"),
    [
        (_edit_middle_value, 3, "does not match its hash"),
        (lambda ls: [*ls[:2], *ls[3:]], 3, "seq 4 where 3 was expected"),
        (lambda ls: [ls[0], ls[2], ls[1], *ls[3:]], 2, "seq 3 where 2 was expected"),
        (lambda ls: [*ls[:2], b"not json\n", *ls[3:]], 3, "not valid JSON"),
        (lambda ls: [*ls[:2], b"\n", *ls[2:]], 3, "not valid JSON"),
        (_respace_middle_line, 3, "not in canonical form"),
        (lambda ls: [*ls[:4], b'{"seq": 5}\n'], 5, "not a journal record"),
        (lambda ls: [*ls[:2], ls[2].replace(b'"note":"', b'"note":"\\ud800'), *ls[3:]], 3, "match its hash"),
    ],
    ids=[
        "edited",
        "deleted",
        "reordered",
        "garbage-line",
        "blank-line",
        "respaced",
        "complete-but-not-a-record",
        "escaped-lone-surrogate",
    ],
)
def test_broken_chain_names_the_line_and_changes_nothing(
    journal: Path, mutate: Any, line: int, reason: str
) -> None:
    broken = b"".join(mutate(lines_of(journal)))
    journal.write_bytes(broken)
    with pytest.raises(JournalChainBroken) as caught:
        read_journal(journal)
    assert caught.value.line == line
    assert reason in caught.value.reason
    assert f"line {line}" in str(caught.value)
    assert journal.read_bytes() == broken


def test_verify_summarises_a_sound_journal(journal: Path) -> None:
    report = verify_journal(journal)
    last = read_journal(journal).records[-1]
    assert (report.records, report.last_seq, report.last_hash) == (5, 5, last.hash)
    assert (report.first_ts, report.last_ts) == (1_700_000_000_001, 1_700_000_000_005)
    assert report.kinds == {"ack": 1, "cancel": 1, "fill": 1, "order": 1, "submit": 1}


def test_verify_of_an_empty_journal(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    report = verify_journal(path)
    assert (report.records, report.last_seq, report.last_hash, report.first_ts) == (0, 0, GENESIS_HASH, None)


@settings(max_examples=30, deadline=None)
@given(st.lists(events, max_size=8))
def test_any_sequence_of_records_verifies_and_reads_back_equal(
    batch: list[tuple[str, dict[str, Any], dict[str, Any], int]],
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "j.jsonl"
        writer = JournalWriter(path)
        written = [writer.append(kind, data, state, ts) for kind, data, state, ts in batch]
        writer.close()
        if not batch:
            return
        assert read_journal(path).records == tuple(written)
        assert [(r.data, r.state) for r in written] == [(d, s) for _, d, s, _ in batch]
        assert_documented_format(path)
        assert verify_journal(path).records == len(batch)


@pytest.fixture(scope="module")
def sound_journal(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("sound") / "j.jsonl"
    write_journal(path, 4).close()
    return path.read_bytes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_single_byte_corruption_is_detected(
    sound_journal: bytes, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    position = data.draw(st.integers(0, len(sound_journal) - 1), label="position")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != sound_journal[position]), label="byte")
    corrupted = bytearray(sound_journal)
    corrupted[position] = byte
    path = tmp_path_factory.mktemp("corrupt") / "j.jsonl"
    path.write_bytes(bytes(corrupted))
    last_line_start = sound_journal.rstrip(b"\n").rfind(b"\n") + 1
    in_middle = position < last_line_start - 1  # the newline before the last line glues it to a torn tail
    with pytest.raises(JournalChainBroken if in_middle else StateRefused):
        read_journal(path)
