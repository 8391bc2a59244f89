"""OkxClient: OKX v5 REST over one requests.Session, with typed answers and a three-way POST outcome.

The client is its transport (exchange.transport: signing, retries, the clock offset) with the read
endpoints (exchange.reads), the trading endpoints (exchange.trading) and the algo-order endpoints
(exchange.algos) on top.
"""

from __future__ import annotations

from exchange.algos import AlgoEndpoints
from exchange.reads import ReadEndpoints
from exchange.signing import mask


class OkxClient(ReadEndpoints, AlgoEndpoints):
    """The OKX v5 REST client. Unless `armed`, trading methods raise OkxNotArmed before any I/O.

    `clock` (wall seconds), `monotonic` and `sleep` are injectable so tests control time.
    """

    def __repr__(self) -> str:
        return (
            f"OkxClient(base_url={self._base_url!r}, api_key={mask(self._api_key)!r}, "
            f"demo={self._demo}, armed={self._armed})"
        )

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def demo(self) -> bool:
        return self._demo

    @property
    def armed(self) -> bool:
        return self._armed

    def redact(self, text: str) -> str:
        """`text` with this client's credentials masked (exchange.signing.redact): for a caller that
        shows an error's text, which a layer below the client may have written."""
        return self._signer.redact(text)

    def close(self) -> None:
        """Close the underlying session (its pooled connections)."""
        self._session.close()
