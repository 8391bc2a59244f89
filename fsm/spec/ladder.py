"""The ladder's params as typed values (the spec loader has already checked names and types)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SignalParams:
    provider: str  # robust_twap | file
    lookback_bars: int
    entry_filter: str  # close_above_ref | none
    path: Path | None


@dataclass(frozen=True)
class LadderParams:
    strategy_id: str
    cl_ord_id_prefix: str
    symbol: str
    bar: str
    offsets: tuple[Decimal, ...]
    notional_per_rung: Decimal
    td_mode: str
    pos_side: str
    side: str
    expiry_bars: int
    hold_bars: int
    cancel_retry_seconds: int
    signal: SignalParams
    state_file: str
    exp_time_ms: int = 5000
    leverage: Decimal | None = None

    @classmethod
    def from_mapping(cls, params: Mapping[str, Any], *, base_dir: Path) -> LadderParams:
        sig = params["signal"]
        sig_path = sig.get("path")
        return cls(
            strategy_id=str(params["strategy_id"]),
            cl_ord_id_prefix=str(params["cl_ord_id_prefix"]),
            symbol=str(params["symbol"]),
            bar=str(params["bar"]),
            offsets=tuple(Decimal(str(o)) for o in params["offsets"]),
            notional_per_rung=Decimal(str(params["notional_per_rung"])),
            td_mode=str(params["td_mode"]),
            pos_side=str(params["pos_side"]),
            side=str(params["side"]),
            expiry_bars=int(params["expiry_bars"]),
            hold_bars=int(params["hold_bars"]),
            cancel_retry_seconds=int(params["cancel_retry_seconds"]),
            signal=SignalParams(
                provider=str(sig["provider"]),
                lookback_bars=int(sig.get("lookback_bars", 0)),
                entry_filter=str(sig.get("entry_filter", "none")),
                path=None if sig_path is None else (base_dir / str(sig_path)),
            ),
            state_file=str(params["state_file"]),
            exp_time_ms=int(params["exp_time_ms"]),
            leverage=None if params["leverage"] is None else Decimal(str(params["leverage"])),
        )
