"""The invariants, judged only from the venue's records and the files on disk."""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bench.chaos_lib.records import PENDING_OKX_STATES, TERMINAL_RUNG_STATES, Journal, VenueLedger
from bench.chaos_lib.sim import HAND_PREFIX, PREFIX, SYMBOL
from fsm.engine.observe import DEADLINE_MARGIN_MS

_ENDED = frozenset({"filled", "canceled", "mmp_canceled"})
NAMES = ("duplicates", "overlapping", "lost_fills", "invented_terminals", "stuck", "unprotected")
_LEVEL = re.compile(r"r(\d+)a(\d+)$")


@dataclass
class Violations:
    """Each invariant's violations, keyed so one fact is counted once, with its evidence."""

    duplicates: dict[str, str] = field(default_factory=dict)  # clOrdId (algoClOrdId) on two venue orders
    overlapping: dict[str, str] = field(default_factory=dict)  # ...of which two were pending at once
    lost_fills: dict[str, str] = field(default_factory=dict)  # tradeId -> evidence
    invented_terminals: dict[str, str] = field(default_factory=dict)  # clOrdId -> evidence
    stuck: dict[str, str] = field(default_factory=dict)  # what -> evidence
    unprotected: dict[str, str] = field(default_factory=dict)  # the tick after which -> evidence

    def counts(self) -> dict[str, int]:
        return {
            "duplicates": len(self.duplicates),
            "lost_fills": len(self.lost_fills),
            "invented_terminals": len(self.invented_terminals),
            "stuck": len(self.stuck),
            "unprotected_ticks": len(self.unprotected),
        }

    def details(self) -> list[str]:
        lines: list[str] = []
        for name in NAMES:
            found: dict[str, str] = getattr(self, name)
            lines.extend(f"{name}: {key}: {why}" for key, why in found.items())
        return lines


def order_kind(client_order_id: str) -> str:
    """`exit` for the cycle's close order (rung 0), `entry` for a rung, from the clOrdId's shape."""
    match = _LEVEL.search(client_order_id)
    return "exit" if match and match.group(1) == "0" else "entry"


def check_rungs(rungs: list[dict[str, Any]], ledger: VenueLedger, where: str, found: dict[str, str]) -> None:
    """Invented terminals: a terminal rung whose clOrdId the venue shows pending; a `rejected` rung
    whose clOrdId the venue has an order for at all."""
    pending = ledger.pending_client_order_ids()
    by_cl = ledger.orders_by_client_order_id()
    for rung in rungs:
        cl, state = str(rung.get("clOrdId") or ""), str(rung.get("state") or "")
        if not cl or cl in found:
            continue
        if state in TERMINAL_RUNG_STATES and cl in pending:
            okx = [o["state"] for o in by_cl.get(cl, []) if o.get("state") in PENDING_OKX_STATES]
            found[cl] = f"{where}: rung {state} while OKX shows the order {'/'.join(okx)}"
        elif state == "rejected" and cl in by_cl:
            shown = ", ".join(f"{o['ordId']}={o['state']}" for o in by_cl[cl])
            found[cl] = f"{where}: rung rejected while OKX has the order(s) {shown}"


def check_duplicates(ledger: VenueLedger, v: Violations) -> None:
    """A clOrdId on two venue orders at all; and separately, two whose lifetimes overlapped. An
    algoClOrdId on two algo orders (stops) at all."""
    for cl, algos in ledger.algos_by_client_id().items():
        if len(algos) > 1:
            shown = ", ".join(f"{a['algoId']}={a['state']}@{a['cTime']}" for a in algos)
            v.duplicates[cl] = f"{len(algos)} stops: {shown}"
    for cl, orders in ledger.orders_by_client_order_id().items():
        if not cl.startswith(PREFIX) or len(orders) < 2:
            continue
        orders = sorted(orders, key=lambda o: int(o["cTime"]))
        shown = ", ".join(f"{o['ordId']}={o['state']}@{o['cTime']}" for o in orders)
        v.duplicates[cl] = f"{len(orders)} {order_kind(cl)} orders: {shown}"
        spans = [(int(o["cTime"]), int(o["uTime"]) if o["state"] in _ENDED else math.inf) for o in orders]
        if cl in ledger.pending_twice or any(
            b_start < a_end for (_, a_end), (b_start, _) in itertools.pairwise(spans)
        ):
            v.overlapping[cl] = shown


def check_lost_fills(ledger: VenueLedger, journal: Journal, v: Violations) -> None:
    """Every venue fill of a clOrdId with the machine's prefix (or of a child order its stop placed) has a
    `fill` record with its tradeId."""
    journaled = journal.fill_trade_ids()
    for fill in ledger.our_fills():
        trade_id = str(fill["tradeId"])
        if trade_id not in journaled:
            cl = str(fill["clOrdId"] or "")
            kind = order_kind(cl) if cl else f"stop child {fill['ordId']}"
            v.lost_fills[trade_id] = (
                f"{kind} fill of {cl}: {fill['side']} {fill['fillSz']} @ {fill['fillPx']} "
                f"(ts {fill['ts']}) not in the journal"
            )


def hand_net(ledger: VenueLedger) -> Decimal:
    """Contracts the hand trades (clOrdId `hand...`) bought minus sold, from the venue's fills."""
    total = Decimal(0)
    for fill in ledger.fills.values():
        if str(fill.get("clOrdId") or "").startswith(HAND_PREFIX) and fill.get("instId") == SYMBOL:
            sz = Decimal(fill["fillSz"])
            total += sz if fill["side"] == "buy" else -sz
    return total


def venue_long(state: dict[str, Any]) -> Decimal:
    return sum(
        (
            Decimal(p["pos"])
            for p in state.get("positions", [])
            if p.get("instId") == SYMBOL and p.get("posSide") == "long"
        ),
        Decimal(0),
    )


def check_stuck(snapshot: dict[str, Any] | None, ledger: VenueLedger, v: Violations) -> None:
    """After the settle: the machine rests in idle/closed, and then nothing of its own is left on the
    venue (no pending order with the prefix, no live stop; the long position less the hand trades is 0)."""
    if snapshot is None:
        v.stuck["state"] = "no readable state file after the settle"
        return
    state = str(snapshot.get("state"))
    if state not in ("idle", "closed"):
        by_cl = ledger.orders_by_client_order_id()
        open_rungs = [
            f"{r.get('clOrdId')} {r.get('state')} (OKX: "
            + (
                ", ".join(
                    f"{o['state']} cancelSource={o.get('cancelSource')!r}"
                    for o in by_cl.get(str(r.get("clOrdId")), [])
                )
                or "no order"
            )
            + ")"
            for r in snapshot.get("rungs", [])
            if r.get("state") not in TERMINAL_RUNG_STATES
        ]
        v.stuck["state"] = f"the machine is still in {state} after the settle; rungs: {'; '.join(open_rungs)}"
        return
    for cl in sorted(ledger.pending_client_order_ids()):
        v.stuck[cl] = f"machine {state}, but OKX shows {cl} pending"
    for algo_cl in ledger.live_algos():
        v.stuck[algo_cl] = f"machine {state}, but OKX shows its stop {algo_cl} live"
    held, hands = venue_long(ledger.last), hand_net(ledger)
    own = own_size(ledger)
    if own != 0:
        why = "the machine closed contracts it does not own" if own < 0 else "left open"
        v.stuck["position"] = f"machine {state}, OKX long {held} - hand trades {hands} = {own} ({why})"


def own_size(ledger: VenueLedger) -> Decimal:
    """The machine's own size on the venue: the long position less what the hand trades hold."""
    return venue_long(ledger.last) - hand_net(ledger)


def check_protected(snapshot: dict[str, Any] | None, ledger: VenueLedger, where: str, v: Violations) -> None:
    """After a clean tick: the machine's own size on the venue has a live stop of ours at least that size,
    unless the machine's exit is on its way (sent, and its expTime not yet passed on the venue's clock:
    OKX may still apply it, and the stop is cancelled before the exit is sent, never both at once)."""
    own = own_size(ledger)
    if own <= 0:
        return
    sizes = [Decimal(a["sz"]) for a in ledger.live_stops() if a.get("sz")]
    if any(sz >= own for sz in sizes):
        return
    close = (snapshot or {}).get("close_request") or {}
    exp, sent = close.get("exp_time_ms"), close.get("sent_ts")
    if sent is not None and exp is not None and int(ledger.last["clock_ms"]) <= int(exp) + DEADLINE_MARGIN_MS:
        return
    state = (snapshot or {}).get("state")
    stops = [str(s.get("state")) for s in (snapshot or {}).get("stops", [])]
    v.unprotected[where] = (
        f"own {own} on OKX, live stops of ours {[format(sz, 'f') for sz in sizes] or 'none'} "
        f"(machine {state}, its stops {stops}, exit {close.get('clOrdId')} {close.get('outcome')})"
    )


def judge(snapshot: dict[str, Any] | None, ledger: VenueLedger, journal: Journal, v: Violations) -> None:
    """The final pass (run-time findings are already in `v`): duplicates, lost fills, invented
    terminals over every archived cycle and the final state, stuck."""
    check_duplicates(ledger, v)
    check_lost_fills(ledger, journal, v)
    check_rungs(journal.archived_rungs(), ledger, "archived", v.invented_terminals)
    if snapshot is not None:
        check_rungs(list(snapshot.get("rungs", [])), ledger, "final state", v.invented_terminals)
    check_stuck(snapshot, ledger, v)
