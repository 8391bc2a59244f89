"""What a URL must be to be connected to, checked before any request: a REST base URL is
`scheme://host[:port]` and nothing more (the client appends the paths); an endpoint (a WebSocket, a
webhook) may go on with its path and query.

Standard library only, so the CLI can check its URL options without loading the HTTP stack.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit


def url_problem(
    url: str, schemes: Collection[str] = ("https", "http"), *, endpoint: bool = False
) -> str | None:
    """Why `url` cannot be connected to as a base URL (or, `endpoint`, with a path and query) with one of
    `schemes`; None when it can.

    urlsplit takes a port above 65535 or not a number and fails only when the port is read (requests
    when it builds the first request), so every part is checked here. A user or password is refused:
    a URL is printed in logs and errors, a secret must not be."""
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
    if parts.fragment:
        return "a #fragment in it"
    if not endpoint and (parts.path not in ("", "/") or parts.query):
        return "nothing may follow host[:port]"
    return None
