"""Every error the OKX client raises, and the one table that maps OKX codes to error classes.

A POST ends in exactly one of three ways, and the classes say which:
- not sent: `OkxNotArmed`, `OkxInvalidRequest`, `OkxTransportError` with `sent=False`;
- rejected with an explicit OKX code: an `OkxApiError` subclass;
- ambiguous (the order may or may not exist): `OkxAmbiguousOutcome`, which is deliberately NOT an
  `OkxApiError`, so no `except OkxApiError` / `except OkxOrderNotFound` can mistake it for a rejection.

Messages never contain the secret key or the passphrase: the client redacts anything it did not write
itself before it builds an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from exchange.records import OkxOrderAck

EXCERPT_CHARS = 200


class OkxError(Exception):
    """Base of every error raised by the `exchange` package."""


class OkxInvalidPayload(OkxError):
    """OKX (or something in front of it) answered with a body that is not a well-formed OKX response."""

    def __init__(self, reason: str, *, http_status: int | None = None, excerpt: str = "") -> None:
        self.reason = reason
        self.http_status = http_status
        self.excerpt = excerpt[:EXCERPT_CHARS]
        status = "" if http_status is None else f" (HTTP {http_status})"
        body = f"; body starts {self.excerpt!r}" if self.excerpt else ""
        super().__init__(f"invalid OKX payload{status}: {reason}{body}")


class OkxNotArmed(OkxError):
    """A trading method was called on a client built without armed=True; nothing was sent."""


class OkxInvalidRequest(OkxError, ValueError):
    """The caller asked for something the client refuses to send (bad size, bad id...); nothing was sent."""


class OkxTransportError(OkxError):
    """The network failed. `sent` is False when the request provably never left (connection refused)."""

    def __init__(self, message: str, *, sent: bool) -> None:
        self.sent = sent
        super().__init__(message)


class OkxAmbiguousOutcome(OkxError):
    """A POST whose effect is unknown (timeout, dropped connection, 5xx, 50004, 51149, unreadable answer).

    The order (or algo) may exist. Resolve it by querying by clOrdId (algoClOrdId), never by
    resubmitting blindly.
    """

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: str | None = None,
        items: Sequence[OkxOrderAck] = (),
    ) -> None:
        self.http_status = http_status
        self.code = code
        self.items: tuple[OkxOrderAck, ...] = tuple(items)
        super().__init__(message)


class OkxApiError(OkxError):
    """OKX refused the request with an explicit code (top-level `code`, or per-item `sCode`)."""

    def __init__(
        self,
        code: str,
        msg: str,
        http_status: int,
        s_code: str | None = None,
        s_msg: str | None = None,
        items: Sequence[OkxOrderAck] = (),
    ) -> None:
        self.code = code
        self.msg = msg
        self.http_status = http_status
        self.s_code = s_code
        self.s_msg = s_msg
        self.items: tuple[OkxOrderAck, ...] = tuple(items)
        detail = "" if s_code is None else f" [sCode {s_code}: {s_msg or ''}]"
        super().__init__(f"OKX code {code} (HTTP {http_status}): {msg}{detail}")


class OkxRateLimited(OkxApiError):
    """Too many requests (50011 and friends)."""


class OkxAuthError(OkxApiError):
    """Key, passphrase, signature, permission or environment (demo/live) refused."""


class OkxTimestampError(OkxAuthError):
    """OK-ACCESS-TIMESTAMP refused (50102 expired, 50112 malformed): the clock offset is wrong."""


class OkxDuplicateClOrdId(OkxApiError):
    """A pending order already carries this clOrdId (51016), or a live algo this algoClOrdId (51065): it
    exists, so look it up and adopt it."""


class OkxOrderNotFound(OkxApiError):
    """OKX says explicitly that the order (51603) or the algo (51603, 51063) does not exist."""


class OkxIncorrectOrderState(OkxApiError):
    """The order is already filled, canceled, or being canceled (e.g. cancel answered 51400); an algo
    already fired (51416) or no longer live (51503 on an amend)."""


class OkxInsufficientBalance(OkxApiError):
    """Not enough balance or margin."""


class OkxInvalidSizeOrPrice(OkxApiError):
    """Size or price outside what the instrument accepts (lot size, minimum, price limits)."""


class OkxStopPriceRefused(OkxInvalidSizeOrPrice):
    """A TP/SL trigger on the wrong side: of the price it watches (51277-51280 last, 51300-51308 mark and
    index) or of its order's price (51046-51053, attached TP/SL). The market is already past it."""


class OkxServiceUnavailable(OkxApiError):
    """OKX is busy, in maintenance or timed out (for a read; a POST gets OkxAmbiguousOutcome instead)."""


def _codes(cls: type[OkxApiError], *codes: str) -> dict[str, type[OkxApiError]]:
    return dict.fromkeys(codes, cls)


# The one table (facts sheet section 9). Codes not listed map to plain OkxApiError.
CODE_CLASSES: Mapping[str, type[OkxApiError]] = {
    **_codes(OkxRateLimited, "50011", "50040", "50061", "58102"),
    **_codes(
        OkxAuthError,
        "50100",
        "50101",
        "50103",
        "50104",
        "50105",
        "50106",
        "50107",
        "50110",
        "50111",
        "50113",
        "50114",
        "50119",
        "50120",
    ),
    **_codes(OkxTimestampError, "50102", "50112"),
    **_codes(OkxDuplicateClOrdId, "50071", "51016", "51065"),
    **_codes(OkxOrderNotFound, "51603", "51063"),
    **_codes(OkxIncorrectOrderState, "51400", "51401", "51402", "51410", "51416", "51503"),
    **_codes(OkxInsufficientBalance, "51008", "51127", "51131", "51502"),
    **_codes(
        OkxInvalidSizeOrPrice,
        "51005",
        "51006",
        "51020",
        "51031",
        "51116",
        "51120",
        "51121",
        "51137",
        "51138",
        "51150",
        "51202",
        "51203",
        "51204",
    ),
    **_codes(
        OkxStopPriceRefused,
        *(str(code) for code in range(51046, 51054)),
        *(str(code) for code in range(51277, 51281)),
        *(str(code) for code in range(51300, 51309) if code != 51301),  # OKX has no 51301
    ),
    **_codes(OkxServiceUnavailable, "50001", "50004", "50013", "50026", "51054", "51149"),
}

# Codes that say "the outcome is unknown": on a POST they become OkxAmbiguousOutcome, never a rejection.
AMBIGUOUS_CODES: frozenset[str] = frozenset({"50004", "51149"})

TIMESTAMP_EXPIRED = "50102"


def api_error(
    code: str,
    msg: str,
    http_status: int,
    s_code: str | None = None,
    s_msg: str | None = None,
    items: Sequence[OkxOrderAck] = (),
) -> OkxApiError:
    """The error for an explicit OKX refusal; the class follows the per-item sCode when there is one."""
    cls = CODE_CLASSES.get(s_code or code, OkxApiError)
    return cls(code, msg, http_status, s_code, s_msg, items)
