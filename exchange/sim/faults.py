"""Faults on demand: per endpoint, for the next N requests or with a seeded probability.

A rule is a mapping {"endpoint": "POST /api/v5/trade/order" or "*", "kind": ..., "count": N,
"probability": p, "ms": n, "clock": "sim" | "wall"}. Without count and probability a rule fires once;
with only a probability it fires with that chance on every matching request until replaced. `clock`
says what `ms` is counted on, for the late kinds (default "sim") and latency (default "wall": the host
sleeps; "sim": the request is held until the simulator's clock has moved that far, so a test on a
manual clock decides exactly what happens while it waits).

Rules are drawn in order. Latency adds up and `async_cancel` is a mode; of the other kinds (the
outcomes) the first one drawn wins. `late_apply`/`late_50004` apply only to the POST trade endpoints
and `async_cancel` only to the cancel endpoints: "*" matches just those, naming another endpoint is a
ValueError. `{"profile": "okx-harsh", "probability": p, "seed": s}` makes one rule of every kind.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from .deferred import SIM, WALL

LATENCY = "latency_ms"
HTTP_503 = "http_503"
CODE_50004_AFTER_APPLY = "code_50004_after_apply"
DROP_BEFORE_APPLY = "drop_before_apply"
DROP_AFTER_APPLY = "drop_after_apply"
BURST_429 = "burst_429"
LATE_APPLY = "late_apply"
LATE_50004 = "late_50004"
ASYNC_CANCEL = "async_cancel"
KINDS = (
    LATENCY,
    HTTP_503,
    CODE_50004_AFTER_APPLY,
    DROP_BEFORE_APPLY,
    DROP_AFTER_APPLY,
    BURST_429,
    LATE_APPLY,
    LATE_50004,
    ASYNC_CANCEL,
)
BEFORE_APPLY = (HTTP_503, DROP_BEFORE_APPLY, BURST_429)
AFTER_APPLY = (CODE_50004_AFTER_APPLY, DROP_AFTER_APPLY)
LATE = (LATE_APPLY, LATE_50004)
MODES = (LATENCY, ASYNC_CANCEL)  # combine with anything; every other kind is an exclusive outcome
NEEDS_MS = (LATENCY, *LATE)  # also the kinds whose `ms` may be counted on either clock

CLOCKS = (SIM, WALL)

_TRADE = "POST /api/v5/trade/"
CANCELS = frozenset({f"{_TRADE}cancel-order", f"{_TRADE}cancel-batch-orders", f"{_TRADE}cancel-algos"})
DEFERRABLE = frozenset(
    {
        f"{_TRADE}order",
        f"{_TRADE}batch-orders",
        f"{_TRADE}close-position",
        f"{_TRADE}cancel-all-after",
        f"{_TRADE}order-algo",
        f"{_TRADE}amend-algos",
        *CANCELS,
    }
)
_SCOPES: dict[str, frozenset[str]] = {LATE_APPLY: DEFERRABLE, LATE_50004: DEFERRABLE, ASYNC_CANCEL: CANCELS}

HARSH = "okx-harsh"
HARSH_LATENCY_MS = 20  # small, so chaos runs stay fast
HARSH_LATE_MS = 3_000


def _default_clock(kind: str) -> str:
    """Latency sleeps on the host; the late kinds count on the simulator's clock."""
    return WALL if kind == LATENCY else SIM


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_probability(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


@dataclass
class FaultRule:
    endpoint: str
    kind: str
    count: int | None
    probability: float
    ms: int
    clock: str

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> FaultRule:
        unknown = set(spec) - {"endpoint", "kind", "count", "probability", "ms", "clock"}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        endpoint, kind = spec.get("endpoint"), spec.get("kind")
        if not isinstance(endpoint, str) or not (endpoint == "*" or " /api/v5/" in endpoint):
            raise ValueError('endpoint must be "*" or "METHOD /api/v5/..."')
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        scope = _SCOPES.get(kind)
        if scope is not None and endpoint != "*" and endpoint not in scope:
            raise ValueError(f"{kind} applies only to {', '.join(sorted(scope))}")
        count, probability, ms = spec.get("count"), spec.get("probability"), spec.get("ms", 0)
        if count is not None and (not _is_int(count) or count < 1):
            raise ValueError("count must be a positive integer")
        if probability is not None and not _is_probability(probability):
            raise ValueError("probability must be a number in [0, 1]")
        if not _is_int(ms) or ms < 0 or (kind in NEEDS_MS and ms == 0):
            raise ValueError(f"{kind} needs a positive integer ms" if kind in NEEDS_MS else "ms must be >= 0")
        clock = spec.get("clock", _default_clock(kind))
        if clock not in CLOCKS:
            raise ValueError(f"clock must be one of {', '.join(CLOCKS)}")
        if "clock" in spec and kind not in NEEDS_MS:
            raise ValueError(f"clock applies only to {', '.join(NEEDS_MS)}")
        if count is None and probability is None:
            count = 1
        return cls(endpoint, kind, count, 1.0 if probability is None else float(probability), ms, clock)

    def matches(self, endpoint: str) -> bool:
        scope = _SCOPES.get(self.kind)
        return self.endpoint in ("*", endpoint) and (scope is None or endpoint in scope)

    def to_dict(self) -> dict[str, Any]:
        rule = {
            "endpoint": self.endpoint,
            "kind": self.kind,
            "count": self.count,
            "probability": self.probability,
            "ms": self.ms,
        }
        return {**rule, "clock": self.clock} if self.kind in NEEDS_MS else rule


@dataclass(frozen=True)
class Lateness:
    """When a late request is applied: `ms` after its arrival, on the simulator's or the host's clock."""

    ms: int
    clock: str


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one request: added latency (host time, and held on the simulator's clock), at most
    one outcome kind, and the cancel mode."""

    latency_ms: int = 0
    held_ms: int = 0  # on the simulator's clock, from the request's arrival
    outcome: str | None = None
    late: Lateness | None = None  # set with a late_apply / late_50004 outcome
    async_cancel: bool = False


NO_FAULTS = FaultPlan()


def harsh_rules(probability: float) -> list[FaultRule]:
    """The okx-harsh profile: every kind on every endpoint it applies to, each at `probability`.

    The late kinds come first among the outcomes, so the first-drawn-wins rule does not starve them.
    """
    kinds = (LATENCY, LATE_APPLY, LATE_50004, *BEFORE_APPLY, *AFTER_APPLY, ASYNC_CANCEL)
    ms = {LATENCY: HARSH_LATENCY_MS, LATE_APPLY: HARSH_LATE_MS, LATE_50004: HARSH_LATE_MS}
    return [FaultRule("*", kind, None, probability, ms.get(kind, 0), _default_clock(kind)) for kind in kinds]


class Faults:
    def __init__(self, seed: int) -> None:
        self._seed = seed
        self.reset()

    def reset(self) -> None:
        """No rules, the seed's RNG stream from its start, no faults counted."""
        self._rng = random.Random(f"{self._seed}:faults")
        self.rules: list[FaultRule] = []
        self.fired: Counter[str] = Counter()
        self.changed: Counter[str] = Counter()  # by endpoint: requests a fault other than latency hit

    def configure(self, spec: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> list[dict[str, Any]]:
        """Replace the rules (a list of rules, {"rules": [...]} or a profile); [] clears them."""
        if isinstance(spec, Mapping) and "profile" in spec:
            self.rules = self._profile(spec)
            return [rule.to_dict() for rule in self.rules]
        items = spec.get("rules", []) if isinstance(spec, Mapping) else spec
        if not isinstance(items, Sequence) or isinstance(items, str):
            raise ValueError("faults must be a list of rules or {'rules': [...]}")
        rules = []
        for item in items:
            if not isinstance(item, Mapping):
                raise ValueError("each fault rule must be a mapping")
            rules.append(FaultRule.parse(item))
        self.rules = rules
        return [rule.to_dict() for rule in rules]

    def _profile(self, spec: Mapping[str, Any]) -> list[FaultRule]:
        """{"profile": name, "probability": p, "seed": s}; reseeds the RNG with s (default: the sim's)."""
        unknown = set(spec) - {"profile", "probability", "seed"}
        if unknown:
            raise ValueError(f"unknown profile fields: {sorted(unknown)}")
        if spec["profile"] != HARSH:
            raise ValueError(f"profile must be {HARSH!r}")
        probability, seed = spec.get("probability"), spec.get("seed", self._seed)
        if not _is_probability(probability):
            raise ValueError("probability must be a number in [0, 1]")
        if not _is_int(seed):
            raise ValueError("seed must be an integer")
        rules = harsh_rules(float(probability))
        self._rng = random.Random(f"{seed}:faults")
        return rules

    def plan(self, endpoint: str) -> FaultPlan:
        latency, held, outcome, late, async_cancel = 0, 0, None, None, False
        for rule in self.rules:
            if not rule.matches(endpoint) or (rule.kind not in MODES and outcome is not None):
                continue
            if rule.probability < 1 and self._rng.random() >= rule.probability:
                continue
            if rule.count is not None:
                rule.count -= 1
            self.fired[rule.kind] += 1
            if rule.kind != LATENCY:
                self.changed[endpoint] += 1
            if rule.kind == LATENCY and rule.clock == SIM:
                held += rule.ms
            elif rule.kind == LATENCY:
                latency += rule.ms
            elif rule.kind == ASYNC_CANCEL:
                async_cancel = True
            else:
                outcome = rule.kind
                if rule.kind in LATE:
                    late = Lateness(rule.ms, rule.clock)
        self.rules = [rule for rule in self.rules if rule.count != 0]
        return FaultPlan(latency, held, outcome, late, async_cancel)
