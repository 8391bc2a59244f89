"""The account endpoints: balance, positions, the account configuration, modes and leverage."""

from __future__ import annotations

from .. import params
from ..account import ACCT_LEVELS, MGN_MODES, POS_MODES
from ..envelopes import ok
from ..errors import bad_param
from ..server import Response
from ..venue import Venue
from .call import Call, objects, split


def balance(venue: Venue, call: Call) -> Response:
    data = venue.balance()
    ccys = split(call.query, "ccy")
    if ccys is not None and "USDT" not in ccys:
        data["details"] = []
    return ok([data])


def positions(venue: Venue, call: Call) -> Response:
    inst_type = params.text(call.query, "instType")
    if inst_type is not None and inst_type not in ("MARGIN", "SWAP", "FUTURES", "OPTION", "EVENTS"):
        raise bad_param("instType")
    inst_ids, pos_ids = split(call.query, "instId"), split(call.query, "posId")
    if inst_ids is not None and len(inst_ids) > 10:
        raise bad_param("instId")
    if inst_type not in (None, "SWAP"):
        return ok([])
    return ok(
        venue.positions(
            lambda p: (
                (inst_ids is None or p.inst.inst_id in inst_ids) and (pos_ids is None or p.pos_id in pos_ids)
            )
        )
    )


def account_config(venue: Venue, call: Call) -> Response:
    return ok([venue.config()])


def set_position_mode(venue: Venue, call: Call) -> Response:
    body = objects(call.body, many=False)[0]
    pos_mode = params.one_of(body, "posMode", POS_MODES)
    venue.set_position_mode(pos_mode)
    return ok([{"posMode": pos_mode}])


def set_account_level(venue: Venue, call: Call) -> Response:
    body = objects(call.body, many=False)[0]
    acct_lv = params.one_of(body, "acctLv", ACCT_LEVELS)
    venue.set_account_level(acct_lv)
    return ok([{"acctLv": acct_lv}])


def set_leverage(venue: Venue, call: Call) -> Response:
    return ok([venue.set_leverage(params.set_leverage(objects(call.body, many=False)[0]))])


def leverage_info(venue: Venue, call: Call) -> Response:
    mgn_mode = params.one_of(call.query, "mgnMode", MGN_MODES)
    inst_ids = params.required(call.query, "instId").split(",")
    if len(inst_ids) > 20:
        raise bad_param("instId")
    insts = [params.instrument_top_level(inst_id) for inst_id in inst_ids]
    return ok([row for inst in insts for row in venue.leverage_info(inst, mgn_mode)])
