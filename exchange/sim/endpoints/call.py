"""What an endpoint handler is given, and the readers of its query and body several endpoints share."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import params
from ..errors import ApiError, bad_param
from ..server import Response
from ..venue import Venue

INST_TYPES = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "EVENTS")
_UNIX_MS = re.compile(r"\d{1,19}")


@dataclass(frozen=True)
class Call:
    """One request as its handler sees it: query, parsed body, arrival time and deadline."""

    query: Mapping[str, str]
    body: Any  # the parsed JSON body of a POST, None for a GET
    in_time_us: int  # when the gateway received it (sim clock)
    exp_time_ms: int | None = None  # the expTime deadline, on endpoints that honour it
    async_cancel: bool = False  # cancels are accepted now and carried out at the next matching step

    def expired(self, now_ms: int) -> bool:
        """Whether processing at `now_ms` (sim time) comes after the request's expTime."""
        return self.exp_time_ms is not None and now_ms > self.exp_time_ms


Handler = Callable[[Venue, Call], Response]


def exp_time(header: str | None, now_ms: int) -> int | None:
    """The `expTime` header (Unix ms): malformed is 51000, a deadline already past on arrival 50036."""
    if header is None:
        return None
    if not _UNIX_MS.fullmatch(header):
        raise bad_param("expTime")
    deadline = int(header)
    if deadline < now_ms:
        raise ApiError("50036")
    return deadline


def split(query: Mapping[str, str], name: str) -> set[str] | None:
    """A comma-separated list parameter as a set; None when absent."""
    value = params.text(query, name)
    return None if value is None else set(value.split(","))


def objects(body: Any, many: bool) -> list[Mapping[str, Any]]:
    """The body's order items: one object, or (batch) an array of objects."""
    rows = body if many else [body]
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ApiError("50002")
    return rows
