"""Request authentication as OKX does it: HMAC-SHA256 over the exact bytes received, never re-serialised."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .errors import ApiError

TIMESTAMP_WINDOW_MS = 30_000
_TIMESTAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$")


@dataclass(frozen=True)
class Credentials:
    """The one demo API key the simulator knows. Secrets stay out of the repr."""

    api_key: str
    secret_key: str = field(repr=False)
    passphrase: str = field(repr=False)


def sign(secret_key: str, prehash: bytes) -> str:
    """Base64(HMAC-SHA256(secret, timestamp + METHOD + path?query + body))."""
    digest = hmac.new(secret_key.encode("utf-8"), prehash, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def parse_timestamp(value: str, exact_ms: bool = False) -> int | None:
    """ISO-8601 UTC with a Z suffix -> Unix ms; None when malformed. The fraction is optional with 1-9
    digits, or exactly 3 digits when `exact_ms` (the quirk timestamp_exact_ms)."""
    match = _TIMESTAMP.match(value)
    if match is None or (exact_ms and len(match.group(7) or "") != 3):
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = (match.group(7) or "0").ljust(3, "0")[:3]
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    return int(moment.timestamp()) * 1000 + int(fraction)


def authenticate(
    header: Callable[[str], str | None],
    method: str,
    target: bytes,
    body: bytes,
    credentials: Credentials,
    clocks_ms: Sequence[int],
    exact_ms: bool = False,
) -> None:
    """Raise ApiError with OKX's 501xx code (HTTP 401) unless the request is signed by our demo key.

    The timestamp is fresh within 30 s of any of `clocks_ms` (the simulator's clock and the host's wall
    clock), so a client that signs with its own wall clock works whatever the simulator's clock shows.
    """

    def present(name: str) -> str | None:
        value = header(name)
        return value if value else None

    def raw(value: str) -> bytes:
        # http.server decodes header bytes as latin-1; encoding back gives the bytes that were sent.
        return value.encode("latin-1", errors="replace")

    key = present("OK-ACCESS-KEY")
    signature = present("OK-ACCESS-SIGN")
    timestamp = present("OK-ACCESS-TIMESTAMP")
    passphrase = present("OK-ACCESS-PASSPHRASE")
    if key is None:
        raise ApiError("50103")
    if signature is None:
        raise ApiError("50106")
    if timestamp is None:
        raise ApiError("50107")
    if passphrase is None:
        raise ApiError("50104")
    sent_ms = parse_timestamp(timestamp, exact_ms)
    if sent_ms is None:
        raise ApiError("50112")
    if all(abs(sent_ms - now_ms) > TIMESTAMP_WINDOW_MS for now_ms in clocks_ms):
        raise ApiError("50102")
    if not hmac.compare_digest(raw(key), credentials.api_key.encode("utf-8")):
        raise ApiError("50111")
    if present("x-simulated-trading") != "1":
        raise ApiError("50101")
    if not hmac.compare_digest(raw(passphrase), credentials.passphrase.encode("utf-8")):
        raise ApiError("50105")
    prehash = raw(timestamp) + method.encode("ascii") + target + body
    expected = sign(credentials.secret_key, prehash)
    if not hmac.compare_digest(expected.encode("ascii"), raw(signature)):
        raise ApiError("50113")
