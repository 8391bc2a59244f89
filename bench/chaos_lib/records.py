"""What the harness judges from: the simulator's own records (kept over the run) and the files on disk."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.chaos_lib.sim import MACHINE, PREFIX

TERMINAL_RUNG_STATES = frozenset({"filled", "canceled", "rejected", "rejected_post_only"})
PENDING_OKX_STATES = frozenset({"live", "partially_filled"})


def state_path(state_dir: Path) -> Path:
    return state_dir / f"{MACHINE}_live.json"


def journal_path(state_dir: Path) -> Path:
    return state_dir / f"{MACHINE}_live.jsonl"


def read_snapshot(state_dir: Path) -> dict[str, Any] | None:
    """The state file's `snapshot` read directly (None: no file yet, or unreadable)."""
    try:
        doc = json.loads(state_path(state_dir).read_text())
    except (OSError, ValueError):
        return None
    snapshot = doc.get("snapshot") if isinstance(doc, dict) else None
    return snapshot if isinstance(snapshot, dict) else None


@dataclass
class Journal:
    """The JSONL journal as parsed records; lines that do not parse (a torn tail) are counted, not used."""

    records: list[dict[str, Any]]
    unparsable: int

    @classmethod
    def read(cls, state_dir: Path) -> Journal:
        records: list[dict[str, Any]] = []
        bad = 0
        try:
            lines = journal_path(state_dir).read_text(errors="replace").splitlines()
        except OSError:
            lines = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                bad += 1
                continue
            if isinstance(record, dict):
                records.append(record)
            else:
                bad += 1
        return cls(records, bad)

    def fill_trade_ids(self) -> set[str]:
        return {
            str(r["data"]["tradeId"])
            for r in self.records
            if r.get("kind") == "fill" and isinstance(r.get("data"), dict) and "tradeId" in r["data"]
        }

    def archived_rungs(self) -> list[dict[str, Any]]:
        """Every rung of every archived cycle, as the archive record wrote it."""
        rungs: list[dict[str, Any]] = []
        for r in self.records:
            if r.get("kind") == "archive" and isinstance(r.get("data"), dict):
                rungs.extend(x for x in r["data"].get("rungs", []) if isinstance(x, dict))
        return rungs


def _ours(client_order_id: str) -> bool:
    return client_order_id.startswith(PREFIX)


@dataclass
class VenueLedger:
    """Every order and fill the simulator ever showed in `/sim/state`, kept past its retention windows.

    Orders by ordId and algo orders by algoId (the latest view wins), fills by tradeId; and the clOrdIds
    seen on two pending orders in one snapshot.
    """

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    algos: dict[str, dict[str, Any]] = field(default_factory=dict)  # by algoId, the latest view
    fills: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending_twice: set[str] = field(default_factory=set)
    last: dict[str, Any] = field(default_factory=dict)

    def observe(self, state: dict[str, Any]) -> None:
        self.last = state
        pending: dict[str, int] = {}
        for order in state.get("orders", []):
            self.orders[str(order["ordId"])] = order
            cl = str(order.get("clOrdId") or "")
            if cl and order.get("state") in PENDING_OKX_STATES:
                pending[cl] = pending.get(cl, 0) + 1
        self.pending_twice |= {cl for cl, n in pending.items() if n > 1 and _ours(cl)}
        for algo in state.get("algos", []):
            self.algos[str(algo["algoId"])] = algo
        for fill in state.get("fills", []):
            self.fills[str(fill["tradeId"])] = fill

    def orders_by_client_order_id(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for order in self.orders.values():
            cl = str(order.get("clOrdId") or "")
            if cl:
                grouped.setdefault(cl, []).append(order)
        return grouped

    def pending_client_order_ids(self) -> set[str]:
        """clOrdIds of our orders pending in the latest snapshot."""
        return {
            str(o["clOrdId"])
            for o in self.last.get("orders", [])
            if o.get("state") in PENDING_OKX_STATES and _ours(str(o.get("clOrdId") or ""))
        }

    def our_fills(self) -> list[dict[str, Any]]:
        """Fills of our clOrdIds, and of the child orders our stops placed when they fired (those carry
        our algoClOrdId; their fills carry neither id, only the child's ordId)."""
        children = {o for o, order in self.orders.items() if _ours(str(order.get("algoClOrdId") or ""))}
        return [
            f
            for f in self.fills.values()
            if _ours(str(f.get("clOrdId") or "")) or str(f.get("ordId")) in children
        ]

    def live_algos(self) -> list[str]:
        """algoClOrdIds of our algo orders (stops) live in the latest snapshot."""
        return [str(a["algoClOrdId"]) for a in self.live_stops()]

    def live_stops(self) -> list[dict[str, Any]]:
        """Our algo orders (stops) live in the latest snapshot."""
        return [
            a
            for a in self.last.get("algos", [])
            if a.get("state") == "live" and _ours(str(a.get("algoClOrdId") or ""))
        ]

    def algos_by_client_id(self) -> dict[str, list[dict[str, Any]]]:
        """Every algo order of ours the venue ever showed, by algoClOrdId."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        for algo in self.algos.values():
            cl = str(algo.get("algoClOrdId") or "")
            if _ours(cl):
                grouped.setdefault(cl, []).append(algo)
        return grouped
