"""The OKX response envelope: HTTP status + raw bytes -> `Envelope`, or `OkxInvalidPayload`.

Only the shape is judged here (is it `{"code": "<digits>", "msg": str, "data": [...]}`?). What a
non-zero code means for the caller (rejected, ambiguous, retry) is the client's decision.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from exchange.errors import EXCERPT_CHARS, OkxInvalidPayload


@dataclass(frozen=True)
class Envelope:
    """A well-formed OKX response. `data` is [] when an error envelope carried none (HTTP 429, 401)."""

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
    code = doc.get("code")
    if not isinstance(code, str):
        raise invalid("'code' is missing or not a string")
    if not (code.isascii() and code.isdigit()):
        raise invalid("'code' is not a numeric string")
    msg = doc.get("msg", "")
    if not isinstance(msg, str):
        raise invalid("'msg' is not a string")
    if "data" not in doc and code != "0":
        data: Any = []
    else:
        data = doc.get("data")
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


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")
