"""What a venue URL may be, checked before any request: REST `scheme://host[:port]` and nothing more
(the client appends the paths); a WebSocket the same, with its path and query.

Standard library only, so the CLI can check `--base-url` and `--ws-url` without loading the HTTP stack.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def url_problem(url: str, *, websocket: bool = False) -> str | None:
    """Why `url` is not a REST base URL (or, `websocket`, a WebSocket URL); None when it is.

    urlsplit takes a port above 65535 or not a number and fails only when the port is read (requests
    when it builds the first request), so every part is checked here."""
    schemes = ("wss", "ws") if websocket else ("https", "http")
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
    if not websocket and (parts.path not in ("", "/") or parts.query):
        return "nothing may follow host[:port]"
    return None
