"""The invariants, judged only from the venue's records and the files on disk."""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bench.chaos_lib.records import PENDING_OKX_STATES, TERMINAL_RUNG_STATES, Journal, VenueLedger
from fsm.engine.observe import DEADLINE_MARGIN_MS
from fsm.spec.limits import Limits

_ENDED = frozenset({"filled", "canceled", "mmp_canceled"})
NAMES = (
    "duplicates",
    "overlapping",
    "lost_fills",
    "invented_terminals",
    "stuck",
    "unprotected",
    "over_limit",
)
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
    over_limit: dict[str, str] = field(default_factory=dict)  # an order, or a tick's exposure -> evidence

    def counts(self) -> dict[str, int]:
        return {
            "duplicates": len(self.duplicates),
            "lost_fills": len(self.lost_fills),
            "invented_terminals": len(self.invented_terminals),
            "stuck": len(self.stuck),
            "unprotected_ticks": len(self.unprotected),
            "over_limit": len(self.over_limit),
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
        if not ledger.ours(cl) or len(orders) < 2:
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


def others_net(ledger: VenueLedger) -> Decimal:
    """Contracts the others on the machine's instrument (the hand trades, other machines and their
    stops) bought minus sold, from the venue's fills."""
    ours = {str(f["tradeId"]) for f in ledger.our_fills()}
    total = Decimal(0)
    for fill in ledger.fills.values():
        if fill.get("instId") == ledger.symbol and str(fill["tradeId"]) not in ours:
            sz = Decimal(fill["fillSz"])
            total += sz if fill["side"] == "buy" else -sz
    return total


def venue_long(ledger: VenueLedger) -> Decimal:
    """The venue's long position on the machine's instrument in the latest snapshot."""
    return sum(
        (
            Decimal(p["pos"])
            for p in ledger.last.get("positions", [])
            if p.get("instId") == ledger.symbol and p.get("posSide") == "long"
        ),
        Decimal(0),
    )


def check_stuck(snapshot: dict[str, Any] | None, ledger: VenueLedger, v: Violations) -> None:
    """After the settle: the machine rests in idle/closed, and then nothing of its own is left on the
    venue (no pending order with the prefix, no live stop; the long position less the others' is 0)."""
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
    held, others = venue_long(ledger), others_net(ledger)
    own = held - others
    if own != 0:
        why = "the machine closed contracts it does not own" if own < 0 else "left open"
        v.stuck["position"] = f"machine {state}, OKX long {held} - the others' {others} = {own} ({why})"


def own_size(ledger: VenueLedger) -> Decimal:
    """The machine's own size on the venue: the long position less what the others hold (hand trades,
    other machines on the same instrument)."""
    return venue_long(ledger) - others_net(ledger)


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


def judge(
    snapshot: dict[str, Any] | None,
    ledger: VenueLedger,
    journal: Journal,
    v: Violations,
    fills_of: VenueLedger | None = None,
) -> None:
    """The final pass (run-time findings are already in `v`): duplicates, lost fills, invented
    terminals over every archived cycle and the final state, stuck. Lost fills are judged over the fills
    of `fills_of` (default `ledger`): a venue that trades on after the engine's last tick is judged as it
    was before that tick."""
    check_duplicates(ledger, v)
    check_lost_fills(ledger if fills_of is None else fills_of, journal, v)
    check_rungs(journal.archived_rungs(), ledger, "archived", v.invented_terminals)
    if snapshot is not None:
        check_rungs(list(snapshot.get("rungs", [])), ledger, "final state", v.invented_terminals)
    check_stuck(snapshot, ledger, v)


def _adds(order: dict[str, Any]) -> bool:
    """An order that adds exposure: not reduce-only, and not the side that closes its posSide."""
    closes = {"long": "sell", "short": "buy"}.get(str(order.get("posSide") or "")) == order.get("side")
    return not closes and str(order.get("reduceOnly", "")).lower() != "true"


def own_cost(ledger: VenueLedger, ct_val: Decimal) -> Decimal:
    """The machine's open position from its own fills on the venue, valued as the gate values an own
    position: own contracts x ctVal x the average price they were bought at (a sale takes its share)."""
    size = cost = Decimal(0)
    for fill in sorted(ledger.our_fills(), key=lambda f: (int(f["ts"]), str(f["tradeId"]))):
        sz = Decimal(fill["fillSz"])
        if fill["side"] == "buy":
            size, cost = size + sz, cost + sz * ct_val * Decimal(fill["fillPx"])
        elif size > 0:
            cost -= cost * min(sz, size) / size
            size = max(size - sz, Decimal(0))
    return cost


def check_exposure(
    ledgers: list[VenueLedger], limits: Limits, ct_vals: dict[str, Decimal], where: str, v: Violations
) -> None:
    """The account's exposure of our orders on the venue (each machine's own position and its working
    entry orders, valued as the gate values them) within max_open_notional, per instrument and in total;
    no order of ours that adds exposure above max_order_notional."""
    by_symbol: dict[str, Decimal] = {}
    for ledger in ledgers:
        ct_val = ct_vals[ledger.symbol]
        working = sum(
            (
                (Decimal(o["sz"]) - Decimal(o.get("accFillSz") or 0)) * ct_val * Decimal(o["px"])
                for o in ledger.last.get("orders", [])
                if o.get("state") in PENDING_OKX_STATES
                and ledger.ours(str(o.get("clOrdId") or ""))
                and _adds(o)
            ),
            Decimal(0),
        )
        by_symbol[ledger.symbol] = (
            by_symbol.get(ledger.symbol, Decimal(0)) + own_cost(ledger, ct_val) + working
        )
        if limits.max_order_notional is None:
            continue
        for order in ledger.orders.values():
            cl = str(order.get("clOrdId") or "")
            if ledger.ours(cl) and _adds(order) and order.get("px") and cl not in v.over_limit:
                notional = Decimal(order["sz"]) * ct_val * Decimal(order["px"])
                if notional > limits.max_order_notional:
                    v.over_limit[cl] = (
                        f"{where}: order {cl} {notional} > max_order_notional {limits.max_order_notional}"
                    )
    ceiling = limits.max_open_notional
    if ceiling is None:
        return
    total = sum(by_symbol.values(), Decimal(0))
    for what, value in sorted({**by_symbol, "total": total}.items()):
        if value > ceiling and f"{what}:{where}" not in v.over_limit:
            shown = ", ".join(f"{k} {n.quantize(Decimal('0.01'))}" for k, n in sorted(by_symbol.items()))
            v.over_limit[f"{what}:{where}"] = f"open notional {what} {value:.2f} > {ceiling} ({shown})"
