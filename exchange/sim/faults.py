"""Faults on demand: per endpoint, for the next N requests or with a seeded probability.

A rule is a mapping {"endpoint": "POST /api/v5/trade/order" or "*", "kind": ..., "count": N,
"probability": p, "ms": latency}. Without count and probability a rule fires once; with only a
probability it fires with that chance on every matching request until replaced.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LATENCY = "latency_ms"
HTTP_503 = "http_503"
CODE_50004_AFTER_APPLY = "code_50004_after_apply"
DROP_BEFORE_APPLY = "drop_before_apply"
DROP_AFTER_APPLY = "drop_after_apply"
BURST_429 = "burst_429"
KINDS = (LATENCY, HTTP_503, CODE_50004_AFTER_APPLY, DROP_BEFORE_APPLY, DROP_AFTER_APPLY, BURST_429)
BEFORE_APPLY = (HTTP_503, DROP_BEFORE_APPLY, BURST_429)
AFTER_APPLY = (CODE_50004_AFTER_APPLY, DROP_AFTER_APPLY)


@dataclass
class FaultRule:
    endpoint: str
    kind: str
    count: int | None
    probability: float
    ms: int

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> FaultRule:
        unknown = set(spec) - {"endpoint", "kind", "count", "probability", "ms"}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        endpoint, kind = spec.get("endpoint"), spec.get("kind")
        if not isinstance(endpoint, str) or not (endpoint == "*" or " /api/v5/" in endpoint):
            raise ValueError('endpoint must be "*" or "METHOD /api/v5/..."')
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        count, probability, ms = spec.get("count"), spec.get("probability"), spec.get("ms", 0)
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            raise ValueError("count must be a positive integer")
        if probability is not None and (
            not isinstance(probability, int | float)
            or isinstance(probability, bool)
            or not 0 <= probability <= 1
        ):
            raise ValueError("probability must be a number in [0, 1]")
        if not isinstance(ms, int) or isinstance(ms, bool) or ms < 0 or (kind == LATENCY and ms == 0):
            raise ValueError("latency_ms needs a positive integer ms")
        if count is None and probability is None:
            count = 1
        return cls(endpoint, kind, count, 1.0 if probability is None else float(probability), ms)

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "kind": self.kind,
            "count": self.count,
            "probability": self.probability,
            "ms": self.ms,
        }


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one request: added latency, and at most one outcome kind."""

    latency_ms: int = 0
    outcome: str | None = None


class Faults:
    def __init__(self, seed: int) -> None:
        self._seed = seed
        self.reset()

    def reset(self) -> None:
        self._rng = random.Random(f"{self._seed}:faults")
        self.rules: list[FaultRule] = []

    def configure(self, spec: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> list[dict[str, Any]]:
        """Replace the rules (a list of rules, or {"rules": [...]}); [] clears them."""
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

    def plan(self, endpoint: str) -> FaultPlan:
        latency, outcome = 0, None
        for rule in self.rules:
            if rule.endpoint not in ("*", endpoint) or (rule.kind != LATENCY and outcome is not None):
                continue
            if rule.probability < 1 and self._rng.random() >= rule.probability:
                continue
            if rule.count is not None:
                rule.count -= 1
            if rule.kind == LATENCY:
                latency += rule.ms
            else:
                outcome = rule.kind
        self.rules = [rule for rule in self.rules if rule.count != 0]
        return FaultPlan(latency, outcome)
