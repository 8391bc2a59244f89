"""A candle file downloaded from OKX's public /market/history-candles: a range checked before anything
is fetched, pages appended oldest first as they come, and a download that resumes where its file ends.

The pace is the client's: it keeps within OKX's 20 requests / 2 s for the endpoint and waits out a 429
before asking again (the caller hears of each wait through the client's `on_retry`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from exchange.bars import bar_ms
from fsm.errors import EngineError, ExitStatus
from fsm.replay.candles import CandleFile, CandleFileError, append

if TYPE_CHECKING:
    from exchange import OkxClient


class FetchRefused(EngineError):
    """What was asked cannot be fetched: an unknown bar, since >= until, a date in the future, a file
    that cannot be written."""

    exit_code = ExitStatus.USAGE


def parse_date(text: str, option: str) -> int:
    """An ISO 8601 date or date-time (UTC unless it carries an offset) as Unix ms."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise FetchRefused(
            f"{option} {text!r}: expected an ISO 8601 date or date-time, e.g. 2026-01-05 or 2026-01-05T08:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def check_bar(bar: str) -> int:
    """The bar's length in ms; an unknown bar is refused."""
    try:
        return bar_ms(bar)
    except ValueError as exc:
        raise FetchRefused(str(exc)) from None


def refuse_empty(since_ms: int, until_ms: int) -> None:
    if since_ms >= until_ms:
        raise FetchRefused(f"--since {iso(since_ms)} is not before --until {iso(until_ms)}")


def range_end(since_ms: int, until_ms: int | None, now_ms: int) -> int:
    """The range's end (now, in exchange time, unless given); refuses a future date or an empty range."""
    for option, ms in (("--since", since_ms), ("--until", until_ms)):
        if ms is not None and ms > now_ms:
            raise FetchRefused(f"{option} {iso(ms)} is in the future (OKX's time is {iso(now_ms)})")
    until = now_ms if until_ms is None else until_ms
    refuse_empty(since_ms, until)
    return until


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Resume:
    """What the file already holds: its rows, its newest bar, and the bytes of a torn last line cut."""

    rows: int
    last_ts: int | None
    cut_bytes: int

    def start_ms(self, since_ms: int, bar: str) -> int:
        """Where fetching begins: --since, or the bar after the file's last one if that is later."""
        return since_ms if self.last_ts is None else max(since_ms, self.last_ts + bar_ms(bar))


def resume_point(path: Path, bar: str) -> Resume:
    """Where a download into `path` goes on from. A last line without its newline is what an interrupted
    append leaves: refused by the reader, it is cut (its bar is fetched again); whole, it gets its newline.
    Anything else wrong is refused (CandleFileError) with the file untouched."""
    if not path.parent.is_dir():
        raise FetchRefused(f"cannot write {path}: {path.parent} is not a directory")
    if not path.exists():
        return Resume(0, None, 0)
    newlines, torn = _line_ends(path)
    reader = CandleFile(path, bar)
    try:
        for _ in reader:
            pass
    except CandleFileError as exc:
        if not torn or exc.line != newlines + 1:
            raise
        with path.open("rb+") as data:
            data.truncate(path.stat().st_size - torn)
        return Resume(reader.rows, reader.last_ts, torn)
    if torn:
        with path.open("ab") as data:
            data.write(b"\n")
    return Resume(reader.rows, reader.last_ts, 0)


def _line_ends(path: Path) -> tuple[int, int]:
    """The file's newline count and the bytes after its last newline, read in chunks."""
    newlines, tail = 0, 0
    with path.open("rb") as data:
        for chunk in iter(lambda: data.read(1 << 16), b""):
            count = chunk.count(b"\n")
            newlines += count
            tail = len(chunk) - chunk.rfind(b"\n") - 1 if count else tail + len(chunk)
    return newlines, tail


def download(
    client: OkxClient,
    symbol: str,
    bar: str,
    since_ms: int,
    until_ms: int,
    path: Path,
    resume: Resume,
    on_page: Callable[[int, int], None],
) -> int:
    """Append the confirmed bars of [since, until) after what `path` holds; returns the rows added.
    `on_page(rows added so far, the newest bar's ts)` after each page written."""
    added = 0
    for page in client.history_candle_pages(symbol, bar, resume.start_ms(since_ms, bar), until_ms):
        if page:
            try:
                append(path, [candle.raw for candle in page])
            except OSError as exc:
                raise FetchRefused(f"cannot write {path}: {exc.strerror}") from None
            added += len(page)
            on_page(added, page[-1].ts)
    return added
