"""Funding in a report: what the venue charged the account, read from its account bills (OKX's bill
objects, type 8). The engine does not journal funding, so a replay's report reads the bills the replay
wrote beside its journal (venue_bills.jsonl); a live journal's report has no bills and says so."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from fsm.engine.orders import dec

BILL_FUNDING_FEE = "8"


@dataclass(frozen=True)
class Funding:
    """Whether funding was charged, from which file, how many charges and their total (negative: paid)."""

    applied: bool
    source: str | None
    charges: int = 0
    total: Decimal = Decimal(0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "source": self.source,
            "charges": self.charges,
            "total": dec(self.total),
        }


def from_bills(path: Path, applied: bool) -> Funding:
    """The funding bills of `path` (one JSON bill a line), summed; `applied` says whether funding was on."""
    bills = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    paid = [Decimal(b["balChg"]) for b in bills if b.get("type") == BILL_FUNDING_FEE]
    return Funding(applied, path.name, len(paid), sum(paid, Decimal(0)))
