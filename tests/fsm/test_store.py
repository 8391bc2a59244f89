"""The state store: commit and reopen, refusal of foreign or damaged state, roll-forward, the lock."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fsm.errors import JournalChainBroken, JournalTornTail, StateCorrupt, StateLocked, StateMismatch
from fsm.persist.chain import GENESIS, KINDS
from fsm.persist.journal import JournalWriter, read_journal, verify_journal
from fsm.persist.store import Identity, StateStore

REPO = Path(__file__).resolve().parents[2]
IDENTITY = Identity(strategy_id="eth_robust_twap_15m", symbol="ETH-USDT-SWAP", bar="15m", spec_hash="a1" * 32)
TS = 1_717_000_000_000
CEILING_S = 60.0  # how long a child Python may take to start and finish on a busy machine


def ladder_snapshot(step: int) -> dict[str, Any]:
    """One signal, three open orders and (from step 2) one partial fill, money as strings."""
    rungs = [
        {
            "level": level,
            "clOrdId": f"ethtwap1717000000r{level}a0",
            "ordId": f"60000000000000000{level}",
            "px": px,
            "sz": "1.5",
            "state": "live",
            "accFillSz": "0",
            "avgPx": None,
        }
        for level, px in ((1, "2991.00"), (2, "2982.00"), (3, "2973.00"))
    ]
    fills = []
    if step >= 2:
        rungs[0].update(state="partially_filled", accFillSz="0.4", avgPx="2991.00")
        fills.append(
            {
                "tradeId": "1001",
                "billId": "5001",
                "ordId": rungs[0]["ordId"],
                "clOrdId": rungs[0]["clOrdId"],
                "fillPx": "2991.00",
                "fillSz": "0.4",
                "fee": "-0.0239",
                "feeCcy": "USDT",
                "fillTime": TS + 60_000,
            }
        )
    return {
        "ladder": "partially_filled" if step >= 2 else "entries_open",
        "signal": {"candle_ts": TS, "ref_px": "3000.00", "close": "3004.10"},
        "rungs": rungs,
        "fills": fills,
        "step": step,
    }


def store_at(directory: Path, identity: Identity = IDENTITY, **options: Any) -> StateStore:
    return StateStore(directory / "machine.json", identity, **options)


def commit_steps(directory: Path, steps: int) -> None:
    with store_at(directory) as store:
        store.open()
        for step in range(1, steps + 1):
            store.commit("order", {"evidence": {"ordId": str(step)}}, ladder_snapshot(step), TS + step)


def disk(directory: Path) -> dict[str, bytes]:
    """Every file's bytes except the lock file (which holds the last holder's pid)."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if not p.name.endswith(".lock")}


def test_fresh_store_opens_empty_and_writes_nothing(tmp_path: Path) -> None:
    with store_at(tmp_path) as store:
        assert store.open() is None
        assert store.cursor == GENESIS and store.rolled_forward == 0
    assert disk(tmp_path) == {}


def test_commit_then_reopen_returns_the_snapshot(tmp_path: Path) -> None:
    commit_steps(tmp_path, 2)
    with store_at(tmp_path) as store:
        assert store.open() == ladder_snapshot(2)
        assert store.rolled_forward == 0
        assert store.cursor == read_journal(store.journal_path).records[-1].cursor
    document = json.loads((tmp_path / "machine.json").read_text())
    last = read_journal(store.journal_path).records[-1]
    assert document == {
        "schema_version": 2,
        "identity": dataclasses.asdict(IDENTITY),
        "cursor": {"seq": 2, "hash": store.cursor.hash, "offset": last.offset},
        "snapshot": ladder_snapshot(2),
    }
    assert (tmp_path / "machine.jsonl").read_bytes()[last.offset :].startswith(b'{"data"')


def test_same_commits_give_byte_identical_files(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    commit_steps(tmp_path / "a", 3)
    commit_steps(tmp_path / "b", 3)
    assert disk(tmp_path / "a") == disk(tmp_path / "b")
    assert set(disk(tmp_path / "a")) == {"machine.json", "machine.jsonl"}


def test_events_are_appended_in_commit_order(tmp_path: Path) -> None:
    kinds = ["intent", "submit", "ack", "fill", "transition"]
    with store_at(tmp_path) as store:
        store.open()
        for i, kind in enumerate(kinds):
            store.commit(kind, {"i": i}, {"step": i}, TS + i)
    records = read_journal(tmp_path / "machine.jsonl").records
    assert [(r.seq, r.kind, r.data.get("i"), r.state) for r in records] == [
        (i + 1, kind, i, {"step": i}) for i, kind in enumerate(kinds)
    ]
    assert records[0].data["identity"] == dataclasses.asdict(IDENTITY)
    assert all("identity" not in r.data for r in records[1:])


@pytest.mark.parametrize("field", ["strategy_id", "symbol", "bar", "spec_hash"])
def test_state_of_another_machine_is_refused_untouched(tmp_path: Path, field: str) -> None:
    commit_steps(tmp_path, 2)
    before = disk(tmp_path)
    other = dataclasses.replace(IDENTITY, **{field: "other"})
    with pytest.raises(StateMismatch) as caught:
        store_at(tmp_path, other).open()
    found = getattr(IDENTITY, field)
    assert (caught.value.field, caught.value.expected, caught.value.found) == (field, "other", found)
    assert field in str(caught.value) and found in str(caught.value) and "'other'" in str(caught.value)
    assert caught.value.exit_code == 3
    assert disk(tmp_path) == before
    with store_at(tmp_path) as store:  # the refusal released the lock
        assert store.open() == ladder_snapshot(2)


def test_journal_of_another_machine_is_refused_when_the_state_file_is_missing(tmp_path: Path) -> None:
    commit_steps(tmp_path, 2)
    (tmp_path / "machine.json").unlink()
    with pytest.raises(StateMismatch, match="symbol"):
        store_at(tmp_path, dataclasses.replace(IDENTITY, symbol="BTC-USDT-SWAP")).open()
    assert not (tmp_path / "machine.json").exists()


def test_journal_without_a_recorded_identity_is_refused(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path / "machine.jsonl")
    writer.append("transition", {"to": "idle"}, {"ladder": "idle"}, TS)
    writer.close()
    before = disk(tmp_path)
    with pytest.raises(JournalChainBroken, match=r"carries no data\.identity"):
        store_at(tmp_path).open()
    assert disk(tmp_path) == before


def test_allowed_spec_change_is_recorded_in_the_journal(tmp_path: Path) -> None:
    commit_steps(tmp_path, 1)
    changed = dataclasses.replace(IDENTITY, spec_hash="b2" * 32)
    with store_at(tmp_path, changed, allow_spec_change=True) as store:
        assert store.open() == ladder_snapshot(1)
        assert store.spec_changed_from == IDENTITY.spec_hash
        record = store.commit("operator", {"cmd": "spec change"}, ladder_snapshot(2), TS + 9)
    assert record.data["identity"] == dataclasses.asdict(changed)
    with store_at(tmp_path, changed) as store:
        assert store.open() == ladder_snapshot(2)
    with pytest.raises(StateMismatch, match="spec_hash"):
        store_at(tmp_path).open()


def test_torn_journal_tail_is_refused_then_repaired_without_loss(tmp_path: Path) -> None:
    commit_steps(tmp_path, 2)
    journal = tmp_path / "machine.jsonl"
    good = journal.read_bytes()
    journal.write_bytes(good + b'{"data":{"evidence":')
    before = disk(tmp_path)
    with pytest.raises(JournalTornTail) as caught:
        store_at(tmp_path).open()
    assert caught.value.offset == len(good)
    assert disk(tmp_path) == before
    done = store_at(tmp_path).repair()
    assert done.state_file is None  # the state file's checkpoint is still in the journal
    assert done.torn_tail is not None and done.torn_tail.read_bytes() == b'{"data":{"evidence":'
    assert journal.read_bytes() == good
    assert (tmp_path / "machine.json").read_bytes() == before["machine.json"]
    with store_at(tmp_path) as store:
        assert store.open() == ladder_snapshot(2)
        assert store.commit("fill", {}, ladder_snapshot(3), TS + 3).seq == 3


@pytest.mark.parametrize(
    "mutate",
    [
        lambda ls: [ls[0], ls[1].replace(b'"ordId":"2"', b'"ordId":"9"'), ls[2]],
        lambda ls: [ls[0], ls[2]],
        lambda ls: [ls[1], ls[0], ls[2]],
    ],
    ids=["edited-middle-line", "deleted-line", "reordered-lines"],
)
def test_broken_chain_is_refused_and_files_are_untouched(tmp_path: Path, mutate: Any) -> None:
    commit_steps(tmp_path, 3)
    journal = tmp_path / "machine.jsonl"
    journal.write_bytes(b"".join(mutate(journal.read_bytes().splitlines(keepends=True))))
    before = disk(tmp_path)
    # Before the state file's checkpoint only a full pass reads the chain (verify-log); an open reads it
    # all when there is no checkpoint to start from (here: no state file).
    with pytest.raises(JournalChainBroken):
        store_at(tmp_path).inspect(full=True)
    assert disk(tmp_path) == before
    (tmp_path / "machine.json").unlink()
    before = disk(tmp_path)
    with pytest.raises(JournalChainBroken):
        store_at(tmp_path).open()
    assert disk(tmp_path) == before


def test_state_file_behind_the_journal_is_rolled_forward(tmp_path: Path) -> None:
    commit_steps(tmp_path, 2)
    state = tmp_path / "machine.json"
    older = state.read_bytes()
    with store_at(tmp_path) as store:
        store.open()
        store.commit("fill", {"tradeId": "1002"}, ladder_snapshot(3), TS + 3)
    current = state.read_bytes()
    state.write_bytes(older)  # as if the process died between the journal append and the replace
    with store_at(tmp_path) as store:
        assert store.open() == ladder_snapshot(3)
        assert store.rolled_forward == 1
        assert store.cursor.seq == 3
    assert state.read_bytes() == current


def test_crash_between_append_and_replace_leaves_the_journal_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commit_steps(tmp_path, 1)
    state_before = (tmp_path / "machine.json").read_bytes()

    def crash(*_: object) -> None:
        raise OSError("simulated crash before the rename")

    with store_at(tmp_path) as store, monkeypatch.context() as patch:
        store.open()
        patch.setattr(os, "replace", crash)
        with pytest.raises(OSError, match="simulated crash"):
            store.commit("fill", {}, ladder_snapshot(2), TS + 2)
    assert read_journal(tmp_path / "machine.jsonl").last_seq == 2
    assert disk(tmp_path)["machine.json"] == state_before  # no temp file left behind either
    assert set(disk(tmp_path)) == {"machine.json", "machine.jsonl"}
    with store_at(tmp_path) as store:
        assert store.open() == ladder_snapshot(2)
        assert store.rolled_forward == 1


def test_missing_state_file_is_rebuilt_from_the_journal(tmp_path: Path) -> None:
    commit_steps(tmp_path, 3)
    state = tmp_path / "machine.json"
    expected = state.read_bytes()
    state.unlink()
    with store_at(tmp_path) as store:
        assert store.open() == ladder_snapshot(3)
        assert store.rolled_forward == 3
    assert state.read_bytes() == expected


def test_state_file_ahead_of_the_journal_is_refused(tmp_path: Path) -> None:
    commit_steps(tmp_path, 3)
    journal = tmp_path / "machine.jsonl"
    journal.write_bytes(b"".join(journal.read_bytes().splitlines(keepends=True)[:2]))
    before = disk(tmp_path)
    with pytest.raises(JournalChainBroken, match="ahead of the journal"):
        store_at(tmp_path).open()
    assert disk(tmp_path) == before


def test_a_cut_checkpoint_record_is_a_torn_tail_and_repair_leaves_a_store_that_opens(tmp_path: Path) -> None:
    """The journal's last record, which the state file names, cut short: refused as a torn tail (so the
    message names repair), then repair moves the torn bytes and the state file aside, keeping both."""
    commit_steps(tmp_path, 3)
    journal, state = tmp_path / "machine.jsonl", tmp_path / "machine.json"
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:2]) + lines[2][:50])
    before = disk(tmp_path)
    for attempt in (lambda: store_at(tmp_path).inspect(), lambda: store_at(tmp_path).open()):
        with pytest.raises(JournalTornTail, match="okx-fsm repair MACHINE"):
            attempt()
    assert disk(tmp_path) == before
    done = store_at(tmp_path).repair()
    assert done.torn_tail is not None and done.torn_tail.read_bytes() == lines[2][:50]
    assert done.state_file == tmp_path / "machine.json.ahead-1" and done.state_file_seq == 3
    assert done.state_file.read_bytes() == before["machine.json"]  # kept, byte for byte
    assert (done.journal_end.seq, done.snapshot_seq) == (2, 2) and not state.exists()
    with store_at(tmp_path) as store:
        assert store.open() == ladder_snapshot(2)
        assert store.commit("fill", {}, ladder_snapshot(3), TS + 3).seq == 3
    assert verify_journal(journal).last_seq == 3


def test_repair_moves_aside_a_state_file_ahead_of_an_intact_journal(tmp_path: Path) -> None:
    """A repair cut short after the journal was truncated (or a journal restored from an older copy):
    running it again moves the state file aside; with nothing wrong it changes nothing."""
    commit_steps(tmp_path, 3)
    journal = tmp_path / "machine.jsonl"
    journal.write_bytes(b"".join(journal.read_bytes().splitlines(keepends=True)[:2]))
    (tmp_path / "machine.json.ahead-1").write_bytes(b"an earlier repair's")
    done = store_at(tmp_path).repair()
    assert done.torn_tail is None and done.state_file == tmp_path / "machine.json.ahead-2"
    assert (tmp_path / "machine.json.ahead-1").read_bytes() == b"an earlier repair's"
    with store_at(tmp_path) as store:
        assert store.open() == ladder_snapshot(2)
    before = disk(tmp_path)
    with pytest.raises(ValueError, match="nothing to repair"):
        store_at(tmp_path).repair()
    assert disk(tmp_path) == before


def test_cursor_hash_not_in_the_journal_is_refused(tmp_path: Path) -> None:
    commit_steps(tmp_path, 2)
    state = tmp_path / "machine.json"
    document = json.loads(state.read_text())
    document["cursor"]["hash"] = "f" * 64
    state.write_text(json.dumps(document))
    before = disk(tmp_path)
    with pytest.raises(JournalChainBroken, match="names hash"):
        store_at(tmp_path).open()
    assert disk(tmp_path) == before


def test_missing_journal_is_refused_when_the_state_has_a_cursor(tmp_path: Path) -> None:
    commit_steps(tmp_path, 1)
    (tmp_path / "machine.jsonl").unlink()
    before = disk(tmp_path)
    with pytest.raises(JournalChainBroken, match="missing"):
        store_at(tmp_path).open()
    assert disk(tmp_path) == before


def test_state_snapshot_edited_by_hand_is_refused(tmp_path: Path) -> None:
    commit_steps(tmp_path, 2)
    state = tmp_path / "machine.json"
    document = json.loads(state.read_text())
    document["snapshot"]["ladder"] = "closed"
    state.write_text(json.dumps(document))
    before = disk(tmp_path)
    with pytest.raises(StateCorrupt, match="differs from journal record 2"):
        store_at(tmp_path).open()
    assert disk(tmp_path) == before


def _valid_state_with(**changes: Any) -> bytes:
    document: dict[str, Any] = {
        "schema_version": 1,
        "identity": dataclasses.asdict(IDENTITY),
        "cursor": {"seq": 0, "hash": GENESIS.hash},
        "snapshot": {},
    }
    document.update(changes)
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    "content",
    [
        b"not json at all",
        b"\xff\xfe\x00",
        b"",
        b"[1, 2, 3]",
        _valid_state_with()[:40],
        _valid_state_with(schema_version=2),
        _valid_state_with(schema_version=True),
        _valid_state_with(cursor={"seq": -1, "hash": GENESIS.hash}),
        _valid_state_with(cursor={"seq": 0, "hash": "f" * 64}),
        _valid_state_with(identity={"symbol": "ETH-USDT-SWAP"}),
        _valid_state_with(snapshot=[]),
        _valid_state_with(extra=1),
    ],
    ids=[
        "text",
        "binary",
        "empty",
        "list",
        "truncated",
        "schema-2",
        "schema-bool",
        "negative-seq",
        "seq-0-bad-hash",
        "partial-identity",
        "snapshot-list",
        "unknown-key",
    ],
)
def test_corrupt_state_file_is_refused_and_left_byte_identical(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "machine.json").write_bytes(content)
    for _ in range(2):  # the second attempt proves the lock was released
        with pytest.raises(StateCorrupt) as caught:
            store_at(tmp_path).open()
        assert str(tmp_path / "machine.json") in str(caught.value)
        assert disk(tmp_path) == {"machine.json": content}


def test_state_with_genesis_cursor_and_no_journal_opens(tmp_path: Path) -> None:
    (tmp_path / "machine.json").write_bytes(_valid_state_with(snapshot={"ladder": "idle"}))
    with store_at(tmp_path) as store:
        assert store.open() == {"ladder": "idle"}
        assert store.commit("transition", {}, {"ladder": "intent_rendered"}, TS).seq == 1
    assert verify_journal(tmp_path / "machine.jsonl").records == 1


def test_non_json_commit_changes_nothing_and_the_chain_goes_on(tmp_path: Path) -> None:
    commit_steps(tmp_path, 1)
    before = disk(tmp_path)
    with store_at(tmp_path) as store:
        store.open()
        with pytest.raises(TypeError, match="Decimal"):
            store.commit("fill", {}, {"px": Decimal("3000.1")}, TS)
        assert disk(tmp_path) == before
        with pytest.raises(ValueError, match="reserved"):
            store.commit("fill", {"identity": "x"}, {}, TS)
        assert store.commit("fill", {}, {"px": "3000.1"}, TS).seq == 2


def test_second_store_on_the_same_file_is_locked_out(tmp_path: Path) -> None:
    with store_at(tmp_path) as first:
        first.open()
        with pytest.raises(StateLocked) as caught:
            store_at(tmp_path).open()
        assert caught.value.pid == os.getpid()
        assert caught.value.exit_code == 5
        assert str(tmp_path / "machine.json") in str(caught.value)
    with store_at(tmp_path) as second:
        assert second.open() is None


_HOLD = """
import sys
from pathlib import Path
from fsm.persist.store import Identity, StateStore
store = StateStore(Path(sys.argv[1]), Identity(*sys.argv[2:6]))
store.open()
print("locked", flush=True)
sys.stdin.read()
"""

_TRY = """
import sys
from pathlib import Path
from fsm.errors import StateLocked
from fsm.persist.store import Identity, StateStore
try:
    StateStore(Path(sys.argv[1]), Identity(*sys.argv[2:6])).open()
except StateLocked as exc:
    print(exc)
    sys.exit(exc.exit_code)
"""


def _python(script: str, state: Path) -> list[str]:
    return [sys.executable, "-c", script, str(state), *dataclasses.astuple(IDENTITY)]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def test_lock_held_by_another_process_refuses_at_once(tmp_path: Path) -> None:
    state = tmp_path / "machine.json"
    with subprocess.Popen(
        _python(_HOLD, state), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=_env()
    ) as holder:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(StateLocked) as caught:
            store_at(tmp_path).open()
        assert caught.value.pid == holder.pid
        holder.stdin.close()
        assert holder.wait(timeout=CEILING_S) == 0
    with store_at(tmp_path) as store:  # the lock died with its process
        assert store.open() is None


def test_another_process_is_refused_while_this_one_holds_the_lock(tmp_path: Path) -> None:
    with store_at(tmp_path) as store:
        store.open()
        result = subprocess.run(
            _python(_TRY, tmp_path / "machine.json"),
            capture_output=True,
            text=True,
            env=_env(),
            timeout=CEILING_S,
        )
    assert result.returncode == 5
    assert f"in use by process {os.getpid()}" in result.stdout


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=10)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
commits = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.dictionaries(st.text(max_size=6).filter(lambda k: k != "identity"), json_values, max_size=3),
        st.dictionaries(st.text(max_size=6), json_values, max_size=3),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=25, deadline=None)
@given(commits)
def test_any_sequence_of_commits_verifies_and_reopens_to_the_last_snapshot(
    batch: list[tuple[str, dict[str, Any], dict[str, Any]]],
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        with store_at(Path(directory)) as store:
            store.open()
            for i, (kind, data, snapshot) in enumerate(batch):
                store.commit(kind, data, snapshot, TS + i)
        report = verify_journal(Path(directory) / "machine.jsonl")
        assert (report.records, report.last_seq) == (len(batch), len(batch))
        with store_at(Path(directory)) as store:
            assert store.open() == batch[-1][2]
            assert store.rolled_forward == 0


# --- stale temporary files -------------------------------------------------------------------------

_KILLED_MID_WRITE = """
import os, sys
from pathlib import Path
from fsm.persist.store import Identity, StateStore
store = StateStore(Path(sys.argv[1]), Identity(*sys.argv[2:6]))
store.open()
os.replace = lambda *_: os._exit(9)  # killed after the temp file is written, before the rename
store.commit("fill", {}, {"step": 2}, 2)
"""


def test_a_write_killed_before_the_rename_leaves_a_temp_file_the_next_open_removes(tmp_path: Path) -> None:
    commit_steps(tmp_path, 1)
    killed = subprocess.run(
        _python(_KILLED_MID_WRITE, tmp_path / "machine.json"), env=_env(), timeout=CEILING_S
    )
    assert killed.returncode == 9
    [temp] = [name for name in disk(tmp_path) if name.endswith(".tmp")]
    assert temp.startswith(".machine.json.")
    with store_at(tmp_path) as store:
        assert store.open() == {"step": 2}  # rolled forward from the journal, not from the temp file
        assert store.cleaned_temp_files == 1 and store.rolled_forward == 1
    assert set(disk(tmp_path)) == {"machine.json", "machine.jsonl"}
    assert [r.kind for r in read_journal(tmp_path / "machine.jsonl").records] == ["order", "fill"]


def test_open_removes_only_this_state_files_temp_files(tmp_path: Path) -> None:
    commit_steps(tmp_path, 1)
    ours = [".machine.json.k2j4_x9a.tmp", ".machine.json.zz.tmp"]
    others = [
        ".other.json.k2j4_x9a.tmp",  # another machine's
        ".machine.json.b.json.k2j4_x9a.tmp",  # the temp file of a state file named machine.json.b.json
        ".machine.json.tmp",
        "machine.json.k2j4_x9a.tmp",
        ".machine.json.k2j4_x9a.tmp.keep",
        "notes.txt",
    ]
    for name in ours + others:
        (tmp_path / name).write_bytes(b"partial")
    before = disk(tmp_path)
    (tmp_path / ".machine.json.adir.tmp").mkdir()
    with store_at(tmp_path) as store:
        assert store.open() == ladder_snapshot(1)
        assert store.cleaned_temp_files == 2
    assert (tmp_path / ".machine.json.adir.tmp").is_dir()
    (tmp_path / ".machine.json.adir.tmp").rmdir()
    assert disk(tmp_path) == {name: data for name, data in before.items() if name not in ours}
    with store_at(tmp_path) as store:
        store.open()
        assert store.cleaned_temp_files == 0


def test_a_refused_open_leaves_stale_temp_files_in_place(tmp_path: Path) -> None:
    commit_steps(tmp_path, 2)
    journal = tmp_path / "machine.jsonl"
    journal.write_bytes(journal.read_bytes() + b'{"data":')
    (tmp_path / ".machine.json.k2j4_x9a.tmp").write_bytes(b"partial")
    before = disk(tmp_path)
    with pytest.raises(JournalTornTail):
        store_at(tmp_path).open()
    assert disk(tmp_path) == before


# --- read-only inspection --------------------------------------------------------------------------


def listing(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every entry's bytes and mtime_ns, the lock file's included, and the directory's own mtime_ns."""
    entries = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.iterdir())}
    return {**entries, ".": (b"", directory.stat().st_mtime_ns)}


def journal_ahead_by_one(directory: Path) -> bytes:
    """Two commits, then a third whose state file replace 'crashed': the state file stays at seq 2."""
    commit_steps(directory, 2)
    state = directory / "machine.json"
    older = state.read_bytes()
    with store_at(directory) as store:
        store.open()
        store.commit("fill", {"tradeId": "1002"}, ladder_snapshot(3), TS + 3)
    state.write_bytes(older)
    return older


def test_inspect_shows_the_journal_ahead_without_writing(tmp_path: Path) -> None:
    journal_ahead_by_one(tmp_path)
    before = listing(tmp_path)
    inspection = store_at(tmp_path).inspect(full=True)
    assert listing(tmp_path) == before
    assert inspection.snapshot == ladder_snapshot(3)
    assert inspection.cursor.seq == 3 and inspection.state_file_cursor is not None
    assert inspection.state_file_cursor.seq == 2 and inspection.journal_ahead_by == 1
    assert inspection.journal is not None
    assert (inspection.journal.records, inspection.journal.kinds) == (3, {"fill": 1, "order": 2})
    assert inspection.journal == verify_journal(tmp_path / "machine.jsonl")
    with store_at(tmp_path) as store:  # what the next open does: exactly what inspect showed
        assert store.open() == inspection.snapshot
        assert store.rolled_forward == inspection.journal_ahead_by
        assert store.cursor == inspection.cursor


def test_inspect_without_a_state_file_shows_the_journal(tmp_path: Path) -> None:
    commit_steps(tmp_path, 2)
    (tmp_path / "machine.json").unlink()
    before = listing(tmp_path)
    inspection = store_at(tmp_path).inspect()
    assert listing(tmp_path) == before
    assert inspection.snapshot == ladder_snapshot(2)
    assert inspection.state_file_cursor is None and inspection.journal_ahead_by == 2


def test_inspect_of_a_fresh_machine_creates_nothing(tmp_path: Path) -> None:
    inspection = store_at(tmp_path / "state").inspect()
    assert (inspection.snapshot, inspection.cursor, inspection.journal) == (None, GENESIS, None)
    assert inspection.state_file_cursor is None and inspection.journal_ahead_by == 0
    assert not (tmp_path / "state").exists()


def test_inspect_needs_no_lock_and_leaves_temp_files_alone(tmp_path: Path) -> None:
    commit_steps(tmp_path, 2)
    (tmp_path / ".machine.json.k2j4_x9a.tmp").write_bytes(b"a runner's write in progress")
    with store_at(tmp_path) as runner:
        runner.open()
        before = listing(tmp_path)
        inspection = store_at(tmp_path).inspect()
        assert listing(tmp_path) == before
        assert inspection.snapshot == ladder_snapshot(2) and inspection.journal_ahead_by == 0
        runner.commit("fill", {}, ladder_snapshot(3), TS + 3)  # the runner's lock was never disturbed
    assert store_at(tmp_path).inspect().cursor.seq == 3


def _edit_journal(directory: Path) -> None:
    journal = directory / "machine.jsonl"
    journal.write_bytes(journal.read_bytes().replace(b'"ordId":"2"', b'"ordId":"9"'))


def _cut_journal(directory: Path) -> None:
    journal = directory / "machine.jsonl"
    journal.write_bytes(journal.read_bytes().splitlines(keepends=True)[0])


@pytest.mark.parametrize(
    "damage",
    [_edit_journal, lambda d: (d / "machine.json").write_bytes(b"{"), _cut_journal],
    ids=["edited-journal", "corrupt-state-file", "state-file-ahead"],
)
def test_inspect_refuses_what_open_refuses_and_changes_nothing(tmp_path: Path, damage: Any) -> None:
    commit_steps(tmp_path, 2)
    damage(tmp_path)
    before = listing(tmp_path)
    with pytest.raises((JournalChainBroken, StateCorrupt)) as inspected:
        store_at(tmp_path).inspect()
    assert listing(tmp_path) == before
    with pytest.raises(type(inspected.value)):
        store_at(tmp_path).open()


def test_inspect_reports_a_torn_tail_and_how_to_move_it_aside(tmp_path: Path) -> None:
    commit_steps(tmp_path, 2)
    journal = tmp_path / "machine.jsonl"
    journal.write_bytes(journal.read_bytes() + b'{"data":')
    before = listing(tmp_path)
    with pytest.raises(JournalTornTail) as caught:
        store_at(tmp_path).inspect()
    assert listing(tmp_path) == before
    message = str(caught.value)
    assert "Nothing was changed" in message and "okx-fsm repair MACHINE" in message


def test_inspect_reads_again_when_the_torn_tail_was_an_append_in_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal_ahead_by_one(tmp_path)
    journal = tmp_path / "machine.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:2]) + lines[2][:40])  # a runner's third append, half written

    def the_append_finishes(_: float) -> None:
        with journal.open("ab") as handle:
            handle.write(lines[2][40:])

    monkeypatch.setattr("fsm.persist.store.time.sleep", the_append_finishes)
    inspection = store_at(tmp_path).inspect()
    assert inspection.cursor.seq == 3 and inspection.journal_ahead_by == 1
