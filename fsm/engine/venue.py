"""Building OKX clients from the environment: credentials never printed, armed only on request."""

from __future__ import annotations

import os
from dataclasses import dataclass

from exchange import OkxClient
from fsm.errors import EngineError, ExitStatus

DEFAULT_BASE_URL = "https://www.okx.com"
ENV_KEY, ENV_SECRET, ENV_PASSPHRASE, ENV_BASE_URL = (
    "OKX_API_KEY",
    "OKX_API_SECRET",
    "OKX_API_PASSPHRASE",
    "OKX_BASE_URL",
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
        missing = [n for n in (ENV_KEY, ENV_SECRET, ENV_PASSPHRASE) if not os.environ.get(n)]
        if missing:
            raise MissingCredentials(
                f"set {', '.join(missing)} in the environment (and {ENV_BASE_URL} or --base-url for "
                "another venue, e.g. the line `okx-fsm sim` prints)"
            )
        return OkxClient(
            os.environ[ENV_KEY],
            os.environ[ENV_SECRET],
            os.environ[ENV_PASSPHRASE],
            base_url=self.base_url,
            demo=not self.live,
            armed=armed,
        )
