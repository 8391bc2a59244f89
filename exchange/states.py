"""OKX's own words for an order's state (`state`) and why it was canceled (`cancelSource`).

These are OKX's vocabulary, mirrored as OKX sends it; the engine's order machine names its own states
in machines/okx_order.yaml.
"""

from __future__ import annotations

OKX_CANCELED = "canceled"
OKX_CANCELED_STATES = frozenset({OKX_CANCELED, "mmp_canceled"})  # mmp: market-maker protection
OKX_ENDED_STATES = frozenset({"filled", *OKX_CANCELED_STATES})
POST_ONLY_CANCEL_SOURCE = "31"  # canceled because a post-only order would have taken liquidity
