"""OKX response envelopes: {"code","data","msg"}, batch codes 0/1/2 with inTime/outTime, bare error bodies,
the unknown path."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import ApiError
from .server import Response

BARE_CODES = ("50011",)  # observed without a data key (HTTP 429); all 401s are bare too

# Texts of codes 1 and 2 as captured answers show them (facts sheet section 13); never matched on.
ALL_FAILED = "All operations failed"  # code 1 of a single place or cancel
BATCH_PLACE_ALL_FAILED = ""  # code 1 of a batch place with every item failed (REST 2025)
PARTIALLY_SUCCESSFUL = "Bulk operation partially successful"  # code 2 (2024)


def ok(data: Sequence[Any]) -> Response:
    return Response(200, {"code": "0", "data": list(data), "msg": ""})


def items(
    data: Sequence[dict[str, Any]], in_time_us: int, out_time_us: int, all_failed_msg: str = ALL_FAILED
) -> Response:
    """A trade endpoint's answer: code 0 (all ok), 1 (all failed) or 2 (some failed), per-item sCode."""
    failed = sum(1 for item in data if item["sCode"] != "0")
    if failed == 0:
        code, msg = "0", ""
    elif failed == len(data):
        code, msg = "1", all_failed_msg
    else:
        code, msg = "2", PARTIALLY_SUCCESSFUL
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


def not_found() -> Response:
    """An unknown path: HTTP 404 with a numeric code and an object `data`, as OKX answers it."""
    return Response(404, {"code": 404, "data": {}, "msg": "Not Found"})


def numeric_code(response: Response) -> Response:
    """A bare error body (no `data`: HTTP 429, 401) with `code` a JSON number, as older answers have it."""
    payload = response.payload
    if isinstance(payload, dict) and "data" not in payload and isinstance(payload.get("code"), str):
        return Response(response.status, {**payload, "code": int(payload["code"])})
    return response
