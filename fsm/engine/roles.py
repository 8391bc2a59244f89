"""What the order machine's states mean to the engine, read once from its validated spec.

Python never names an order state: it asks these sets, which come from each state's `role` in the
order YAML and from what its rows accept.
"""

from __future__ import annotations

from dataclasses import dataclass

from fsm.spec.model import TERMINAL_ROLES, IgnoreSpec, MachineSpec, RowSpec

CANCEL_SENT = "cancel_sent"  # the order machine's trigger for "a cancel is about to be sent"


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
        declared: list[RowSpec | IgnoreSpec] = [*spec.rows, *spec.ignores]

        def accepts_cancel(state: str) -> bool:
            return any(rule.trigger == CANCEL_SENT and state in rule.sources for rule in declared)

        return cls(
            initial=spec.initial,
            unsent=spec.with_role("unsent"),
            in_flight=spec.with_role("in_flight"),
            terminal=spec.with_role(*TERMINAL_ROLES),
            rejected=spec.with_role("refused"),
            cancellable=frozenset(name for name in spec.state_names if accepts_cancel(name)),
        )

    def tracked(self, state: str) -> bool:
        """An order that may exist on OKX and has not ended: followed every tick."""
        return state not in self.unsent and state not in self.terminal
