"""OkxClient's read endpoints: orders, fills and their history, balance, positions, instruments, candles,
account config and leverage. Each is a GET that never changes anything at OKX."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import takewhile

from exchange.bars import bar_ms
from exchange.errors import OkxInvalidPayload, OkxInvalidRequest
from exchange.paths import (
    ACCOUNT_CONFIG,
    BALANCE,
    CANDLES,
    CANDLES_MAX,
    FILLS,
    FILLS_HISTORY,
    HISTORY_CANDLES,
    HISTORY_CANDLES_MAX,
    INSTRUMENTS,
    LEVERAGE_INFO,
    ORDER,
    ORDERS_HISTORY,
    ORDERS_HISTORY_ARCHIVE,
    ORDERS_PENDING,
    POSITIONS,
)
from exchange.records import (
    AccountConfig,
    Balance,
    Candle,
    Instrument,
    Leverage,
    OkxFill,
    OkxOrder,
    Position,
    parse_account_config,
    parse_balance,
    parse_candle,
    parse_candle_row,
    parse_fill,
    parse_instrument,
    parse_leverage,
    parse_order,
    parse_position,
)
from exchange.transport import PAGE_LIMIT, OkxTransport
from exchange.wire import first_object, objects

FILLS_RECENT_MS = 3 * 86_400_000 - 3_600_000  # /trade/fills keeps 3 days; an hour's margin for clocks


def inst_type_of(symbol: str) -> str:
    """OKX's instType for an instId: BTC-USDT-SWAP -> SWAP, BTC-USD-250627 -> FUTURES, BTC-USDT -> SPOT."""
    parts = symbol.split("-")
    if len(parts) == 3 and parts[2] == "SWAP":
        return "SWAP"
    if len(parts) == 3 and parts[2].isdigit():
        return "FUTURES"
    if len(parts) == 5:
        return "OPTION"
    if len(parts) == 2:
        return "SPOT"
    raise OkxInvalidRequest(f"cannot tell the instrument type of {symbol!r}")


class ReadEndpoints(OkxTransport):
    """The GET endpoints of OkxClient, answered as typed records."""

    def list_open_orders(self, symbol: str | None) -> list[OkxOrder]:
        """Every pending order (all pages of orders-pending); None means every instrument."""
        params = {"instType": None if symbol is None else inst_type_of(symbol), "instId": symbol}
        orders: dict[str, OkxOrder] = {}
        for page in self._pages(ORDERS_PENDING, params, parse_order, lambda page: page[-1].ordId):
            orders.update((o.ordId, o) for o in page)
        return list(orders.values())

    def get_order(
        self, symbol: str, ord_id: str | None = None, client_order_id: str | None = None
    ) -> OkxOrder:
        """One order by ordId (preferred) or clOrdId. OKX's explicit 51603 raises OkxOrderNotFound."""
        if ord_id:
            params = {"instId": symbol, "ordId": ord_id}
        elif client_order_id:
            params = {"instId": symbol, "clOrdId": client_order_id}
        else:
            raise OkxInvalidRequest("get_order needs ord_id or client_order_id")
        order = parse_order(first_object(self._read(ORDER, params, key=symbol)))
        if order.instId != symbol or (order.ordId != ord_id if ord_id else order.clOrdId != client_order_id):
            raise OkxInvalidPayload(
                f"GET order for {params} answered with order {order.ordId} "
                f"({order.clOrdId}) of {order.instId}"
            )
        return order

    def list_fills(
        self, symbol: str, *, after: str | None = None, before: str | None = None, limit: int = PAGE_LIMIT
    ) -> list[OkxFill]:
        """One page of fills (last 3 days) in OKX's order; after/before are billId cursors."""
        check_limit(limit, PAGE_LIMIT)
        params = {
            "instType": inst_type_of(symbol),
            "instId": symbol,
            "after": after,
            "before": before,
            "limit": str(limit),
        }
        return [parse_fill(o) for o in objects(self._read(FILLS, params))]

    def list_orders_history(
        self,
        symbol: str,
        *,
        archive: bool = False,
        after: str | None = None,
        before: str | None = None,
        limit: int = PAGE_LIMIT,
    ) -> list[OkxOrder]:
        """One page of ended orders, newest first: the last 7 days, or 3 months with archive=True.

        after/before are ordId cursors. OKX keeps a canceled order that never filled only about 2 hours.
        """
        check_limit(limit, PAGE_LIMIT)
        params = {
            "instType": inst_type_of(symbol),
            "instId": symbol,
            "after": after,
            "before": before,
            "limit": str(limit),
        }
        path = ORDERS_HISTORY_ARCHIVE if archive else ORDERS_HISTORY
        return [parse_order(o) for o in objects(self._read(path, params))]

    def list_fills_since(
        self, symbol: str, bill_id: str | None, begin_ms: int | None = None
    ) -> list[OkxFill]:
        """Every fill with billId > bill_id and ts >= begin_ms, ascending by billId.

        /trade/fills covers 3 days: when `begin_ms` is older than that (a long outage, a long hold),
        /trade/fills-history (3 months) is read instead, so a fill is never missed for its age. Without
        either bound, everything /trade/fills still holds.
        """
        if bill_id is not None and not (bill_id.isascii() and bill_id.isdigit()):
            raise OkxInvalidRequest(f"bill_id must be a numeric string, got {bill_id!r}")
        floor = -1 if bill_id is None else int(bill_id)
        newer: dict[str, OkxFill] = {}
        recent = begin_ms is None or self.now_ms() - begin_ms < FILLS_RECENT_MS
        params = {
            "instType": inst_type_of(symbol),
            "instId": symbol,
            "begin": None if begin_ms is None else str(begin_ms),
        }
        path = FILLS if recent else FILLS_HISTORY
        for page in self._pages(path, params, parse_fill, lambda page: min(page, key=_bill).billId):
            newer.update((f.billId, f) for f in page if _bill(f) > floor)
            if any(_bill(f) <= floor for f in page):
                break
        return sorted(newer.values(), key=_bill)

    def find_order_in_history(self, symbol: str, ord_id: str) -> OkxOrder | None:
        """A terminal order looked up in orders-history (7 days), then its archive (3 months).

        For an order GET /trade/order no longer finds. None when neither holds it: OKX keeps a canceled
        order with no fill only about 2 hours anywhere.
        """
        if not (ord_id.isascii() and ord_id.isdigit()):
            raise OkxInvalidRequest(f"ord_id must be a numeric string, got {ord_id!r}")
        for archive in (False, True):  # `after` is exclusive: one past ordId gives ordId itself first
            page = self.list_orders_history(symbol, archive=archive, after=str(int(ord_id) + 1), limit=1)
            found = next((o for o in page if o.ordId == ord_id), None)
            if found is not None:
                return found
        return None

    def get_balance(self) -> Balance:
        return parse_balance(first_object(self._read(BALANCE)))

    def get_positions(self, symbol: str | None = None) -> list[Position]:
        params = {"instType": None if symbol is None else inst_type_of(symbol), "instId": symbol}
        return [parse_position(o) for o in objects(self._read(POSITIONS, params))]

    def get_instrument(self, symbol: str) -> Instrument:
        inst_type = inst_type_of(symbol)
        env = self._read(INSTRUMENTS, {"instType": inst_type, "instId": symbol}, auth=False, key=inst_type)
        for obj in objects(env):
            if obj.get("instId") == symbol:
                return parse_instrument(obj)
        raise OkxInvalidPayload(f"public/instruments did not list {symbol}", excerpt=env.excerpt)

    def get_candles(self, symbol: str, bar: str, limit: int = PAGE_LIMIT) -> list[Candle]:
        """The newest `limit` candles, ascending by ts (the newest may still be forming: confirm False)."""
        check_limit(limit, CANDLES_MAX)
        env = self._read(CANDLES, {"instId": symbol, "bar": bar, "limit": str(limit)}, auth=False)
        return sorted((parse_candle_row(row) for row in env.data), key=lambda c: c.ts)

    def get_history_candles(
        self,
        symbol: str,
        bar: str,
        *,
        after: int | None = None,
        before: int | None = None,
        limit: int = HISTORY_CANDLES_MAX,
    ) -> list[Candle]:
        """One page of /market/history-candles (public; reaches further back than /market/candles),
        ascending by ts. `after` and `before` are exclusive ts bounds: rows older than `after`, newer
        than `before` (OKX answers newest first)."""
        check_limit(limit, HISTORY_CANDLES_MAX)
        params = {
            "instId": symbol,
            "bar": bar,
            "after": None if after is None else str(after),
            "before": None if before is None else str(before),
            "limit": str(limit),
        }
        env = self._read(HISTORY_CANDLES, params, auth=False)
        return sorted((parse_candle(row) for row in env.data), key=lambda c: c.ts)

    def history_candle_pages(
        self, symbol: str, bar: str, since_ms: int, until_ms: int
    ) -> Iterator[list[Candle]]:
        """The confirmed candles with since_ms <= ts < until_ms, oldest first, one request a page.

        Pages forward in windows of 100 bars' time (before = window start - 1, after = window end), so
        bars missing at OKX only shorten a page and the next window starts where this one ended. Ends at
        the first bar still forming (confirm "0"): nothing after it is final.
        """
        try:
            span = bar_ms(bar)
        except ValueError as exc:
            raise OkxInvalidRequest(str(exc)) from None
        start = since_ms
        while start < until_ms:
            end = min(start + HISTORY_CANDLES_MAX * span, until_ms)
            page = self.get_history_candles(symbol, bar, after=end, before=start - 1)
            stray = [c.ts for c in page if not start <= c.ts < end]
            if stray:
                raise OkxInvalidPayload(f"history-candles for [{start}, {end}) answered bars at {stray}")
            final = list(takewhile(lambda c: c.confirm, page))
            yield final
            if len(final) < len(page):
                return
            start = end

    def get_account_config(self) -> AccountConfig:
        return parse_account_config(first_object(self._read(ACCOUNT_CONFIG)))

    def get_leverage(self, symbol: str, mgn_mode: str) -> list[Leverage]:
        """The leverage of `symbol` in `mgn_mode`: one row, or long and short for isolated long/short."""
        return [
            parse_leverage(o)
            for o in objects(self._read(LEVERAGE_INFO, {"instId": symbol, "mgnMode": mgn_mode}))
        ]


def _bill(fill: OkxFill) -> int:
    return int(fill.billId)


def check_limit(limit: int, maximum: int) -> None:
    """Refuse (OkxInvalidRequest, nothing sent) a page size that is not an int in 1..maximum."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise OkxInvalidRequest(f"limit must be an int in 1..{maximum}, got {limit!r}")
