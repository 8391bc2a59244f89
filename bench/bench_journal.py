"""Journal throughput: fsynced appends/s, store commits/s and full-chain verify time for N records.

Run: ``.venv/bin/python -m bench.bench_journal --records 5000 [--dir /path/on/the/real/disk]``.
fsync cost depends on the filesystem, so run it where the state directory will live.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from fsm.persist.journal import JournalWriter, verify_journal
from fsm.persist.store import Identity, StateStore


def snapshot(step: int) -> dict[str, Any]:
    """A ladder-sized snapshot: three rungs and a handful of fills, money as strings."""
    rungs = [
        {
            "level": level,
            "clOrdId": f"ethtwap1717000000r{level}a0",
            "ordId": f"6000000000000000{level}{step % 10}",
            "px": f"{3000 - 9 * level}.00",
            "sz": "1.50",
            "state": "partially_filled",
            "accFillSz": f"{step % 150 / 100:.2f}",
            "avgPx": "2991.00",
        }
        for level in (1, 2, 3)
    ]
    fills = [
        {
            "tradeId": str(1000 + i),
            "billId": str(5000 + i),
            "ordId": rungs[i % 3]["ordId"],
            "fillPx": "2991.00",
            "fillSz": "0.10",
            "fee": "-0.0060",
            "feeCcy": "USDT",
            "fillTime": 1_717_000_000_000 + i,
        }
        for i in range(5)
    ]
    return {
        "ladder": "partially_filled",
        "cycle": "c1717000000",
        "rungs": rungs,
        "fills": fills,
        "step": step,
    }


def evidence(step: int) -> dict[str, Any]:
    return {"instId": "ETH-USDT-SWAP", "ordId": str(step), "state": "partially_filled", "accFillSz": "0.40"}


def bench_appends(directory: Path, records: int) -> float:
    writer = JournalWriter(directory / "appends.jsonl")
    started = time.perf_counter()
    for step in range(records):
        writer.append("order", evidence(step), snapshot(step), 1_717_000_000_000 + step)
    elapsed = time.perf_counter() - started
    writer.close()
    return records / elapsed


def bench_commits(directory: Path, records: int) -> float:
    identity = Identity("bench", "ETH-USDT-SWAP", "15m", "0" * 64)
    with StateStore(directory / "commits.json", identity) as store:
        store.open()
        started = time.perf_counter()
        for step in range(records):
            store.commit("order", evidence(step), snapshot(step), 1_717_000_000_000 + step)
        return records / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as name:
        directory = Path(name)
        appends = bench_appends(directory, args.records)
        commits = bench_commits(directory, args.records)
        journal = directory / "appends.jsonl"
        started = time.perf_counter()
        report = verify_journal(journal)
        verify_s = time.perf_counter() - started
        size = journal.stat().st_size
    print(f"records:            {args.records} ({size / args.records:.0f} bytes/record, {size / 1e6:.1f} MB)")
    print(f"journal appends/s:  {appends:,.0f} (write + fsync each)")
    print(f"store commits/s:    {commits:,.0f} (append + atomic state replace + directory fsync)")
    rate = report.records / verify_s
    print(f"verify:             {verify_s:.3f} s for {report.records} records ({rate:,.0f}/s)")


if __name__ == "__main__":
    main()
