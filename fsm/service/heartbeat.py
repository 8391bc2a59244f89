"""The runner's heartbeat file beside each state file: what it last did for one machine, read by
`status` and `watch` without loading the runner."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HEARTBEAT_SUFFIX = ".heartbeat.json"


def heartbeat_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.stem + HEARTBEAT_SUFFIX)


@dataclass
class Heartbeat:
    """What the runner last did for one machine. Each time field names its clock and unit: `_wall_s` is
    the runner host's wall clock in seconds (the runner's own record, compared with the reader's wall
    clock), `_exchange_ms` is exchange time in ms, like every time the engine journals."""

    machine: str
    last_tick_wall_s: float | None = None
    last_duration_s: float | None = None
    last_result: str | None = None  # "ok", "failed: <reason>", "parked: <reason>"
    consecutive_failures: int = 0
    parked: str | None = None
    interval_s: float | None = None
    next_due_wall_s: float | None = None
    stopped_wall_s: float | None = None  # the runner stopped: nothing ticks the machine any more
    push: dict[str, Any] | None = (
        None  # with run --push: connected, last_push_exchange_ms, reconnects, pushes
    )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def read(cls, path: Path) -> Heartbeat | None:
        """The heartbeat file, or None when there is none or it is unreadable (it is advisory)."""
        try:
            raw = json.loads(path.read_text())
            return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})
        except (OSError, ValueError, TypeError, KeyError):
            return None
