"""A chaos harness for okx-fsm: the real CLI against the simulator's `okx-harsh` faults with random SIGKILLs.

Judged only from the simulator's own records (`/sim/state`, `/sim/stats`) and the files on disk.
Shared by `tests/chaos/test_chaos.py` (short) and `bench/chaos.py` (long).
"""

from bench.chaos_lib.run import ChaosConfig, ChaosReport, portfolio, run_chaos

__all__ = ["ChaosConfig", "ChaosReport", "portfolio", "run_chaos"]
