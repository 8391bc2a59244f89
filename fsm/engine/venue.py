"""Building OKX clients from the environment: credentials never printed, armed only on request."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from exchange import OkxClient
from fsm.errors import EngineError, ExitStatus

if TYPE_CHECKING:
    from exchange.ws import OkxPrivateStream

DEFAULT_BASE_URL = "https://www.okx.com"
ENV_KEY, ENV_SECRET, ENV_PASSPHRASE, ENV_BASE_URL, ENV_WS_URL = (
    "OKX_API_KEY",
    "OKX_API_SECRET",
    "OKX_API_PASSPHRASE",
    "OKX_BASE_URL",
    "OKX_WS_URL",
)


class MissingCredentials(EngineError):
    """A command that talks to OKX was run without the credential variables set."""

    exit_code = ExitStatus.USAGE


@dataclass(frozen=True)
class Venue:
    """Where to connect and how: base URL, demo or live. Credentials stay in the environment."""

    base_url: str
    live: bool

    @classmethod
    def from_options(cls, base_url: str | None, live: bool) -> Venue:
        return cls(base_url=base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL, live=live)

    def client(self, *, armed: bool) -> OkxClient:
        """A client for this venue; trading methods refuse before any I/O unless `armed`."""
        self._check_credentials()
        return OkxClient(
            os.environ[ENV_KEY],
            os.environ[ENV_SECRET],
            os.environ[ENV_PASSPHRASE],
            base_url=self.base_url,
            demo=not self.live,
            armed=armed,
        )

    def private_stream(
        self, ws_url: str | None, now_ms: Callable[[], int], login_ms: Callable[[], int]
    ) -> OkxPrivateStream:
        """The private WebSocket of this venue: `ws_url`, else $OKX_WS_URL, else OKX's live or demo host."""
        from exchange.ws import DEMO_PRIVATE_URL, LIVE_PRIVATE_URL, OkxPrivateStream

        self._check_credentials()
        url = ws_url or os.environ.get(ENV_WS_URL) or (LIVE_PRIVATE_URL if self.live else DEMO_PRIVATE_URL)
        return OkxPrivateStream(
            url,
            os.environ[ENV_KEY],
            os.environ[ENV_SECRET],
            os.environ[ENV_PASSPHRASE],
            now_ms=now_ms,
            login_ms=login_ms,
        )

    def _check_credentials(self) -> None:
        missing = [n for n in (ENV_KEY, ENV_SECRET, ENV_PASSPHRASE) if not os.environ.get(n)]
        if missing:
            raise MissingCredentials(
                f"set {', '.join(missing)} in the environment (and {ENV_BASE_URL} or --base-url for "
                "another venue, e.g. the line `okx-fsm sim` prints)"
            )
