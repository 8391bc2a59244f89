"""What the order and stop machines' states mean to the engine, read once from their validated specs.

Python never names an order or stop state: it asks these sets, which come from each state's `role` in
the YAML and from what its rows accept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fsm.spec.model import TERMINAL_ROLES, IgnoreSpec, MachineSpec, RowSpec

CANCEL_SENT = "cancel_sent"  # the order machine's trigger for "a cancel is about to be sent"


def _accepting_cancel(spec: MachineSpec, rules: Sequence[RowSpec | IgnoreSpec]) -> frozenset[str]:
    """The states where one of `rules` takes the cancel_sent trigger."""
    return frozenset(
        name
        for name in spec.state_names
        if any(r.trigger == CANCEL_SENT and name in r.sources for r in rules)
    )


@dataclass(frozen=True)
class OrderRoles:
    initial: str  # where a rendered rung starts
    unsent: frozenset[str]  # rendered and not sent: what a submit sends
    in_flight: frozenset[str]  # a place request may still apply: "not found" counts after its deadline
    terminal: frozenset[str]  # ended or refused: never queried again
    rejected: frozenset[str]  # refused: ended without ever working (an explicit code, a post-only cross)
    cancellable: frozenset[str]  # a cancel may be aimed at it: the machine declares cancel_sent there

    @classmethod
    def of(cls, spec: MachineSpec) -> OrderRoles:
        return cls(
            initial=spec.initial,
            unsent=spec.with_role("unsent"),
            in_flight=spec.with_role("in_flight"),
            terminal=spec.with_role(*TERMINAL_ROLES),
            rejected=spec.with_role("refused"),
            cancellable=_accepting_cancel(spec, [*spec.rows, *spec.ignores]),
        )

    def tracked(self, state: str) -> bool:
        """An order that may exist on OKX and has not ended: followed every tick."""
        return state not in self.unsent and state not in self.terminal


@dataclass(frozen=True)
class StopRoles:
    initial: str  # where a rendered stop starts
    unsent: frozenset[str]  # rendered and not sent: what place_stop sends
    in_flight: frozenset[str]  # a place request may still apply: "not found" counts after the grace
    unseen: frozenset[str]  # sent, and OKX shows no such algo yet: place_stop sends the same request again
    working: frozenset[str]  # live on OKX, untriggered: it protects the size it was given
    cancel_requested: frozenset[str]  # our cancel was sent
    fired: frozenset[str]  # OKX placed its child order: the child's fills close the size
    ended: frozenset[str]  # canceled: by our cancel, or by hand
    refused: frozenset[str]  # never worked, or its child order could not be placed
    terminal: frozenset[str]  # fired, ended or refused: the algo itself is never queried again
    cancellable: frozenset[str]  # a cancel may be aimed at it: a row of the machine leaves on cancel_sent

    @classmethod
    def of(cls, spec: MachineSpec) -> StopRoles:
        return cls(
            initial=spec.initial,
            unsent=spec.with_role("unsent"),
            in_flight=spec.with_role("in_flight"),
            unseen=spec.with_role("unseen"),
            working=spec.with_role("working"),
            cancel_requested=spec.with_role("cancel_requested"),
            fired=spec.with_role("fired"),
            ended=spec.with_role("ended"),
            refused=spec.with_role("refused"),
            terminal=spec.with_role(*TERMINAL_ROLES),
            cancellable=_accepting_cancel(spec, list(spec.rows)),
        )

    def tracked(self, state: str) -> bool:
        """A stop that may exist on OKX and has not ended: its algo is followed every tick."""
        return state not in self.unsent and state not in self.terminal
