"""The trader's hard limits as declared: the account's limits file and a ladder's own `limits` param.

Read with the machine YAML's node reader, so a refusal names the file, the line and the field. A
machine's `limits` (in its params, inherited through `extends`) may only tighten what the file allows;
`effective_limits` refuses a loosening at the param's own file and line. The account's
max_orders_per_minute is the process's order budget (exchange.ratelimit), not a machine's limit: it is
kept on the file, and a machine cannot declare it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from pathlib import Path

from yaml.nodes import MappingNode, Node

from fsm.spec.model import MachineSpec, SpecError
from fsm.spec.nodes import At, NodeReader, read_yaml, tag_of

DEFAULT_LIMITS = Path("machines") / "limits.yaml"
LIMITS_PARAM = "limits"


@dataclass(frozen=True)
class Cooldown:
    """After `count` losing cycles in a row, no new cycle for `bars` of the machine's bars."""

    count: int
    bars: int

    def looser_than(self, other: Cooldown) -> bool:
        """Whether this lets a machine trade where `other` would not: more losses, or fewer bars."""
        return self.count > other.count or self.bars < other.bars

    def __str__(self) -> str:
        return f"{self.count} losing cycles in a row: {self.bars} bars without a new cycle"


@dataclass(frozen=True)
class Limits:
    """Quote-currency ceilings (and a leverage ceiling); None where nothing is declared."""

    max_order_notional: Decimal | None = None  # one order that adds exposure
    max_open_notional: Decimal | None = None  # positions + working entries, per instrument and total
    max_leverage: Decimal | None = None
    max_cycle_notional: Decimal | None = None  # everything one machine's cycle sends to enter
    cooldown_after_losses: Cooldown | None = None  # a pause after losing cycles (the idle row's guard)
    max_daily_loss: Decimal | None = None  # realized, every machine, the UTC day: then REDUCING
    max_drawdown: Decimal | None = None  # quote currency below the peak of realized PnL: then REDUCING


ORDER_KEYS = ("max_order_notional", "max_open_notional", "max_leverage")  # a machine may tighten them
TRADING_KEYS = ("max_daily_loss", "max_drawdown")  # the account's trading state: the file's alone
ACCOUNT_KEYS = ORDER_KEYS + TRADING_KEYS
MACHINE_KEYS = ("max_cycle_notional", "cooldown_after_losses")
ORDERS_PER_MINUTE = "max_orders_per_minute"  # the account's order budget, the file's only
UNITS = {  # what a trading-state limit's number counts, as `check` says it
    "max_daily_loss": "quote currency realized, the UTC day",
    "max_drawdown": "quote currency below the peak of realized PnL, not a fraction",
}


@dataclass(frozen=True)
class LimitsFile:
    """A checked limits file: its limits, and the line that gave each one."""

    path: Path
    limits: Limits
    lines: Mapping[str, int] = field(default_factory=dict)
    orders_per_minute: int | None = None  # max_orders_per_minute: order POSTs leaving this process


def _cooldown(reader: NodeReader, node: Node, at: At, name: str) -> Cooldown:
    """`{count: 3, bars: 8}`: both integers of at least 1."""
    section = reader.mapping(node, at, name, ("count", "bars"))
    count, bars = (
        reader.integer(1)(reader.required(section, key, at), section.at(key, at.where), f"{name}.{key}")
        for key in ("count", "bars")
    )
    return Cooldown(count, bars)


DRAWDOWN_MEANS = (
    "max_drawdown is an amount of quote currency (USDT for a USDT swap) below the peak of the machines' "
    'realized PnL, which starts at 0; write that amount, e.g. "500"'
)


def _drawdown(reader: NodeReader, node: Node, at: At, name: str) -> Decimal:
    """An amount of at least 1 quote unit: a percentage, or a number below 1 (which reads as a fraction
    of equity, as other tools take it), is refused rather than taken as a few cents."""
    raw = str(node.value).strip()
    if raw.endswith("%"):
        problem = f"{raw!r} is a percentage, and realized PnL has no base: {DRAWDOWN_MEANS}"
        raise reader.fail(at, name, problem)
    value = reader.positive_decimal(node, at, name)
    if value < 1:
        raise reader.fail(at, name, f"{raw!r} reads as a fraction of equity, but {DRAWDOWN_MEANS}")
    return value


def _limit(reader: NodeReader, node: Node, at: At, name: str) -> Decimal | Cooldown:
    """A positive quoted decimal; max_leverage may also be a plain integer (`5`); a cooldown its pair;
    max_drawdown an amount of at least 1."""
    if name.endswith("cooldown_after_losses"):
        return _cooldown(reader, node, at, name)
    if name.endswith("max_leverage") and tag_of(node) == "int":
        return Decimal(reader.integer(1)(node, at, name))
    if name.endswith("max_drawdown"):
        return _drawdown(reader, node, at, name)
    return reader.positive_decimal(node, at, name)


def read_limits(reader: NodeReader, node: Node, at: At, field_name: str, allowed: tuple[str, ...]) -> Limits:
    """A mapping of limits (every key one of `allowed`), each refused at its own line."""
    section = reader.mapping(node, at, field_name, allowed)
    values = {
        key: _limit(reader, value, section.at(key, at.where), f"{field_name}.{key}")
        for key, value in section.items()
    }
    return Limits(**values)  # type: ignore[arg-type]


def read_param_limits(reader: NodeReader, node: Node, at: At, field_name: str) -> Limits:
    """A ladder's `limits` param: the file's order limits, to tighten them for this machine (the
    trading-state limits are the account's: one machine cannot judge every machine's losses)."""
    return read_limits(reader, node, at, field_name, ORDER_KEYS + MACHINE_KEYS)


def load_limits(path: Path) -> LimitsFile:
    """Read and check a limits file (`account:` and `machine:` sections)."""
    loader, root, _ = read_yaml(path)
    if not isinstance(root, MappingNode):
        raise SpecError(path, "", 1, "", "must be a YAML mapping with account: and machine: sections")
    reader = NodeReader(path, loader)
    top = reader.mapping(root, At("", 1), "", ("account", "machine"))
    merged: dict[str, Decimal | Cooldown | None] = {}
    lines: dict[str, int] = {}
    per_minute: int | None = None
    for section, keys in (("account", ACCOUNT_KEYS), ("machine", MACHINE_KEYS)):
        if section not in top:
            continue
        at = top.at(section, section)
        node = top[section]
        process_keys = (ORDERS_PER_MINUTE,) if section == "account" else ()
        fields_ = reader.mapping(node, at, section, keys + process_keys)
        if ORDERS_PER_MINUTE in fields_:
            where = fields_.at(ORDERS_PER_MINUTE, section)
            name = f"{section}.{ORDERS_PER_MINUTE}"
            per_minute = reader.integer(1)(fields_.pop(ORDERS_PER_MINUTE), where, name)
            lines[ORDERS_PER_MINUTE] = fields_.lines[ORDERS_PER_MINUTE]
        section_limits = read_limits(reader, _without(node, ORDERS_PER_MINUTE), at, section, keys)
        for key in keys:
            if key in fields_:
                merged[key] = getattr(section_limits, key)
                lines[key] = fields_.lines[key]
    return LimitsFile(path, Limits(**merged), lines, per_minute)  # type: ignore[arg-type]


def _without(node: Node, key: str) -> Node:
    """A mapping node without `key` (read apart from the section's limits)."""
    assert isinstance(node, MappingNode)
    kept = [(k, v) for k, v in node.value if k.value != key]
    return MappingNode(node.tag, kept, node.start_mark, node.end_mark, node.flow_style)


def limits_path(option: Path | None) -> Path | None:
    """Which limits file applies: --limits (or $OKX_FSM_LIMITS), else machines/limits.yaml when present."""
    if option is not None:
        return option
    return DEFAULT_LIMITS if DEFAULT_LIMITS.is_file() else None


def effective_limits(spec: MachineSpec, account: LimitsFile | None) -> Limits | None:
    """The limits one machine runs under: the file's, tightened by its own `limits` param (which may
    only tighten). None when neither declares any."""
    own: Limits | None = spec.params.get(LIMITS_PARAM)
    if account is None:
        return own
    if own is None:
        return account.limits
    out = account.limits
    for f in fields(Limits):
        mine, allowed = getattr(own, f.name), getattr(account.limits, f.name)
        if mine is None:
            continue
        if allowed is not None and (
            mine.looser_than(allowed) if isinstance(mine, Cooldown) else mine > allowed
        ):
            where = f"{account.path} line {account.lines.get(f.name)}"
            problem = (
                f"{f.name} {mine} is above the limits file's {allowed} ({where}): a machine may only "
                "tighten its limits"
            )
            raise spec.param_refused(LIMITS_PARAM, problem)
        out = replace(out, **{f.name: mine})
    return out
