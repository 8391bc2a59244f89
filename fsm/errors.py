"""The process's exit statuses, and the engine's errors: each names the file at fault and what the
operator can do next, and carries the ``ExitStatus`` the CLI exits with, unchanged."""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitStatus(IntEnum):
    """How `okx-fsm` ends: stable codes, listed by `okx-fsm --help` and in the README."""

    OK = 0
    STORY_BROKEN = 1
    USAGE = 2
    STATE_REFUSED = 3
    EXCHANGE = 4
    LOCK_HELD = 5

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS = {
    ExitStatus.OK: "ok",
    ExitStatus.STORY_BROKEN: "the demo's scripted story did not end as written (a bug)",
    ExitStatus.USAGE: (
        "usage or spec error (bad option, bad YAML, missing or malformed credentials, live trading not "
        "confirmed)"
    ),
    ExitStatus.STATE_REFUSED: (
        "state refused (corrupt or mismatched state file, broken or torn journal, an unusable state "
        "directory, a command that does not apply in the current state, orders of ours to --adopt, an order "
        "the hard limits refuse)"
    ),
    ExitStatus.EXCHANGE: (
        "exchange error (OKX refused or could not be reached, an account the machine cannot trade)"
    ),
    ExitStatus.LOCK_HELD: "lock held (another runner owns the state file)",
}


class EngineError(Exception):
    """Base of every error the engine reports to the operator."""

    exit_code: ExitStatus = ExitStatus.USAGE


def exit_status(exc: BaseException) -> ExitStatus | None:
    """The status an error ends a command with: an engine error's own, EXCHANGE for OKX's, STATE_REFUSED
    for a file or directory that cannot be read or written; None for anything else (a bug)."""
    from exchange.errors import OkxError  # here: --help reads the statuses without loading `exchange`

    if isinstance(exc, EngineError):
        return exc.exit_code
    if isinstance(exc, OkxError):
        return ExitStatus.EXCHANGE
    if isinstance(exc, OSError) and exc.filename is not None:
        return ExitStatus.STATE_REFUSED
    return None


class NotConfirmed(EngineError):
    """--live --submit was not confirmed by typing LIVE: nothing was sent."""


class StateRefused(EngineError):
    """The state file or journal cannot be trusted as it is; nothing on disk was changed."""

    exit_code = ExitStatus.STATE_REFUSED


class StateLocked(EngineError):
    """Another process holds the state file's lock: one runner per state file."""

    exit_code = ExitStatus.LOCK_HELD

    def __init__(self, state_path: Path, lock_path: Path, pid: int | None) -> None:
        self.state_path = state_path
        self.lock_path = lock_path
        self.pid = pid
        holder = f"process {pid}" if pid is not None else "another process (pid unknown)"
        super().__init__(
            f"state file {state_path} is in use by {holder} (lock {lock_path}). "
            "Only one runner may own a state file: stop the other runner or wait for it to finish."
        )


class StateCorrupt(StateRefused):
    """The state file is unreadable or has the wrong shape; it is left byte-for-byte as found."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"state file {path} is unusable: {reason}. It was left untouched. "
            "Move it aside and run again to rebuild it from its journal "
            f"({path.with_suffix('.jsonl').name}), or restore it from a backup."
        )


SPEC_CHANGE_ADVICE = (
    "if the change is intended, run `okx-fsm reconcile MACHINE --accept-spec-change` (it journals the new "
    "spec hash), otherwise restore the YAML"
)


class StateMismatch(StateRefused):
    """The state belongs to another machine (strategy_id, symbol, bar) or an older spec."""

    def __init__(self, path: Path, field: str, expected: str, found: str) -> None:
        self.path = path
        self.field = field
        self.expected = expected
        self.found = found
        if field == "spec_hash":
            advice = f"The machine's YAML changed since this state was written; {SPEC_CHANGE_ADVICE}."
        else:
            advice = "Point the machine at its own state file (its state file name or --state-dir)."
        super().__init__(
            f"{path} records {field}={found!r} but the machine has {field}={expected!r}; refused. {advice}"
        )


class JournalChainBroken(StateRefused):
    """The journal's records do not form one gap-free hash chain, or disagree with the state file."""

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f" at line {line}" if line is not None else ""
        super().__init__(
            f"journal {path} is broken{where}: {reason}. Nothing was changed. "
            "The journal is the audit trail and cannot be repaired automatically: "
            "inspect it and restore it (or the state file) from a backup."
        )


class StateAheadOfJournal(JournalChainBroken):
    """The state file names a record the journal no longer holds: the journal's last records were lost
    (a torn tail moved aside, a journal restored from an older copy)."""

    def __init__(self, path: Path, state_seq: int, journal_seq: int | None) -> None:
        self.path = path
        self.line = None
        end = "" if journal_seq is None else f" (its last seq {journal_seq})"
        self.reason = f"the state file is at seq {state_seq}, ahead of the journal's end{end}"
        StateRefused.__init__(
            self,
            f"journal {path}: {self.reason}: the journal's last records were lost. Nothing was changed. "
            "`okx-fsm repair MACHINE` moves the state file aside (kept) so that the next tick rebuilds "
            "the state from the journal's last snapshot and observes OKX again; or restore the journal "
            "from a backup.",
        )


class JournalTornTail(StateRefused):
    """The journal ends with an incomplete line, as an interrupted append leaves it."""

    def __init__(self, path: Path, offset: int, length: int) -> None:
        self.path = path
        self.offset = offset
        self.length = length
        super().__init__(
            f"journal {path} ends with a torn line: {length} bytes at byte offset {offset} "
            "are not a complete record (an interrupted write). Nothing was changed. "
            "`okx-fsm repair MACHINE` moves the torn tail aside: it saves those bytes "
            f"in {path.name}.torn-<n> (nothing is lost) and truncates the journal to its last complete "
            "record."
        )
