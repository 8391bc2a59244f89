"""The account journal: the account's trading state on the record, beside the machines' journals.

``account.json`` + ``account.jsonl`` in the state directory, kept by fsm.persist like a machine's (the
same hash chain and checkpoint; a corrupt one is refused, never overwritten). It holds the operator's
marks (`halt`, `reduce`, `resume --account`; kind ``operator``) and each change of the trading state
with what set it and what clears it (kind ``trading``), journaled once. A running runner holds it for
its life (so `halt` knows to go through its spool); anyone else opens it for a moment, and only to
journal a change: a tick that finds nothing changed writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsm.errors import StateLocked
from fsm.persist.store import Identity, StateStore
from fsm.risk.exposure import ACCOUNT_FILE, saved_machines
from fsm.risk.realized import machine_realized
from fsm.risk.trading import ACTIVE, Mark, Realized, Trading, evaluate
from fsm.spec.limits import TRADING_KEYS, Limits

ACCOUNT_IDENTITY = Identity(strategy_id="account", symbol="*", bar="-", spec_hash="-")
TRADING_RECORD = "trading"  # the journal kind of a change of the trading state
KEEP_MARKS = 50  # operator marks the snapshot keeps (the newest decide; older ones are in the journal)


def account_path(state_dir: Path) -> Path:
    return state_dir / ACCOUNT_FILE


@dataclass
class Book:
    """The account journal's snapshot: the operator's marks, the ids of the requests carried out,
    and the trading state last journaled."""

    marks: list[Mark] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    trading: Trading = ACTIVE

    def to_dict(self) -> dict[str, Any]:
        return {
            "marks": [{"command": m.command, "ts": m.ts} for m in self.marks],
            "done": self.done,
            "trading": self.trading.to_dict(),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> Book:
        if raw is None:
            return cls()
        return cls(
            marks=[Mark(m["command"], int(m["ts"])) for m in raw["marks"]],
            done=[str(i) for i in raw["done"]],
            trading=Trading.from_dict(raw["trading"]),
        )


def read_book(state_dir: Path) -> Book:
    """The account journal as verified without the lock (a runner may hold it): a fresh book when
    there is none; a corrupt one is refused (StateCorrupt, JournalChainBroken)."""
    path = account_path(state_dir)
    if not path.exists() and not path.with_suffix(".jsonl").exists():
        return Book()
    return Book.from_dict(StateStore(path, ACCOUNT_IDENTITY).inspect().snapshot)


class Ledger:
    """The account journal open and locked: marks and trading-state changes are journaled through it."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.store = StateStore(account_path(state_dir), ACCOUNT_IDENTITY)
        self.book = Book()

    def open(self) -> Ledger:
        """Lock and load (StateLocked when a runner or another command holds it)."""
        self.book = Book.from_dict(self.store.open())
        return self

    def close(self) -> None:
        self.store.close()

    def mark(self, command: str, ts: int, request_id: str, **data: Any) -> None:
        """Journal one operator mark (halt, reduce, resume) carried out once by its request id."""
        if request_id in self.book.done:
            return
        self.book.marks = [*self.book.marks[-(KEEP_MARKS - 1) :], Mark(command, ts)]  # type: ignore[arg-type]
        self.book.done = [*self.book.done[-(KEEP_MARKS - 1) :], request_id]
        record = {"command": command, "id": request_id, **data}
        self.store.commit("operator", record, self.book.to_dict(), ts_ms=ts)

    def settle(self, trading: Trading, ts: int) -> bool:
        """Journal the trading state when it changed (state, cause or what clears it); whether it did."""
        if trading.key == self.book.trading.key:
            return False
        was, self.book.trading = self.book.trading, trading
        record = {**trading.to_dict(), "was": was.state.value}
        self.store.commit(TRADING_RECORD, record, self.book.to_dict(), ts_ms=ts)
        return True


@contextmanager
def opened(state_dir: Path) -> Iterator[Ledger]:
    ledger = Ledger(state_dir).open()
    try:
        yield ledger
    finally:
        ledger.close()


def account_realized(state_dir: Path, limits: Limits) -> list[Realized]:
    """Every machine's realized PnL per fill, when a limit needs it (else nothing is read)."""
    if all(getattr(limits, key) is None for key in TRADING_KEYS):
        return []
    out: list[Realized] = []
    for path, held in saved_machines(state_dir):
        out += machine_realized(path, held.state)
    return out


def judge(book: Book, state_dir: Path, limits: Limits | None, now_ms: int) -> Trading:
    """The trading state now, from the book's marks and every machine's realized PnL."""
    limits = limits or Limits()
    return evaluate(book.marks, account_realized(state_dir, limits), limits, now_ms)


def current_trading(state_dir: Path, limits: Limits | None, now_ms: int) -> Trading:
    """The trading state where the gate is evaluated outside a runner: judged from the unlocked
    journal; a change is journaled under the lock, unless a runner holds it (it journals the change
    on its own round)."""
    book = read_book(state_dir)
    trading = judge(book, state_dir, limits, now_ms)
    if trading.key == book.trading.key:
        return trading
    with suppress(StateLocked), opened(state_dir) as ledger:
        trading = judge(ledger.book, state_dir, limits, now_ms)
        ledger.settle(trading, now_ms)
    return trading
