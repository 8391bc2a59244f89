"""The ladder's params: how the params section of a ladder YAML is read and checked, and the typed
values the engine uses."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from yaml.nodes import Node, SequenceNode

from exchange.paths import CANDLES_MAX
from exchange.payloads import BATCH_MAX
from fsm.spec.limits import LIMITS_PARAM, read_param_limits
from fsm.spec.model import SpecError
from fsm.spec.nodes import At, Fields, NodeReader, Read, line_of


@dataclass(frozen=True)
class SignalParams:
    provider: str  # robust_twap | file
    lookback_bars: int
    entry_filter: str  # close_above_ref (buy ladders) | close_below_ref (sell ladders) | none
    path: Path | None

    @property
    def candles_limit(self) -> int:
        """How many of the newest candles a tick asks OKX for (robust_twap)."""
        return self.lookback_bars + CANDLES_BEYOND_LOOKBACK


@dataclass(frozen=True)
class StopParams:
    """The protective stop: an OKX conditional algo order, `loss` beyond the own average entry."""

    loss: Decimal  # a fraction in (0, 1): the trigger sits this far beyond the average entry
    trigger_px_type: str  # last | mark | index: the price OKX watches (slTriggerPxType)
    on_refused: str  # exit (the own size at market at once) | park (the machine stops with the reason)


@dataclass(frozen=True)
class LadderParams:
    strategy_id: str
    client_order_id_prefix: str
    symbol: str
    bar: str
    offsets: tuple[Decimal, ...]
    notional_per_rung: Decimal | None  # the same notional for every rung, or None with `sizes`
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
    journal_segments: str = "none"  # none | cycle | day: when the journal rolls into a new segment
    sizes: tuple[Decimal, ...] | None = None  # contracts per rung, one per offset (or notional_per_rung)
    stop: StopParams | None = None  # no stop: the position is held unprotected (as before stops existed)
    take_profit: Decimal | None = None  # a fraction in (0, 1) beyond the entry: the stop's tp leg
    on_reducing: str = "cancel_entries"  # cancel_entries | keep: working entries when the account reduces

    @classmethod
    def from_mapping(cls, params: Mapping[str, Any], *, base_dir: Path) -> LadderParams:
        sig = params["signal"]
        sig_path = sig.get("path")
        return cls(
            strategy_id=str(params["strategy_id"]),
            client_order_id_prefix=str(params["client_order_id_prefix"]),
            symbol=str(params["symbol"]),
            bar=str(params["bar"]),
            offsets=tuple(Decimal(str(o)) for o in params["offsets"]),
            notional_per_rung=_optional_decimal(params["notional_per_rung"]),
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
            leverage=_optional_decimal(params["leverage"]),
            journal_segments=str(params["journal_segments"]),
            sizes=None if params["sizes"] is None else tuple(Decimal(str(z)) for z in params["sizes"]),
            stop=None if params["stop"] is None else StopParams(**params["stop"]),
            take_profit=_optional_decimal(params["take_profit"]),
            on_reducing=str(params["on_reducing"]),
        )


def _optional_decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


# ---- reading the params section of a ladder YAML ---------------------------------------------------

BARS = ("1m", "3m", "5m", "15m", "30m", "1H", "4H")
# An entry filter keeps the market on the far side of the reference from the rungs, so post-only
# rungs rest instead of crossing: a buy ladder below the reference wants the close above it.
ENTRY_FILTERS = {"buy": ("close_above_ref", "none"), "sell": ("close_below_ref", "none")}
POS_SIDES = {"buy": "long", "sell": "short"}  # what each entry side opens in long/short mode
SIZING = ("notional_per_rung", "sizes")  # exactly one; a later layer giving either replaces both
ON_REDUCING = ("cancel_entries", "keep")
REQUIRED = object()  # the default of a param a ladder must give
_MACHINE_NAME = re.compile(r"[a-z0-9_]+")
_CL_ORD_ID_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9]{0,7}")
_SIGNAL_KEYS = ("provider", "lookback_bars", "entry_filter", "path")
# A tick reads the lookback's candles and two more (the one still forming, one not yet confirmed) in
# one candles request, so the lookback is capped by what one request returns.
CANDLES_BEYOND_LOOKBACK = 2
MIN_LOOKBACK_BARS = 3
MAX_LOOKBACK_BARS = CANDLES_MAX - CANDLES_BEYOND_LOOKBACK
_STOP_KEYS = ("loss", "trigger_px_type", "on_refused")
TRIGGER_PX_TYPES = ("last", "mark", "index")  # OKX's slTriggerPxType
ON_REFUSED = ("exit", "park")


@dataclass(frozen=True)
class ParamsLayer:
    """One file's params section: its value nodes by key, read (and refused) by that file's reader."""

    reader: NodeReader
    fields: Fields
    section: At

    def at(self, key: str) -> At:
        return self.fields.at(key, "params") if key in self.fields else self.section


def params_layer(reader: NodeReader, node: Node, section: At) -> ParamsLayer:
    """A params mapping with only known keys (each value is checked once the layers are merged)."""
    at = At("params", section.line)
    return ParamsLayer(reader, reader.mapping(node, at, "", tuple(_params(reader))), at)


def read_params(layers: Sequence[ParamsLayer]) -> Mapping[str, Any]:
    """The params of a ladder from its layers (a parent's first), each value checked and typed.

    A later layer's key replaces the earlier one whole (`signal` included); giving `sizes` or
    `notional_per_rung` replaces the earlier sizing. A value is refused in the file that gave it.
    """
    source = _sources(layers)
    own = layers[-1]
    out: dict[str, Any] = {}
    for key, (_, default) in _params(own.reader).items():
        if key in source:
            layer = layers[source[key]]
            read = _params(layer.reader)[key][0]
            out[key] = read(layer.fields[key], layer.at(key), key)
        elif default is REQUIRED:
            raise own.reader.fail(own.section, key, "missing")
        else:
            out[key] = default
    _check_together(layers, source, out)
    return MappingProxyType(out)


def params_at(layers: Sequence[ParamsLayer]) -> Mapping[str, tuple[Path, int | None]]:
    """The file and line that gave each param (a later layer's wins), for refusals found later."""
    return MappingProxyType(
        {key: (layers[i].reader.path, layers[i].at(key).line) for key, i in _sources(layers).items()}
    )


def _sources(layers: Sequence[ParamsLayer]) -> dict[str, int]:
    """Which layer gives each param: the latest that names it (sizing is replaced as a whole)."""
    source: dict[str, int] = {}
    for index, layer in enumerate(layers):
        if any(key in layer.fields for key in SIZING):
            for key in SIZING:
                source.pop(key, None)
        source.update(dict.fromkeys(layer.fields, index))
    return source


def _params(reader: NodeReader) -> dict[str, tuple[Read, Any]]:
    """Every param with its read and its default (REQUIRED when a ladder must give it)."""
    return {
        "strategy_id": (lambda node, at, field: reader.name(node, at, field, _MACHINE_NAME), REQUIRED),
        "client_order_id_prefix": (
            lambda node, at, field: reader.name(node, at, field, _CL_ORD_ID_PREFIX),
            REQUIRED,
        ),
        "symbol": (reader.nonempty_text, REQUIRED),
        "bar": (reader.choice(BARS), REQUIRED),
        "offsets": (lambda node, at, field: _offsets(reader, node, at, field), REQUIRED),
        # The sizing, exactly one of the two: the same notional for every rung, or contracts per rung.
        "notional_per_rung": (reader.positive_decimal, None),
        "sizes": (lambda node, at, field: _sizes(reader, node, at, field), None),
        "td_mode": (reader.choice(("isolated", "cross")), REQUIRED),
        "pos_side": (reader.choice(("long", "short")), REQUIRED),
        "side": (reader.choice(("buy", "sell")), REQUIRED),
        "expiry_bars": (reader.integer(1), REQUIRED),
        "hold_bars": (reader.integer(1), REQUIRED),
        "cancel_retry_seconds": (reader.integer(1), REQUIRED),
        "signal": (lambda node, at, field: _signal(reader, node, at, field), REQUIRED),
        "state_file": (lambda node, at, field: _state_file(reader, node, at, field), REQUIRED),
        # expTime of every place request: OKX never applies it later, so "not found" after it is final.
        "exp_time_ms": (reader.integer(500), 5000),
        # The leverage set (and verified) before a cycle's first entry; left as it is when absent.
        "leverage": (reader.positive_decimal, None),
        # Roll the journal into a new segment after each archived cycle or each UTC day (one chain
        # across the files, so old segments can be compressed or moved away); none by default.
        "journal_segments": (reader.choice(("none", "cycle", "day")), "none"),
        # A protective stop on OKX for what the machine's own fills hold; none: held unprotected.
        "stop": (lambda node, at, field: _stop(reader, node, at, field), None),
        # A take-profit leg on the stop's own order (needs `stop`).
        "take_profit": (lambda node, at, field: _fraction(reader, node, at, field), None),
        # When the account is REDUCING: cancel this machine's working entries, or keep them resting.
        "on_reducing": (reader.choice(ON_REDUCING), "cancel_entries"),
        # This machine's own hard limits: they may only tighten the account's limits file.
        LIMITS_PARAM: (lambda node, at, field: read_param_limits(reader, node, at, field), None),
    }


def _decimals(reader: NodeReader, node: Node, at: At, field: str) -> list[tuple[Decimal, At, str]]:
    """A non-empty list of quoted decimals, each with where it is and its field name."""
    if not isinstance(node, SequenceNode) or not node.value:
        raise reader.fail(at, field, 'must be a non-empty list of quoted decimals like "0.003"')
    if len(node.value) > BATCH_MAX:
        problem = (
            f"has {len(node.value)} rungs: OKX takes at most {BATCH_MAX} orders in one batch-orders request"
        )
        raise reader.fail(at, field, problem)
    out = []
    for i, item in enumerate(node.value):
        item_at, item_field = At(at.where, line_of(item)), f"{field}[{i}]"
        out.append((reader.decimal(item, item_at, item_field), item_at, item_field))
    return out


def _offsets(reader: NodeReader, node: Node, at: At, field: str) -> tuple[Decimal, ...]:
    out: list[Decimal] = []
    for value, item_at, item_field in _decimals(reader, node, at, field):
        if not Decimal(0) < value < Decimal(1):
            raise reader.fail(item_at, item_field, f"must be between 0 and 1 (exclusive), got {value}")
        if out and value <= out[-1]:
            raise reader.fail(item_at, item_field, f"must be greater than the offset before it ({out[-1]})")
        out.append(value)
    return tuple(out)


def _sizes(reader: NodeReader, node: Node, at: At, field: str) -> tuple[Decimal, ...]:
    out: list[Decimal] = []
    for value, item_at, item_field in _decimals(reader, node, at, field):
        if value <= 0:
            raise reader.fail(item_at, item_field, f"must be greater than 0 (contracts), got {value}")
        out.append(value)
    return tuple(out)


def _signal(reader: NodeReader, node: Node, at: At, field: str) -> Mapping[str, Any]:
    fields = reader.mapping(node, at, field, _SIGNAL_KEYS)
    provider_node = reader.required(fields, "provider", at)
    provider = reader.choice(("robust_twap", "file"))(provider_node, at, f"{field}.provider")
    filters = tuple(dict.fromkeys(f for options in ENTRY_FILTERS.values() for f in options))
    needs: dict[str, Read] = (
        {
            "lookback_bars": lambda node, at, key: _lookback_bars(reader, node, at, key),
            "entry_filter": reader.choice(filters),
        }
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


def _lookback_bars(reader: NodeReader, node: Node, at: At, field: str) -> int:
    value: int = reader.integer(MIN_LOOKBACK_BARS)(node, at, field)
    if value > MAX_LOOKBACK_BARS:
        problem = (
            f"must be at most {MAX_LOOKBACK_BARS}, got {value}: a tick reads lookback_bars + "
            f"{CANDLES_BEYOND_LOOKBACK} candles in one request, and OKX returns at most {CANDLES_MAX}"
        )
        raise reader.fail(at, field, problem)
    return value


def _fraction(reader: NodeReader, node: Node, at: At, field: str) -> Decimal:
    value = reader.decimal(node, at, field)
    if not Decimal(0) < value < Decimal(1):
        raise reader.fail(at, field, f"must be between 0 and 1 (exclusive), got {value}")
    return value


def _stop(reader: NodeReader, node: Node, at: At, field: str) -> Mapping[str, Any]:
    fields = reader.mapping(node, at, field, _STOP_KEYS)
    reads: dict[str, Read] = {
        "loss": lambda n, a, f: _fraction(reader, n, a, f),
        "trigger_px_type": reader.choice(TRIGGER_PX_TYPES),
        "on_refused": reader.choice(ON_REFUSED),
    }
    out: dict[str, Any] = {}
    for key, read in reads.items():
        if key not in fields:
            raise reader.fail(at, f"{field}.{key}", "missing")
        out[key] = read(fields[key], fields.at(key, at.where), f"{field}.{key}")
    return MappingProxyType(out)


def _state_file(reader: NodeReader, node: Node, at: At, field: str) -> str:
    value = reader.text(node, at, field)
    if not value.endswith(".json") or "/" in value or "\\" in value or value.startswith("."):
        raise reader.fail(at, field, f"{value!r} must be a plain file name ending in .json")
    return value


def _check_together(
    layers: Sequence[ParamsLayer], source: Mapping[str, int], params: Mapping[str, Any]
) -> None:
    """The checks over several params. A refusal names the param the latest file gave (the first
    named on a tie): that file made the combination."""

    def fail(problem: str, *keys: str) -> SpecError:
        key = max(keys, key=lambda k: source.get(k, -1))
        layer = layers[source.get(key, len(layers) - 1)]
        at, field = layer.at(key), key
        if key == "signal":  # point at the filter inside it
            field = "signal.entry_filter"
            at = layer.reader.mapping(layer.fields[key], at, key, _SIGNAL_KEYS).at("entry_filter", "params")
        return layer.reader.fail(at, field, problem)

    side, offsets, sizes = params["side"], params["offsets"], params["sizes"]
    if params["notional_per_rung"] is not None and sizes is not None:
        raise fail("give notional_per_rung or sizes, not both", "sizes")
    if params["notional_per_rung"] is None and sizes is None:
        problem = "missing: give notional_per_rung (the same for every rung) or sizes (contracts per rung)"
        raise fail(problem, "notional_per_rung")
    if sizes is not None and len(sizes) != len(offsets):
        raise fail(
            f"{len(sizes)} sizes for {len(offsets)} offsets: give one size per offset", "sizes", "offsets"
        )
    if params["take_profit"] is not None and params["stop"] is None:
        raise fail("a take-profit rides on the stop's order: declare stop too", "take_profit")
    opens = POS_SIDES[side]
    if params["pos_side"] != opens:
        problem = f"side {side} opens a {opens} position: pos_side must be {opens}, got {params['pos_side']}"
        raise fail(problem, "pos_side", "side")
    entry_filter = params["signal"].get("entry_filter", "none")
    if entry_filter not in ENTRY_FILTERS[side]:
        rest = "below" if side == "buy" else "above"
        problem = (
            f"{entry_filter} does not fit side {side}: the rungs rest {rest} the reference, so use "
            f"{' or '.join(ENTRY_FILTERS[side])}"
        )
        raise fail(problem, "signal", "side")
