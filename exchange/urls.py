"""What a venue URL may be: `scheme://host[:port]` and nothing more, checked before any request.

Standard library only, so the CLI can check `--base-url` and `--ws-url` without loading the HTTP stack.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

HTTP_SCHEMES = ("https", "http")
WS_SCHEMES = ("wss", "ws")


def url_problem(url: str, schemes: Collection[str]) -> str | None:
    """Why `url` is not `scheme://host[:port]` with one of `schemes`; None when it is.

    urllib and requests accept what cannot be connected to (a port above 65535, an unclosed IPv6
    bracket) and fail only when the first request is built, so every part is checked here."""
    try:
        parts = urlsplit(url)
        port = parts.port  # a port that is not a number or is out of range raises here
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in schemes:
        return f"the scheme must be {' or '.join(schemes)}"
    if not parts.hostname:
        return "no host"
    if any(c.isspace() for c in url):
        return "a space in it"
    if port == 0:
        return "port 0 cannot be connected to"
    if parts.username is not None:
        return "a user or password in it (never put a secret in a URL)"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "nothing may follow host[:port]"
    return None
