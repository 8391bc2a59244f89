"""Operator requests for a machine whose state a runner holds: queued in a spool the runner owns.

`close`, `cancel`, `pause`, `resume` and `flatten` cannot take the state file's lock while `run` holds
it, so they leave a request file (written atomically) beside the state file. The runner carries each
out on its next tick, journals it with its id, and only then removes the file; an id already journaled
is never carried out again.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from fsm.persist.durable import atomic_write

COMMANDS = ("close", "cancel", "pause", "resume", "flatten")
ACCOUNT_COMMANDS = ("halt", "reduce", "resume")  # the account journal's spool (fsm.risk.ledger)


@dataclass(frozen=True)
class OperatorRequest:
    id: str
    command: str
    rung: int | None = None
    queued_at: float = 0.0  # wall time, for display
    flatten: bool = False  # halt --flatten: every machine's own size is exited too

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def new_id(now: float | None = None) -> str:
    """Time-ordered and unique: ms since the epoch and 12 random hex digits."""
    return f"{int((time.time() if now is None else now) * 1000):013d}{uuid.uuid4().hex[:12]}"


def spool_dir(state_path: Path) -> Path:
    return state_path.with_name(state_path.stem + ".requests")


def enqueue(
    state_path: Path,
    command: str,
    rung: int | None = None,
    *,
    commands: tuple[str, ...] = COMMANDS,
    flatten: bool = False,
) -> OperatorRequest:
    """Queue one request for the runner (a machine's, or with ACCOUNT_COMMANDS the account's);
    returns it (its id names it in the journal later)."""
    if command not in commands:
        raise ValueError(f"unknown operator command {command!r}")
    folder = spool_dir(state_path)
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    request = OperatorRequest(id=new_id(now), command=command, rung=rung, queued_at=now, flatten=flatten)
    atomic_write(folder / f"{request.id}.json", json.dumps(request.to_dict(), sort_keys=True).encode())
    return request


def pending(state_path: Path, commands: tuple[str, ...] = COMMANDS) -> list[tuple[Path, OperatorRequest]]:
    """The queued requests, oldest first; a file that is not a request is left for the operator to see."""
    folder = spool_dir(state_path)
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            raw = json.loads(path.read_text())
            request = OperatorRequest(
                str(raw["id"]),
                str(raw["command"]),
                raw.get("rung"),
                float(raw["queued_at"]),
                bool(raw.get("flatten", False)),
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if request.command in commands:
            found.append((path, request))
    return found
