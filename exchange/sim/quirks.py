"""Switches for OKX behaviour the facts sheet marks "not verified" (section 11) or has seen in more than
one form (section 13): each is testable both ways.

The defaults are the simulator's best reading of OKX. `POST /sim/quirks` (or `Simulator(quirks=...)`)
changes any of them; `GET /sim/quirks` shows them all. /sim/reset restores the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

_CHOICES: dict[str, tuple[Any, ...]] = {
    # sCode for a cancel of an order that is already canceled: 51400 (2026 docs) or 51401 (seen in 2022).
    "cancel_canceled_code": ("51400", "51401"),
    # sCode for sz below minSz on a SWAP: 51020, 51120 or 51000 are all plausible.
    "min_sz_code": ("51020", "51120", "51000"),
    # sCode for a reduce-only (or closing) order larger than what the position can close.
    "reduce_only_oversize_code": ("51112", "51134", "51148"),
    # Whether tdMode "isolated" is accepted for SWAP in Futures mode (acctLv 2); refused with 51010 if not.
    "isolated_swap_in_futures_mode": (True, False),
    # Whether reduceOnly (and other booleans) may come as the strings "true"/"false" besides JSON booleans.
    "boolean_strings": (True, False),
    # Whether OK-ACCESS-TIMESTAMP must have exactly 3 fraction digits (else 50112), or 0 to 9 are accepted.
    "timestamp_exact_ms": (False, True),
    # Code for GET /trade/order-algo of an unknown algo: 51603 (as for orders) or 51063.
    "algo_unknown_code": ("51603", "51063"),
    # A fired reduce-only algo larger than what the position can still close: its child is capped to
    # that ("cap"), or refused whole like any reduce-only order ("fail": the algo ends order_failed).
    "algo_child_oversize": ("cap", "fail"),
    # Whether bare error bodies (HTTP 429 50011, the 401s) carry `code` as a JSON number, as older captured
    # answers do (`{"msg":"Requests too frequent.","code":50011}`), instead of a string.
    "numeric_bare_codes": (False, True),
    # Whether REST order and fill objects leave their empty fields out instead of sending "", fills also
    # without subType and tradeQuoteCcy (a captured 2023 SWAP fills row had neither).
    "absent_optional_fields": (False, True),
    # Whether a Cancel All After timer that runs out also cancels the live algo orders it covers (every
    # one, or those of its tag): OKX speaks of pending order-book orders only and does not say.
    "caa_cancels_algos": (False, True),
}


@dataclass(frozen=True)
class Quirks:
    cancel_canceled_code: str = "51400"
    min_sz_code: str = "51020"
    reduce_only_oversize_code: str = "51112"
    isolated_swap_in_futures_mode: bool = True
    boolean_strings: bool = True
    timestamp_exact_ms: bool = False
    algo_unknown_code: str = "51603"
    algo_child_oversize: str = "cap"
    numeric_bare_codes: bool = False
    absent_optional_fields: bool = False
    caa_cancels_algos: bool = False

    def updated(self, changes: Mapping[str, Any]) -> Quirks:
        """A copy with `changes` applied; an unknown name or a value outside its choices is a ValueError."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown quirks: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        for name, value in changes.items():
            choices = _CHOICES[name]
            if value not in choices or type(value) is not type(choices[0]):
                raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}")
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
