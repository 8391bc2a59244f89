"""OKX's per-endpoint rate limits (facts sheet section 5): sliding windows per key, 2 seconds unless the
endpoint says otherwise (Cancel All After: 1 request per second per tag)."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WINDOW_MS = 2_000


@dataclass(frozen=True)
class Rule:
    limit: int
    key: str  # "ip", "ip_inst_type", "uid", "uid_inst" or "uid_tag"
    per_order: bool = False  # batches count each order
    single: str | None = None  # a one-order batch counts against this endpoint instead
    window_ms: int = WINDOW_MS


RULES: dict[str, Rule] = {
    "POST /api/v5/trade/order": Rule(60, "uid_inst"),
    "POST /api/v5/trade/batch-orders": Rule(300, "uid_inst", True, "POST /api/v5/trade/order"),
    "POST /api/v5/trade/cancel-order": Rule(60, "uid_inst"),
    "POST /api/v5/trade/cancel-batch-orders": Rule(300, "uid_inst", True, "POST /api/v5/trade/cancel-order"),
    "POST /api/v5/trade/close-position": Rule(20, "uid_inst"),
    "GET /api/v5/trade/order": Rule(60, "uid_inst"),
    "GET /api/v5/trade/orders-pending": Rule(60, "uid"),
    "GET /api/v5/trade/orders-history": Rule(40, "uid"),
    "GET /api/v5/trade/orders-history-archive": Rule(20, "uid"),
    "GET /api/v5/trade/fills": Rule(60, "uid"),
    "GET /api/v5/trade/fills-history": Rule(10, "uid"),
    "GET /api/v5/account/balance": Rule(10, "uid"),
    "GET /api/v5/account/positions": Rule(10, "uid"),
    "GET /api/v5/account/config": Rule(5, "uid"),
    "POST /api/v5/account/set-position-mode": Rule(5, "uid"),
    "POST /api/v5/account/set-account-level": Rule(5, "uid"),
    "POST /api/v5/account/set-leverage": Rule(20, "uid"),
    "GET /api/v5/account/leverage-info": Rule(20, "uid"),
    "GET /api/v5/public/instruments": Rule(20, "ip_inst_type"),
    "GET /api/v5/public/time": Rule(10, "ip"),
    "GET /api/v5/market/candles": Rule(40, "ip"),
    "GET /api/v5/market/ticker": Rule(20, "ip"),
    "GET /api/v5/public/price-limit": Rule(20, "ip"),
    "GET /api/v5/market/history-candles": Rule(20, "ip"),
    "POST /api/v5/trade/order-algo": Rule(20, "uid_inst"),
    "POST /api/v5/trade/amend-algos": Rule(20, "uid_inst"),
    "POST /api/v5/trade/cancel-algos": Rule(20, "uid_inst", per_order=True),
    "GET /api/v5/trade/orders-algo-pending": Rule(20, "uid"),
    "GET /api/v5/trade/orders-algo-history": Rule(20, "uid"),
    "GET /api/v5/trade/order-algo": Rule(20, "uid"),
    "POST /api/v5/trade/cancel-all-after": Rule(1, "uid_tag", window_ms=1_000),
}


def charges(
    endpoint: str, uid: str, ip: str, query: Mapping[str, str], items: Sequence[Mapping[str, Any]]
) -> list[tuple[str, Rule]]:
    """The (window key, rule) pairs one request uses, one pair per unit counted."""
    rule = RULES[endpoint]
    if rule.single is not None and len(items) == 1:
        endpoint, rule = rule.single, RULES[rule.single]
    if rule.key == "ip":
        return [(f"{endpoint}|{ip}", rule)]
    if rule.key == "ip_inst_type":
        return [(f"{endpoint}|{ip}|{query.get('instType', '')}", rule)]
    if rule.key == "uid":
        return [(f"{endpoint}|{uid}", rule)]
    if rule.key == "uid_tag":  # one body; no tag is the account level's own budget
        return [(f"{endpoint}|{uid}|{(items[0].get('tag') or '') if items else ''}", rule)]
    if not items:  # GET: the instrument is in the query
        return [(f"{endpoint}|{uid}|{query.get('instId', '')}", rule)]
    inst_ids = [str(item.get("instId") or "") for item in items]
    if not rule.per_order:
        inst_ids = inst_ids[:1]
    return [(f"{endpoint}|{uid}|{inst_id}", rule) for inst_id in inst_ids]


class RateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, deque[int]] = defaultdict(deque)

    def admit(self, units: Iterable[tuple[str, Rule]], now_ms: int) -> bool:
        """Count the request's units unless one key would exceed its limit (then count nothing)."""
        wanted: dict[str, tuple[int, Rule]] = {}
        for key, rule in units:
            count, _ = wanted.get(key, (0, rule))
            wanted[key] = (count + 1, rule)
        for key, (count, rule) in wanted.items():
            window = self._windows[key]
            while window and window[0] <= now_ms - rule.window_ms:
                window.popleft()
            if len(window) + count > rule.limit:
                return False
        for key, (count, _) in wanted.items():
            self._windows[key].extend([now_ms] * count)
        return True
