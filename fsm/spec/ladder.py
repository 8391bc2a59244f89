"""The ladder's params: how the params section of a ladder YAML is read and checked, and the typed
values the engine uses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from yaml.nodes import Node, SequenceNode

from fsm.spec.nodes import At, NodeReader, Read, line_of


@dataclass(frozen=True)
class SignalParams:
    provider: str  # robust_twap | file
    lookback_bars: int
    entry_filter: str  # close_above_ref | none
    path: Path | None


@dataclass(frozen=True)
class LadderParams:
    strategy_id: str
    cl_ord_id_prefix: str
    symbol: str
    bar: str
    offsets: tuple[Decimal, ...]
    notional_per_rung: Decimal
    td_mode: str
    pos_side: str
    side: str
    expiry_bars: int
    hold_bars: int
    cancel_retry_seconds: int
    signal: SignalParams
    state_file: str
    exp_time_ms: int = 5000
    leverage: Decimal | None = None

    @classmethod
    def from_mapping(cls, params: Mapping[str, Any], *, base_dir: Path) -> LadderParams:
        sig = params["signal"]
        sig_path = sig.get("path")
        return cls(
            strategy_id=str(params["strategy_id"]),
            cl_ord_id_prefix=str(params["cl_ord_id_prefix"]),
            symbol=str(params["symbol"]),
            bar=str(params["bar"]),
            offsets=tuple(Decimal(str(o)) for o in params["offsets"]),
            notional_per_rung=Decimal(str(params["notional_per_rung"])),
            td_mode=str(params["td_mode"]),
            pos_side=str(params["pos_side"]),
            side=str(params["side"]),
            expiry_bars=int(params["expiry_bars"]),
            hold_bars=int(params["hold_bars"]),
            cancel_retry_seconds=int(params["cancel_retry_seconds"]),
            signal=SignalParams(
                provider=str(sig["provider"]),
                lookback_bars=int(sig.get("lookback_bars", 0)),
                entry_filter=str(sig.get("entry_filter", "none")),
                path=None if sig_path is None else (base_dir / str(sig_path)),
            ),
            state_file=str(params["state_file"]),
            exp_time_ms=int(params["exp_time_ms"]),
            leverage=None if params["leverage"] is None else Decimal(str(params["leverage"])),
        )


# ---- reading the params section of a ladder YAML ---------------------------------------------------

BARS = ("1m", "3m", "5m", "15m", "30m", "1H", "4H")
_MACHINE_NAME = re.compile(r"[a-z0-9_]+")
_CL_ORD_ID_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9]{0,7}")
_SIGNAL_KEYS = ("provider", "lookback_bars", "entry_filter", "path")


def read_params(reader: NodeReader, node: Node, section: At) -> Mapping[str, Any]:
    """The params mapping of a ladder machine, each value checked and typed."""
    schema, optional = _schema(reader), _optional(reader)
    at = At("params", section.line)
    fields = reader.mapping(node, at, "", (*schema, *optional))
    out: dict[str, Any] = {}
    for key, read in schema.items():
        out[key] = read(reader.required(fields, key, at), fields.at(key, "params"), key)
    for key, (read, default) in optional.items():
        out[key] = read(fields[key], fields.at(key, "params"), key) if key in fields else default
    return MappingProxyType(out)


def _optional(reader: NodeReader) -> dict[str, tuple[Read, Any]]:
    """Params a ladder may leave out, with the value it then gets."""
    return {
        # expTime of every place request: OKX never applies it later, so "not found" after it is final.
        "exp_time_ms": (reader.integer(500), 5000),
        # The leverage set (and verified) before a cycle's first entry; left as it is when absent.
        "leverage": (reader.positive_decimal, None),
    }


def _schema(reader: NodeReader) -> dict[str, Read]:
    return {
        "strategy_id": lambda node, at, field: reader.name(node, at, field, _MACHINE_NAME),
        "cl_ord_id_prefix": lambda node, at, field: reader.name(node, at, field, _CL_ORD_ID_PREFIX),
        "symbol": reader.nonempty_text,
        "bar": reader.choice(BARS),
        "offsets": lambda node, at, field: _offsets(reader, node, at, field),
        "notional_per_rung": reader.positive_decimal,
        "td_mode": reader.choice(("isolated", "cross")),
        "pos_side": reader.choice(("long", "short")),
        "side": reader.choice(("buy", "sell")),
        "expiry_bars": reader.integer(1),
        "hold_bars": reader.integer(1),
        "cancel_retry_seconds": reader.integer(1),
        "signal": lambda node, at, field: _signal(reader, node, at, field),
        "state_file": lambda node, at, field: _state_file(reader, node, at, field),
    }


def _offsets(reader: NodeReader, node: Node, at: At, field: str) -> tuple[Decimal, ...]:
    if not isinstance(node, SequenceNode) or not node.value:
        raise reader.fail(at, field, 'must be a non-empty list of quoted decimals like "0.003"')
    out: list[Decimal] = []
    for i, item in enumerate(node.value):
        item_at, item_field = At(at.where, line_of(item)), f"{field}[{i}]"
        value = reader.decimal(item, item_at, item_field)
        if not Decimal(0) < value < Decimal(1):
            raise reader.fail(item_at, item_field, f"must be between 0 and 1 (exclusive), got {item.value}")
        if out and value <= out[-1]:
            raise reader.fail(item_at, item_field, f"must be greater than the offset before it ({out[-1]})")
        out.append(value)
    return tuple(out)


def _signal(reader: NodeReader, node: Node, at: At, field: str) -> Mapping[str, Any]:
    fields = reader.mapping(node, at, field, _SIGNAL_KEYS)
    provider_node = reader.required(fields, "provider", at)
    provider = reader.choice(("robust_twap", "file"))(provider_node, at, f"{field}.provider")
    needs: dict[str, Read] = (
        {"lookback_bars": reader.integer(3), "entry_filter": reader.choice(("close_above_ref", "none"))}
        if provider == "robust_twap"
        else {"path": reader.nonempty_text}
    )
    for key in fields:
        if key != "provider" and key not in needs:
            problem = f"not a parameter of provider {provider!r}"
            raise reader.fail(fields.at(key, at.where), f"{field}.{key}", problem)
    out: dict[str, Any] = {"provider": provider}
    for key, read in needs.items():
        if key not in fields:
            raise reader.fail(at, f"{field}.{key}", f"missing (provider {provider!r} needs it)")
        out[key] = read(fields[key], fields.at(key, at.where), f"{field}.{key}")
    return MappingProxyType(out)


def _state_file(reader: NodeReader, node: Node, at: At, field: str) -> str:
    value = reader.text(node, at, field)
    if not value.endswith(".json") or "/" in value or "\\" in value or value.startswith("."):
        raise reader.fail(at, field, f"{value!r} must be a plain file name ending in .json")
    return value
