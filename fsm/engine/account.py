"""The account a machine trades in: refused before anything is sent when its level or margin mode
cannot trade the machine, and the YAML's leverage set and verified before a cycle's first entry."""

from __future__ import annotations

from decimal import Decimal

from exchange import Instrument, OkxAmbiguousOutcome, OkxApiError
from fsm.engine import ownership
from fsm.engine.env import ActionEnv, TradingClient, error_evidence
from fsm.errors import EngineError, ExitStatus
from fsm.spec.ladder import LadderParams
from fsm.spec.model import MachineSpec

SPOT_ACCOUNT = "1"
ISOLATED_REFUSED_LEVELS = ("3", "4")  # multi-currency and portfolio margin: cross only


class ModeRefused(EngineError):
    """The account's mode, margin mode or leverage is one this machine cannot trade in; nothing sent."""

    exit_code = ExitStatus.EXCHANGE


def check_tradeable(td_mode: str, acct_lv: str | None) -> None:
    """Refuse (before anything is sent) an account level that cannot trade this SWAP margin mode."""
    if acct_lv == SPOT_ACCOUNT:
        raise ModeRefused("the OKX account is in Spot mode (acctLv 1): it cannot trade perpetual swaps")
    if td_mode == "isolated" and acct_lv in ISOLATED_REFUSED_LEVELS:
        raise ModeRefused(
            f"the OKX account (acctLv {acct_lv}) trades swaps in cross margin only; set td_mode: cross"
        )


def check_leverage(spec: MachineSpec, params: LadderParams, instrument: Instrument) -> None:
    """Refuse (SpecError at the YAML's leverage line) a leverage above the instrument's maximum, OKX's
    `lever`: OKX would answer every attempt to set it with 59102."""
    most = instrument.lever
    if params.leverage is not None and most is not None and params.leverage > most:
        problem = (
            f"{params.leverage} is above {instrument.instId}'s maximum leverage {most} (OKX's lever); "
            "OKX refuses it (59102)"
        )
        raise spec.param_refused("leverage", problem)


def ensure_leverage(env: ActionEnv, trader: TradingClient) -> None:
    """Set the YAML's leverage when OKX shows another, then read it back; refuse when it does not hold."""
    ctx, p = env.ctx, env.ctx.params
    if p.leverage is None:
        return
    side = p.pos_side if p.td_mode == "isolated" and ctx.state.pos_mode != ownership.NET_MODE else None

    def current() -> Decimal | None:
        rows = ctx.view.leverage(p.symbol, p.td_mode)
        return next((r.lever for r in rows if side is None or r.posSide == side), None)

    if current() == p.leverage:
        return
    env.flush()
    try:
        answer = trader.set_leverage(p.symbol, p.leverage, p.td_mode, side)
    except (OkxApiError, OkxAmbiguousOutcome) as exc:
        env.commit("ack", {"what": "leverage", "lever": format(p.leverage, "f"), **error_evidence(exc)})
        raise ModeRefused(f"OKX did not set leverage {p.leverage} on {p.symbol} {p.td_mode}: {exc}") from exc
    ctx.view.forget("leverage", p.symbol, p.td_mode)
    seen = current()
    env.commit(
        "ack",
        {
            "what": "leverage",
            "lever": format(p.leverage, "f"),
            "answer": dict(answer),
            "verified": None if seen is None else format(seen, "f"),
        },
    )
    if seen != p.leverage:
        raise ModeRefused(f"OKX shows leverage {seen} on {p.symbol} {p.td_mode} after setting {p.leverage}")
