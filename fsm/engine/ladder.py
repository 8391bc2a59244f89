"""The entry ladder as a machine's params declare it: one post-only payload per rung, nothing sent.

The per-rung work (price by side and its rounding, size from notional or contracts, minSz, the
payload and its clOrdId) is `exchange.render_ladder_rung_payload`; this module only walks the rungs.
"""

from __future__ import annotations

from decimal import Decimal

from exchange import Instrument, render_ladder_rung_payload
from fsm.spec.ladder import LadderParams

# The `tag` every entry rung carries, and only they (never an exit or a stop): the tag of the runner's
# Cancel All After (fsm.service.deadman), so a dead runner's working entries are cancelled by OKX while
# the trader's own orders, other tools' and our stops stay.
ENTRY_TAG = "okxfsm"


def render_ladder(
    reference_px: Decimal,
    params: LadderParams,
    instrument: Instrument,
    signal_ts_ms: int,
    attempt: int,
    *,
    pos_side: str,
) -> list[dict[str, str]]:
    """Every rung's payload, rung i numbered i + 1 in its clOrdId: `offsets[i]` below the reference
    for a buy ladder, above it for a sell ladder, sized by `notional_per_rung` or `sizes[i]`.

    `pos_side` is what the orders carry on OKX (`net` in net mode). Every rung carries ENTRY_TAG. A
    rung that cannot be placed (below minSz, say) fails the whole ladder with an OkxInvalidRequest naming it.
    """
    sizes = params.sizes or (None,) * len(params.offsets)
    return [
        render_ladder_rung_payload(
            reference_px=reference_px,
            offset=offset,
            side=params.side,
            instrument=instrument,
            prefix=params.client_order_id_prefix,
            signal_ts_ms=signal_ts_ms,
            rung=rung,
            attempt=attempt,
            notional=None if sz is not None else params.notional_per_rung,
            sz=sz,
            td_mode=params.td_mode,
            pos_side=pos_side,
            tag=ENTRY_TAG,
        )
        for rung, (offset, sz) in enumerate(zip(params.offsets, sizes, strict=True), start=1)
    ]
