"""The runner's logs: timestamped, levelled lines on the console, and JSON lines in a rotated file
readable by its owner only; every line with the credentials masked."""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from io import TextIOWrapper
from pathlib import Path

LOG_FILE = "okx-fsm-run.log.jsonl"
MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 5


class JsonLines(logging.Formatter):
    """One JSON object a line: ts (ISO, UTC), level, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            },
            sort_keys=True,
        )


class Masked(logging.Filter):
    """A handler's every line with the credentials masked: a line may quote an error's text."""

    def __init__(self, redact: Callable[[str], str]) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a call whose arguments do not fit: logged as written, masked
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = self._redact(message), None
        return True


class OwnerOnlyFile(logging.handlers.RotatingFileHandler):
    """The rotated file, 0600 like the state files (it names orders and accounts), a file found
    with a wider mode included."""

    def _open(self) -> TextIOWrapper:  # appending, as a handler that rotates always does
        return open(self.baseFilename, "a", encoding=self.encoding, errors=self.errors, opener=_owner_only)


def _owner_only(path: str, flags: int) -> int:
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def configure(state_dir: Path, *, rich: bool, redact: Callable[[str], str]) -> Path:
    """Log the runner to the console (rich on a terminal, plain when piped) and to the JSON-lines file
    under `state_dir`, rotated by size, every line through `redact`. Returns the file's path."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / LOG_FILE
    logger = logging.getLogger("okx_fsm")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    console: logging.Handler
    if rich:
        from rich.logging import RichHandler

        console = RichHandler(show_path=False, markup=False, log_time_format="%Y-%m-%d %H:%M:%S")
    else:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s"))
    file = OwnerOnlyFile(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    file.setFormatter(JsonLines())
    for handler in (console, file):
        handler.addFilter(Masked(redact))
        logger.addHandler(handler)
    return path
