"""OKX v5 request signing: timestamp, request path, prehash, HMAC, headers.

OKX verifies the signature over the exact bytes it receives, so the query string and the body are
built once here and the very same strings are sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

# Characters left as they are in query values: OKX ids, symbols, bars and comma-separated lists.
_QUERY_SAFE = "-._~,"
REDACTED = "<redacted>"


def iso_timestamp(ms: int) -> str:
    """Unix ms -> `2020-12-08T09:08:57.715Z` (ISO-8601 UTC, milliseconds, `Z`), as OKX requires."""
    seconds, millis = divmod(ms, 1000)
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


def request_path(path: str, params: Mapping[str, str | None] | None = None) -> str:
    """Path plus query, in the given order, dropping None: the string that is both signed and sent."""
    pairs = [(k, v) for k, v in (params or {}).items() if v is not None]
    if not pairs:
        return path
    return path + "?" + "&".join(f"{_q(k)}={_q(v)}" for k, v in pairs)


def _q(text: str) -> str:
    return quote(text, safe=_QUERY_SAFE)


def json_body(payload: Any) -> str:
    """The body string for a POST: compact and ASCII-only, so its UTF-8 bytes equal the signed text."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def prehash(timestamp: str, method: str, path_with_query: str, body: str) -> str:
    """timestamp + METHOD + requestPath (with query) + body, plain concatenation."""
    return timestamp + method.upper() + path_with_query + body


def sign(secret_key: str, message: str) -> str:
    """Base64(HMAC-SHA256(secret, message))."""
    digest = hmac.new(secret_key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class Signer:
    """Holds the credentials and builds the headers of every request; its repr shows no secret."""

    __slots__ = ("_api_key", "_demo", "_masked", "_passphrase", "_secret_key")

    def __init__(self, api_key: str, secret_key: str, passphrase: str, *, demo: bool) -> None:
        self._api_key = api_key
        self._secret_key = secret_key
        self._passphrase = passphrase
        self._demo = demo
        # Every answer is redacted: the forms of the three credentials are worked out once.
        self._masked = masked_forms((api_key, secret_key, passphrase))

    def __repr__(self) -> str:
        return f"Signer(api_key={mask(self._api_key)!r}, demo={self._demo})"

    def public_headers(self) -> dict[str, str]:
        """Headers of an unsigned request: JSON content type, plus the demo flag in demo mode."""
        headers = {"Content-Type": "application/json"}
        if self._demo:
            headers["x-simulated-trading"] = "1"
        return headers

    def signed_headers(self, timestamp: str, method: str, path_with_query: str, body: str) -> dict[str, str]:
        """The OK-ACCESS-* headers for exactly this timestamp, method, path and body."""
        return {
            **self.public_headers(),
            "OK-ACCESS-KEY": self._api_key,
            "OK-ACCESS-SIGN": sign(self._secret_key, prehash(timestamp, method, path_with_query, body)),
            "OK-ACCESS-TIMESTAMP": timestamp,
            "OK-ACCESS-PASSPHRASE": self._passphrase,
        }

    def redact(self, text: str) -> str:
        """`text` with the API key, the secret key and the passphrase masked, in every form `redact`
        knows."""
        return mask_forms(text, self._masked)


MIN_MASKED = 4  # no real credential is this short: OKX keys are UUIDs, secrets 32 hex digits


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret masked: as given, escaped as a message (repr) or a JSON line shows it,
    and each piece of it between control characters, stripped (what a server, a header check or a
    log keeps of a pasted value such as `"pass\\n"` or `"key\\r\\nX-Evil: 1"`). The one redactor: the
    client masks OKX's answers with it, the CLI and the runner every error text they show.

    A form shorter than MIN_MASKED is left alone: no OKX credential is that short, and masking a
    one-letter value would mangle every text and show where that letter stands."""
    return mask_forms(text, masked_forms(secrets))


def masked_forms(secrets: Iterable[str]) -> tuple[str, ...]:
    """Every form of `secrets` that `redact` masks, longest first (so no form leaves part of another)."""
    forms = {form for secret in secrets if secret for form in _forms(secret)}
    return tuple(sorted(forms, key=len, reverse=True))


def mask_forms(text: str, forms: tuple[str, ...]) -> str:
    """`text` with each of `forms` (from `masked_forms`) masked."""
    for form in forms:
        if form in text:
            text = text.replace(form, REDACTED)
    return text


def _forms(secret: str) -> set[str]:
    """The texts that would show `secret`, or what is left of it once its control characters split it."""
    pieces = "".join(c if c.isprintable() else "\n" for c in secret).split("\n")
    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], *(p.strip() for p in pieces)}
    return {form for form in forms if len(form) >= MIN_MASKED}


def mask(api_key: str) -> str:
    """An API key shortened for display: enough to tell keys apart, not enough to use one."""
    return api_key[:4] + "…" if len(api_key) > 8 else "…"
