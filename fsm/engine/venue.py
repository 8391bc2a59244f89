"""Building OKX clients from the environment: credentials read and checked in one place, never
printed, and masked in any text shown; clients armed only on request.

Importing it loads no HTTP stack: the CLI masks every error it prints with `mask_credentials`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from exchange.signing import redact
from fsm.errors import EngineError, ExitStatus

if TYPE_CHECKING:
    from exchange import OkxClient, OkxError
    from exchange.ws import Channel, OkxPrivateStream

R = TypeVar("R")

DEFAULT_BASE_URL = "https://www.okx.com"
ENV_KEY, ENV_SECRET, ENV_PASSPHRASE, ENV_BASE_URL, ENV_WS_URL = (
    "OKX_API_KEY",
    "OKX_API_SECRET",
    "OKX_API_PASSPHRASE",
    "OKX_BASE_URL",
    "OKX_WS_URL",
)
CREDENTIAL_VARIABLES = (ENV_KEY, ENV_SECRET, ENV_PASSPHRASE)


class MissingCredentials(EngineError):
    """A command that talks to OKX was run without the credential variables set."""

    exit_code = ExitStatus.USAGE


class UnpairedWsUrl(EngineError):
    """The business WebSocket URL cannot be derived from the private one given (--ws-url, OKX_WS_URL):
    its path does not end in /ws/v5/private, so OKX's pairing says nothing about it."""


class MalformedCredentials(EngineError):
    """A credential variable holds a control character, whitespace at an end or a character outside
    printable ASCII (a pasted newline, a file read with its line end, a smart quote): sent, it would be
    refused or break a header, and `requests` would quote it in its error. Refused before any request;
    the message names the variable, never its value.
    """

    exit_code = ExitStatus.USAGE


@dataclass(frozen=True, repr=False)
class Credentials:
    """The API key, secret key and passphrase, as the environment holds them once checked."""

    api_key: str
    secret_key: str
    passphrase: str

    @classmethod
    def from_environment(cls) -> Credentials:
        """Read the three variables; refuse one that is unset or empty, or holds a character a header
        cannot carry as it is (a control or invisible character, whitespace at an end, anything outside
        printable ASCII: OKX's keys, secrets and passphrases are ASCII, and a header carries no other)."""
        values = {name: os.environ.get(name, "") for name in CREDENTIAL_VARIABLES}
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise MissingCredentials(
                f"set {', '.join(missing)} in the environment (and {ENV_BASE_URL} or --base-url for "
                "another venue, e.g. the line `okx-fsm sim` prints)"
            )
        malformed = [name for name, v in values.items() if v != v.strip() or not _printable_ascii(v)]
        if malformed:
            raise MalformedCredentials(
                f"malformed {', '.join(malformed)}: a control character, whitespace at an end or a character "
                "outside printable ASCII (a pasted newline or smart quote?); set the value without it (the "
                "value is not shown)"
            )
        return cls(*values.values())


def _printable_ascii(value: str) -> bool:
    return value.isascii() and value.isprintable()


def mask_credentials(text: str) -> str:
    """`text` with whatever the credential variables hold masked, well-formed or not (the one redactor,
    exchange.signing.redact): the CLI's last word on every error it prints."""
    return redact(text, (os.environ.get(name, "") for name in CREDENTIAL_VARIABLES))


@dataclass(frozen=True)
class Venue:
    """Where to connect and how: base URL, demo or live. Credentials stay in the environment."""

    base_url: str
    live: bool

    @classmethod
    def from_options(cls, base_url: str | None, live: bool) -> Venue:
        return cls(base_url=base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL, live=live)

    def client(self, *, armed: bool, orders_per_minute: int | None = None) -> OkxClient:
        """A client for this venue; trading methods refuse before any I/O unless `armed`. With
        `orders_per_minute` (the limits file's max_orders_per_minute), no more orders than that are
        placed, amended or cancelled in any minute: the excess waits, and the wait is logged."""
        from exchange import OkxClient

        creds = Credentials.from_environment()
        return OkxClient(
            creds.api_key,
            creds.secret_key,
            creds.passphrase,
            base_url=self.base_url,
            demo=not self.live,
            armed=armed,
            orders_per_minute=orders_per_minute,
            on_wait=_log_wait,
        )

    def public_client(self, on_retry: Callable[[str, OkxError, float], None] | None = None) -> OkxClient:
        """A client for OKX's public market data: no credentials read or sent, no demo header (history
        comes from the live market, the prices a replay should see). Its trading methods refuse."""
        from exchange import OkxClient

        return OkxClient("", "", "", base_url=self.base_url, demo=False, armed=False, on_retry=on_retry)

    def private_stream(
        self, ws_url: str | None, now_ms: Callable[[], int], login_ms: Callable[[], int], channel: Channel[R]
    ) -> OkxPrivateStream[R]:
        """A private WebSocket stream of `channel` on this venue. The private URL is `ws_url`, else
        $OKX_WS_URL, else OKX's live or demo host; a business channel (orders-algo) is on the business
        URL paired with it (exchange.ws.channel_url)."""
        from exchange import OkxInvalidRequest
        from exchange.ws import DEMO_PRIVATE_URL, LIVE_PRIVATE_URL, OkxPrivateStream, channel_url

        creds = Credentials.from_environment()
        url = ws_url or os.environ.get(ENV_WS_URL) or (LIVE_PRIVATE_URL if self.live else DEMO_PRIVATE_URL)
        try:
            url = channel_url(url, channel)
        except OkxInvalidRequest as exc:
            raise UnpairedWsUrl(f"--ws-url / {ENV_WS_URL}: {exc}") from None
        return OkxPrivateStream(
            url,
            creds.api_key,
            creds.secret_key,
            creds.passphrase,
            channel=channel,
            now_ms=now_ms,
            login_ms=login_ms,
        )


def _log_wait(what: str, seconds: float) -> None:
    """A request held back by a rate limit (OKX's, or the trader's order budget), as the log says it."""
    logging.getLogger("okx_fsm.rate").info("rate limit: %s waited %.1f s before it was sent", what, seconds)
