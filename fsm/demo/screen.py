"""How the demo looks: each tick's transitions as they happen, a progress bar on a terminal, a summary.

Plain lines when piped or NO_COLOR, so `make demo | tee` and CI logs read the same story.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from fsm.cli.render import cell, fancy, iso, new_table
from fsm.demo.story import DemoSummary, StepOutcome


class DemoScreen(AbstractContextManager["DemoScreen"]):
    """Receives the demo's steps; on a terminal keeps a progress bar under the printed transitions."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def start(self, total: int) -> None:
        if not fancy(self.console):
            return
        self._progress = Progress(
            TextColumn("[bold]demo[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self._task = self._progress.add_task("starting the simulator", total=total)
        self._progress.start()

    def step(self, o: StepOutcome) -> None:
        c = self.console
        bold = fancy(c)
        head = f"[{o.number:>2}/{o.total}] cycle {o.cycle}  {iso(o.now_ms)}  px {o.px}  {o.title}"
        c.print(f"[bold]{head}[/bold]" if bold else head)
        for f in o.fired:
            dest = f"[bold green]{f.dest}[/bold green]" if bold else f.dest
            c.print(f"        {f.source} -> {dest}   {f.description}")
        if not o.fired:
            c.print(f"        stays in {o.state.state}")
        if o.state.rungs:
            rungs = "  ".join(f"r{r.level} {r.state} {r.accFillSz:f}/{r.sz:f}" for r in o.state.rungs)
            c.print(f"        rungs: {rungs}")
        if o.state.stop is not None:
            stop = o.state.stop
            c.print(f"        stop:  {stop.algoClOrdId} {stop.state} {stop.sz:f} @ {stop.slTriggerPx:f}")
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, description=f"cycle {o.cycle}: {o.state.state}")

    def summary(self, s: DemoSummary) -> None:
        c = self.console
        c.print()
        c.print(
            f"demo finished (seed {s.seed}): {s.cycles_completed} cycles completed, final state "
            f"{s.final_state}, {s.journal_records} journal records"
        )
        path = " -> ".join([s.transitions[0][0], *(t[1] for t in s.transitions)]) if s.transitions else "-"
        c.print(f"path: {path}", soft_wrap=not fancy(c))
        cols = ("cycle", "bought", "avg entry", "sold", "avg exit", "fees", "realized PnL")
        table = new_table(c, *cols, title="cycles (from the journal's fills)", right=cols[1:])
        for cy in s.cycles:
            table.add_row(
                cy.cycle_id,
                f"{cy.bought:f}",
                cell(cy.avg_entry_px),
                f"{cy.sold:f}",
                cell(cy.avg_exit_px),
                f"{cy.fees:f}",
                f"{cy.realized_pnl:f}",
            )
        c.print(table)
        gets = sum(n for k, n in s.requests.items() if k.startswith("GET "))
        posts = ", ".join(
            f"{k.rsplit('/', 1)[-1]} x{n}" for k, n in s.requests.items() if k.startswith("POST ")
        )
        c.print(f"requests    {gets} GET; POST {posts}")
        c.print(f"state file  {s.state_path}")
        c.print(f"journal     {s.journal_path}")
        c.print(f"diagram     {s.diagram_path}")
        c.print(f"next: okx-fsm status eth_robust_twap_15m --state-dir {s.state_path.parent}")
