"""The report of a machine's journal (cycles, PnL, fees, drawdown, fill rates, charts): one module for
replay and for a live machine. `write(machine, journal, out_dir)` is the one call."""

from fsm.report.build import Report, build, write

__all__ = ["Report", "build", "write"]
