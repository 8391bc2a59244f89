"""Typed access to one OKX object: the field readers every record parser is built from."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import field
from decimal import Decimal
from typing import Any

from exchange.errors import OkxInvalidPayload

_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?")
_DIGITS = re.compile(r"\d{1,20}")
_VALUE_CHARS = 60


class Fields:
    """Typed access to one OKX object; every failure names the record and the field."""

    def __init__(self, record: str, obj: Any) -> None:
        if not isinstance(obj, Mapping):
            raise OkxInvalidPayload(f"{record}: expected an object, got {type(obj).__name__}")
        self.record = record
        self.obj: Mapping[str, Any] = obj

    def _bad(self, name: str, expected: str) -> OkxInvalidPayload:
        if name not in self.obj:
            return OkxInvalidPayload(f"{self.record}.{name}: missing ({expected} expected)")
        shown = repr(self.obj[name])[:_VALUE_CHARS]
        return OkxInvalidPayload(f"{self.record}.{name}: expected {expected}, got {shown}")

    def opt_text(self, name: str) -> str | None:
        """A string field; "" and absent mean None."""
        value = self.obj.get(name, "")
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._bad(name, "a string")
        return value or None

    def text(self, name: str) -> str:
        """A required, non-empty string field."""
        value = self.opt_text(name)
        if value is None:
            raise self._bad(name, "a non-empty string")
        return value

    def id_text(self, name: str) -> str:
        """An id that must be present as a string but may be "" (e.g. ordId of a block-trade fill)."""
        value = self.obj.get(name)
        if not isinstance(value, str):
            raise self._bad(name, "a string")
        return value

    def digits(self, name: str) -> str:
        """A numeric-string id that callers compare as an integer (billId)."""
        value = self.obj.get(name)
        if not isinstance(value, str) or not _DIGITS.fullmatch(value):
            raise self._bad(name, "a numeric string id")
        return value

    def texts(self, name: str) -> tuple[str, ...]:
        """An array of strings (ordIdList); absent, null or "" is empty."""
        value = self.obj.get(name)
        if value is None or value == "":
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._bad(name, "an array of strings")
        return tuple(value)

    def choice(self, name: str, allowed: frozenset[str]) -> str:
        value = self.text(name)
        if value not in allowed:
            raise self._bad(name, "one of " + "|".join(sorted(allowed)))
        return value

    def opt_decimal(self, name: str) -> Decimal | None:
        """A decimal given as a string (or a JSON number, which some account fields use); "" is None."""
        value = self.obj.get(name, "")
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self._bad(name, "a decimal string")
        text = value if isinstance(value, str) else repr(value)
        if not _DECIMAL.fullmatch(text):
            raise self._bad(name, "a decimal string")
        return Decimal(text)

    def decimal(self, name: str) -> Decimal:
        value = self.opt_decimal(name)
        if value is None:
            raise self._bad(name, "a decimal string")
        return value

    def positive(self, name: str) -> Decimal:
        value = self.decimal(name)
        if value <= 0:
            raise self._bad(name, "a positive decimal")
        return value

    def opt_ms(self, name: str) -> int | None:
        """A Unix-ms time as a digit string (or JSON integer); "" is None."""
        value = self.obj.get(name, "")
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if not isinstance(value, str) or not _DIGITS.fullmatch(value):
            raise self._bad(name, "a millisecond time string")
        return int(value)

    def ms(self, name: str) -> int:
        value = self.opt_ms(name)
        if value is None:
            raise self._bad(name, "a millisecond time string")
        return value

    def flag(self, name: str) -> bool:
        """A boolean OKX sends as "true"/"false" (or a JSON boolean); absent or "" is False."""
        value = self.obj.get(name, "")
        if isinstance(value, bool):
            return value
        if value in ("", "false"):
            return False
        if value == "true":
            return True
        raise self._bad(name, '"true" or "false"')

    def label(self, name: str) -> str | None:
        """A short code OKX may send as a string or a JSON integer (acctLv, uid); "" is None."""
        value = self.obj.get(name, "")
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return self.opt_text(name)


def raw_field() -> Any:
    """The `raw` field of a record: kept, but left out of comparison and repr."""
    return field(compare=False, repr=False)
