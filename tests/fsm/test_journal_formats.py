"""The journal format change: a first-format journal (a real one, checked in) is still read, verified
and rolled forward, and the engine goes on in the current format after it; a unit cut short by a crash
leaves records without their snapshot, which recovery passes over."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fsm.engine.state import LadderState
from fsm.errors import JournalChainBroken
from fsm.persist.journal import read_journal, verify_journal
from fsm.persist.statefile import Identity
from fsm.persist.store import StateStore

FIXTURE = Path(__file__).parent / "fixtures" / "journal_v1"
NAME = "eth_robust_twap_15m_live"


def v1_copy(tmp_path: Path) -> tuple[StateStore, Identity]:
    for suffix in (".json", ".jsonl"):
        shutil.copy(FIXTURE / f"{NAME}{suffix}", tmp_path / f"{NAME}{suffix}")
    first = json.loads((FIXTURE / f"{NAME}.jsonl").read_bytes().splitlines()[0])
    identity = Identity(**first["data"]["identity"])
    return StateStore(tmp_path / f"{NAME}.json", identity), identity


def test_the_fixture_is_the_first_format() -> None:
    lines = [json.loads(line) for line in (FIXTURE / f"{NAME}.jsonl").read_bytes().splitlines()]
    assert len(lines) == 54 and all("v" not in r and "state" in r for r in lines)
    assert json.loads((FIXTURE / f"{NAME}.json").read_text())["schema_version"] == 1


def test_a_first_format_journal_verifies_in_one_pass() -> None:
    report = verify_journal(FIXTURE / f"{NAME}.jsonl")
    assert (report.records, report.kinds["transition"], report.kinds["archive"]) == (54, 12, 2)


def test_a_first_format_state_is_rolled_forward_and_the_engine_goes_on_in_the_current_format(
    tmp_path: Path,
) -> None:
    store, _ = v1_copy(tmp_path)
    last = read_journal(store.journal_path).records[-1]
    with store:
        snapshot = store.open()
        assert store.rolled_forward == 10 and store.cursor == last.cursor
        assert snapshot is not None and snapshot == last.state
        assert LadderState.from_dict(snapshot).cycles_completed == 2  # the typed model reads it
        written = store.commit(
            "operator", {"command": "upgrade-check"}, {**snapshot, "paused": True}, last.ts
        )
    state_file = json.loads(store.state_path.read_text())
    assert state_file["schema_version"] == 2 and state_file["cursor"]["offset"] == written.offset
    lines = store.journal_path.read_bytes().splitlines()
    assert len(lines) == 55 and json.loads(lines[-1])["v"] == 2 and "v" not in json.loads(lines[-2])
    assert verify_journal(store.journal_path).records == 55  # one chain across both formats
    with StateStore(store.state_path, store.identity) as again:  # from the checkpoint now
        assert again.open() == {**snapshot, "paused": True} and again.rolled_forward == 0


def test_an_edited_first_format_record_is_refused_by_a_full_pass(tmp_path: Path) -> None:
    store, _ = v1_copy(tmp_path)
    lines = store.journal_path.read_bytes().splitlines(keepends=True)
    lines[9] = lines[9].replace(b'"accFillSz":"0"', b'"accFillSz":"1"', 1)
    store.journal_path.write_bytes(b"".join(lines))
    with pytest.raises(JournalChainBroken, match="line 10: record 10 does not match its hash"):
        store.inspect(full=True)


def test_a_unit_cut_short_at_a_line_leaves_records_that_recovery_passes_over(tmp_path: Path) -> None:
    identity = Identity("m", "ETH-USDT-SWAP", "15m", "0" * 64)
    path = tmp_path / "m.json"
    with StateStore(path, identity) as store:
        store.open()
        store.commit("observe", {"n": 1}, {"step": 1}, 1)
        unit = store.commit_many([("order", {"n": 2}, 2), ("fill", {"n": 3}, 3)], {"step": 3})
    assert [r.state for r in unit] == [None, {"step": 3}]
    journal = path.with_suffix(".jsonl")
    journal.write_bytes(journal.read_bytes()[: unit[1].offset])  # the unit's snapshot line never landed
    first = read_journal(journal).records[0]
    path.write_text(  # nor did the state file: it still names the first unit
        json.dumps(
            {
                "schema_version": 2,
                "identity": identity.__dict__,
                "cursor": {"seq": 1, "hash": first.hash, "offset": 0},
                "snapshot": {"step": 1},
            }
        )
    )
    with StateStore(path, identity) as store:
        assert store.open() == {"step": 1} and store.rolled_forward == 0
        assert store.cursor.seq == 1
        after = store.commit("observe", {"n": 4}, {"step": 4}, 4)
    assert after.seq == 3 and verify_journal(journal).records == 3  # the chain goes on after the cut unit
    with StateStore(path, identity) as store:
        assert store.open() == {"step": 4}


def test_a_first_format_snapshot_keeps_its_exit_orders_under_their_old_name() -> None:
    records = read_journal(FIXTURE / f"{NAME}.jsonl").records
    holding = next(r.state for r in records if r.state and r.state.get("exit_cl_ord_ids"))
    assert holding is not None
    typed = LadderState.from_dict(holding)
    assert typed.exit_client_order_ids == holding["exit_cl_ord_ids"] != []
