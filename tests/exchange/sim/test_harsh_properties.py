"""Property: under the okx-harsh profile, whatever clients were told, the venue's own records agree.

Random sequences of places (each with an expTime), cancels, price moves and clock advances go over
loopback HTTP to an in-process simulator with every fault at p=0.3. Then the faults are cleared and
the clock advanced past every late request, and the records are checked from /sim/state and
/sim/stats (and orders-pending, now fault-free).
"""

from __future__ import annotations

import json
from collections import defaultdict
from contextlib import suppress
from decimal import Decimal
from typing import Any

import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.sim import Simulator
from tests.exchange.sim.okx_http import RawOkx

PRICES = ["2980", "2990", "3000", "3010", "3020"]
OPENS, CLOSES = [("buy", "long"), ("sell", "short")], [("sell", "long"), ("buy", "short")]
ORDER_KINDS = [*OPENS, *OPENS, *CLOSES]  # opening twice as often, so there are positions to close
NO_DEADLINE = 2**63
SIDE_SIGN = {("buy", "long"): 1, ("sell", "long"): -1, ("sell", "short"): 1, ("buy", "short"): -1}

Op = tuple[Any, ...]
places = st.tuples(
    st.just("place"),
    st.sampled_from(ORDER_KINDS),
    st.sampled_from(["limit", "post_only", "market"]),
    st.sampled_from(PRICES),
    st.sampled_from(["0.01", "0.5", "1"]),
    st.none() | st.integers(0, 8000),  # expTime: this many ms after the clock, or no header
)
ops = st.lists(
    st.one_of(
        places,
        places,
        st.tuples(st.just("cancel"), st.integers(0, 50)),
        st.tuples(st.just("price"), st.sampled_from(PRICES)),
        st.tuples(st.just("advance"), st.sampled_from(["0.5", "1", "2"])),
    ),
    min_size=4,
    max_size=20,
)


def _post(okx: RawOkx, path: str, item: dict[str, str], **headers: str) -> None:
    """POST; a dropped connection is one of the faults (the answer does not matter here)."""
    with suppress(requests.ConnectionError):
        okx.send("POST", path, json.dumps(item), **headers)


def _run(okx: RawOkx, sim: Simulator, sequence: list[Op]) -> dict[str, int]:
    """Carry out the operations; returns each sent clOrdId's expTime (NO_DEADLINE without one)."""
    deadlines: dict[str, int] = {}
    for n, op in enumerate(sequence):
        if op[0] == "place":
            _, (side, pos_side), ord_type, px, sz, offset = op
            client_order_id = f"p{n}"
            deadlines[client_order_id] = NO_DEADLINE if offset is None else sim.now_ms() + offset
            headers = {} if offset is None else {"expTime": str(deadlines[client_order_id])}
            item = {"instId": "ETH-USDT-SWAP", "tdMode": "isolated", "side": side, "posSide": pos_side}
            item |= {"ordType": ord_type, "sz": sz, "clOrdId": client_order_id}
            if ord_type != "market":
                item["px"] = px
            _post(okx, "/api/v5/trade/order", item, **headers)
        elif op[0] == "cancel" and deadlines:
            target = sorted(deadlines)[op[1] % len(deadlines)]
            _post(okx, "/api/v5/trade/cancel-order", {"instId": "ETH-USDT-SWAP", "clOrdId": target})
        elif op[0] == "price":
            okx.admin("POST", "/sim/price", {"px": op[1]})
        elif op[0] == "advance":
            okx.admin("POST", "/sim/advance", {"seconds": op[1]})
    return deadlines


def _check(okx: RawOkx, deadlines: dict[str, int]) -> None:
    state, stats = okx.admin("GET", "/sim/state").json(), okx.admin("GET", "/sim/stats").json()
    orders, fills = state["orders"], state["fills"]

    filled: defaultdict[str, Decimal] = defaultdict(Decimal)
    held: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for fill in fills:
        filled[fill["ordId"]] += Decimal(fill["fillSz"])
        held[(fill["instId"], fill["posSide"])] += SIDE_SIGN[(fill["side"], fill["posSide"])] * Decimal(
            fill["fillSz"]
        )
    for order in orders:
        assert Decimal(order["accFillSz"]) == filled[order["ordId"]], order
        assert order["clOrdId"] in deadlines, "an order nobody sent"
        assert int(order["cTime"]) <= deadlines[order["clOrdId"]], "applied after its expTime"
        if order["state"] == "filled":
            assert order["accFillSz"] == order["sz"]
    positions = {(p["instId"], p["posSide"]): Decimal(p["pos"]) for p in state["positions"]}
    for key in set(held) | set(positions):
        assert positions.get(key, Decimal(0)) == held[key], key
    bill_ids = [int(f["billId"]) for f in fills]
    assert bill_ids == sorted(set(bill_ids))

    pending = {o["ordId"] for o in okx.get("/api/v5/trade/orders-pending")["data"]}
    assert pending == {o["ordId"] for o in orders if o["state"] in ("live", "partially_filled")}

    late = stats["late"]
    assert late["waiting"] == 0
    assert late["queued"] == late["applied"] + late["refused"]


@settings(max_examples=25, deadline=None, derandomize=True)
@given(sequence=ops, seed=st.integers(0, 10_000))
def test_the_venue_records_hold_together_under_the_harsh_profile(sequence: list[Op], seed: int) -> None:
    with Simulator(seed=3, volatility="0") as sim:
        okx = RawOkx(sim)
        harsh = {"profile": "okx-harsh", "probability": 0.3, "seed": seed}
        assert okx.admin("POST", "/sim/faults", harsh).status_code == 200
        deadlines = _run(okx, sim, sequence)
        okx.admin("POST", "/sim/faults", {"rules": []})
        okx.admin("POST", "/sim/advance", {"seconds": "10"})
        _check(okx, deadlines)
