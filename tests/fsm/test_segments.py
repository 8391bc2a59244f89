"""A journal rolled into segments: one chain across the files, opened from the newest checkpoint,
verified across every file, and still verifiable when the oldest files were moved away."""

from __future__ import annotations

from pathlib import Path

import pytest

from fsm.errors import JournalChainBroken
from fsm.persist.journal import read_journal, verify_journal
from fsm.persist.segments import journal_files
from fsm.persist.statefile import Identity
from fsm.persist.store import Segments, StateStore

IDENTITY = Identity("m", "ETH-USDT-SWAP", "15m", "0" * 64)
DAY = 86_400_000


def cycles(path: Path, count: int, segments: Segments = "cycle", day_step: int = 0) -> None:
    """`count` cycles of three units each, the last unit of each archiving the cycle."""
    ts = DAY * 20_000
    with StateStore(path, IDENTITY, segments=segments) as store:
        store.open()
        for cycle in range(count):
            store.commit("intent", {"cycle": cycle}, {"cycle": cycle, "step": 1}, ts)
            store.commit_many(
                [("order", {"n": 1}, ts + 1), ("fill", {"n": 2}, ts + 2)], {"cycle": cycle, "step": 2}
            )
            store.commit("archive", {"cycle": cycle}, {"cycle": cycle, "step": 3}, ts + 3)
            ts += day_step or 10


def test_a_segment_per_cycle_keeps_one_chain_across_the_files(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    cycles(path, 3)
    files = journal_files(path.with_suffix(".jsonl"))
    assert [(p.name, first) for p, first in files] == [
        ("m.jsonl", 1),
        ("m.seg-000000000005.jsonl", 5),
        ("m.seg-000000000009.jsonl", 9),
    ]
    report = verify_journal(path.with_suffix(".jsonl"))
    assert (report.records, report.last_seq, report.segments, report.first_seq) == (12, 12, 3, 1)
    assert [r.seq for r in read_journal(path.with_suffix(".jsonl")).records] == list(range(1, 13))
    with StateStore(path, IDENTITY, segments="cycle") as store:  # from the checkpoint in the newest file
        assert store.open() == {"cycle": 2, "step": 3}
        assert store.commit("intent", {"cycle": 3}, {"cycle": 3}, DAY * 20_000 + 99).segment == (
            "m.seg-000000000013.jsonl"
        )


def test_a_segment_per_day_rolls_when_the_utc_day_changes(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    cycles(path, 3, segments="day", day_step=DAY)
    assert [first for _, first in journal_files(path.with_suffix(".jsonl"))] == [1, 5, 9]


def test_moved_segments_are_not_needed_to_open_and_verify_log_says_where_it_began(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    cycles(path, 3)
    (tmp_path / "m.jsonl").rename(tmp_path / "archived-m.jsonl")
    with StateStore(path, IDENTITY, segments="cycle") as store:
        assert store.open() == {"cycle": 2, "step": 3}
    report = StateStore(path, IDENTITY).inspect(full=True).journal
    assert report is not None and (report.first_seq, report.records, report.segments) == (5, 8, 2)


def test_a_torn_line_in_an_older_segment_breaks_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    cycles(path, 2)
    older = tmp_path / "m.jsonl"
    older.write_bytes(older.read_bytes() + b'{"data":')
    with pytest.raises(JournalChainBroken, match="an incomplete line where a later segment follows"):
        verify_journal(tmp_path / "m.jsonl")


def test_without_segments_the_journal_stays_one_file(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    cycles(path, 3, segments=None)
    assert [p.name for p, _ in journal_files(path.with_suffix(".jsonl"))] == ["m.jsonl"]
