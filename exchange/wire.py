"""The OKX response envelope: HTTP status + raw bytes -> `Envelope`, or `OkxInvalidPayload`.

Only the shape is judged here (is it `{"code": "<digits>", "msg": str, "data": [...]}`?). What a
non-zero code means for the caller (rejected, ambiguous, retry) is the client's decision. Real answers
bend the shape (facts sheet section 13): `code` may be a JSON number (an older 429, a 404), and a
request-level error may carry no `data` or an object there; both are read as what they mean.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from exchange.errors import EXCERPT_CHARS, OkxInvalidPayload

# Codes whose `data` carries the results: 0, and 1 / 2 with one sCode per item.
ITEM_CODES = frozenset({"0", "1", "2"})


@dataclass(frozen=True)
class Envelope:
    """A well-formed OKX response. `code` is always digits as a string. `data` is [] when a
    request-level error carried none (HTTP 429, 401) or carried an object (HTTP 404)."""

    http_status: int
    code: str
    msg: str
    data: list[Any]
    excerpt: str


def excerpt_of(body: bytes, redact: Callable[[str], str]) -> str:
    """The start of a body, decoded leniently, secrets redacted, at most EXCERPT_CHARS characters."""
    return redact(body[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace"))[:EXCERPT_CHARS]


def decode_envelope(http_status: int, body: bytes, redact: Callable[[str], str] = str) -> Envelope:
    """Decode one response body; anything that is not an OKX envelope raises OkxInvalidPayload."""
    excerpt = excerpt_of(body, redact)

    def invalid(reason: str) -> OkxInvalidPayload:
        return OkxInvalidPayload(reason, http_status=http_status, excerpt=excerpt)

    try:
        doc = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise invalid("response is not JSON") from None
    if not isinstance(doc, dict):
        raise invalid("response is not a JSON object")
    code = _code(doc.get("code"))
    if code is None:
        raise invalid("'code' is missing, or neither a numeric string nor a number")
    msg = doc.get("msg", "")
    if not isinstance(msg, str):
        raise invalid("'msg' is not a string")
    data = doc.get("data")
    if code not in ITEM_CODES and not isinstance(data, list):
        data = []  # a request-level error says everything in code and msg
    if not isinstance(data, list):
        raise invalid("'data' is missing or not a list")
    return Envelope(http_status=http_status, code=code, msg=redact(msg), data=data, excerpt=excerpt)


def objects(env: Envelope) -> list[Mapping[str, Any]]:
    """The items of `data`, each required to be a JSON object."""
    for item in env.data:
        if not isinstance(item, dict):
            raise OkxInvalidPayload(
                "an item of 'data' is not an object", http_status=env.http_status, excerpt=env.excerpt
            )
    return list(env.data)


def first_object(env: Envelope) -> Mapping[str, Any]:
    """The single object an endpoint such as balance or server time answers with."""
    items = objects(env)
    if not items:
        raise OkxInvalidPayload("'data' is empty", http_status=env.http_status, excerpt=env.excerpt)
    return items[0]


def _code(value: Any) -> str | None:
    """OKX's result code as a digit string: sent as one, or as a JSON number by older answers."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    return None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")
