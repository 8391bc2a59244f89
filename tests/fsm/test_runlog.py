"""The runner's log: every line masked by the redactor it is given, and the file owner-only through
its rotations."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from exchange.signing import REDACTED, redact
from fsm.service import runlog

PASSPHRASE = "PASScanary0002\n"


@pytest.fixture
def run_logger() -> Iterator[logging.Logger]:
    """The runner's logger, as it was before the test configured it."""
    logger = logging.getLogger("okx_fsm")
    handlers, propagate, level = list(logger.handlers), logger.propagate, logger.level
    yield logger
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    for handler in handlers:
        logger.addHandler(handler)
    logger.propagate, logger.level = propagate, level


def test_a_line_quoting_a_credential_is_masked_on_the_console_and_in_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], run_logger: logging.Logger
) -> None:
    path = runlog.configure(tmp_path, rich=False, redact=lambda text: redact(text, [PASSPHRASE]))
    logging.getLogger("okx_fsm.push").warning("push: %s", ValueError(f"bad header {PASSPHRASE!r}"))
    logging.getLogger("okx_fsm.run").warning("arguments that do not fit %d", PASSPHRASE)
    console, file = capsys.readouterr().err, path.read_text()
    for text in (console, file):
        assert "canary" not in text and f"push: bad header '{REDACTED}'" in text, text
        assert "arguments that do not fit %d" in text, text


def test_every_file_of_the_rotated_log_is_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_logger: logging.Logger
) -> None:
    monkeypatch.setattr(runlog, "MAX_BYTES", 300)
    path = runlog.configure(tmp_path, rich=False, redact=str)
    for n in range(20):
        logging.getLogger("okx_fsm.run").info("line %d of a run that rotates its log", n)
    files = sorted(tmp_path.glob(runlog.LOG_FILE + "*"))
    assert path in files and len(files) == runlog.BACKUPS + 1
    assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}
