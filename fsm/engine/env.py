"""What an action may touch: the tick's context, the journal, and a trading client only when armed.

`TradingClient` restates the trading half of `exchange.OkxClient` on purpose: it is the Protocol the
engine depends on, so tests can hand actions a recording or refusing trader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from exchange import OkxApiError, OkxOrderAck
from fsm.engine.context import TickContext
from fsm.engine.observe import Commit


class TradingClient(Protocol):
    """The trading half of `exchange.OkxClient` that actions use."""

    def place_batch_orders(
        self, symbol: str, payloads: Any, exp_time_ms: int | None = None
    ) -> list[OkxOrderAck]: ...

    def place_order(
        self,
        symbol: str,
        *,
        side: str,
        ord_type: str,
        sz: Decimal,
        px: Decimal | None = None,
        pos_side: str | None = None,
        td_mode: str = "isolated",
        client_order_id: str | None = None,
        reduce_only: bool | None = None,
        exp_time_ms: int | None = None,
    ) -> OkxOrderAck: ...

    def cancel_batch_orders(self, symbol: str, order_ids: Any) -> list[OkxOrderAck]: ...

    def set_leverage(
        self, symbol: str, lever: Decimal, mgn_mode: str, pos_side: str | None = None
    ) -> Mapping[str, str]: ...

    def place_algo_order(self, payload: Mapping[str, Any]) -> OkxOrderAck: ...

    def amend_algo_order(
        self,
        symbol: str,
        *,
        algo_id: str | None = None,
        algo_client_order_id: str | None = None,
        new_sz: Decimal | None = None,
        new_sl_trigger_px: Decimal | None = None,
        new_tp_trigger_px: Decimal | None = None,
    ) -> OkxOrderAck: ...

    def cancel_algo_orders(
        self, symbol: str, algo_ids: Sequence[tuple[str | None, str | None]]
    ) -> list[OkxOrderAck]: ...


@dataclass
class ActionEnv:
    """What an action may touch: the tick's context, the order machine, the journal, the trader.

    `commit` may buffer records (the tick writes a transition and its actions' records as one unit);
    `flush` makes everything committed so far durable, and every action calls it before it POSTs.
    """

    ctx: TickContext
    commit: Commit
    trader: TradingClient | None  # None unless the tick is armed
    flush: Callable[[], None] = lambda: None


class NotArmedError(RuntimeError):
    """An action that POSTs was reached without an armed client (a spec bug: guard with submit_armed)."""


def trader_of(env: ActionEnv) -> TradingClient:
    if env.trader is None or not env.ctx.armed:
        raise NotArmedError("this action sends orders; it needs an explicit --submit")
    return env.trader


def error_evidence(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, OkxApiError):
        return {
            "code": exc.code,
            "msg": exc.msg,
            "http_status": exc.http_status,
            "sCode": exc.s_code,
            "sMsg": exc.s_msg,
        }
    return {"error": type(exc).__name__, "detail": str(exc)}
