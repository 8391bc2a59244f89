"""The runner's logs: timestamped, levelled lines on the console, and JSON lines in a rotated file."""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from datetime import UTC, datetime
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


def configure(state_dir: Path, *, rich: bool) -> Path:
    """Log the runner to the console (rich on a terminal, plain when piped) and to the JSON-lines file
    under `state_dir`, rotated by size. Returns the file's path."""
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
    file = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    file.setFormatter(JsonLines())
    logger.addHandler(console)
    logger.addHandler(file)
    return path
