"""OKX response envelopes: {"code","data","msg"}, batch codes 0/1/2 with inTime/outTime, bare error bodies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import ApiError
from .server import Response

BARE_CODES = ("50011",)  # observed without a data key (HTTP 429); all 401s are bare too


def ok(data: Sequence[Any]) -> Response:
    return Response(200, {"code": "0", "data": list(data), "msg": ""})


def items(
    data: Sequence[dict[str, Any]], in_time_us: int, out_time_us: int, single: bool = False
) -> Response:
    """A trade endpoint's answer: code 0 (all ok), 1 (all failed) or 2 (some failed), per-item sCode."""
    failed = sum(1 for item in data if item["sCode"] != "0")
    if failed == 0:
        code, msg = "0", ""
    elif failed == len(data) or single:
        code, msg = "1", "All operations failed"
    else:
        code, msg = "2", "Bulk operation partially succeeded."
    return Response(
        200,
        {
            "code": code,
            "data": list(data),
            "inTime": str(in_time_us),
            "msg": msg,
            "outTime": str(out_time_us),
        },
    )


def error(exc: ApiError) -> Response:
    if exc.http_status == 401 or exc.code in BARE_CODES:
        return Response(exc.http_status, {"msg": exc.msg, "code": exc.code})
    return Response(exc.http_status, {"code": exc.code, "data": [], "msg": exc.msg})


def rate_limited() -> Response:
    return error(ApiError("50011"))
