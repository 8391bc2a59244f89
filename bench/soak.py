"""The runner left on for simulated days: `okx-fsm run --submit` against a realtime simulator at speed,
with the okx-harsh fault profile and full outages, judged as the chaos bench judges.

    .venv/bin/python -m bench.soak --minutes 20 --speed 240 --harsh 0.1 --outages 4 [--kills 3] [--push]

With --push the runner also listens to the simulator's private orders channel (`run --push`), whose
socket is dropped and whose pushes are lost now and then: REST reconciles must heal what push misses.

The soak steers the market so every run trades: each five-second beat pulls the price halfway back
to where it started (left alone, a random walk can drift below every signal's filter for hours: a
run with no order at all), and every `--dip-every` beats it dips 0.6% instead, so ladders fill now and
then (fills, holds, exits), not only expire. With --kills the runner is SIGKILLed now and then and
started again at once: recovery from a runner cut off wherever it was (between rounds, mid-tick,
around a POST) is judged too.

With --until-pushes N (and --push) the run is bounded by count instead: each kill, then each outage,
waits until the runner has received a push since the one before (so it lands in a runner at work), and
the run stops once they are all done, the channel has dropped a socket and lost a push, and the last
runner has received N pushes; --minutes is then only a ceiling (reaching it is a failure). The suite's
push soak runs so, whatever the load on the machine.

The end: faults off, the runner must settle (a clean tick with every venue fill journaled, within
a ceiling), then it is stopped; the venue is read, and a final read-only tick (`okx-fsm reconcile`)
must journal every fill of that reading, since the venue trades on after the runner's last tick.
Reports simulated hours, the last runner's rounds, faults fired, outages ridden out (a successful tick
after each), runner exits (it must be 0: it never stops by itself), and its RSS at start and end (of the
first and the last runner). Exits 1 if a runner died by itself, an outage was not ridden out, the runner
did not settle, the final tick failed, an invariant was broken, (with --push) the last runner received
no push, or (with --until-pushes) the ceiling came first.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from bench.chaos_lib.judge import Violations, judge
from bench.chaos_lib.records import Journal, VenueLedger, read_snapshot, state_path
from bench.chaos_lib.sim import MACHINE, PREFIX, REPO, SimProcess, okx_fsm_command

OUTAGE_S = 20.0  # wall seconds every request answers 503
RECONNECT_S = 60.0  # how long the end of a run waits for push to be connected again (a ceiling)
SETTLE_S = 120.0  # how long the end of a run waits for the runner to journal every venue fill (a ceiling)
# A place request's expTime window in wall time. The shipped 5 s is 21 ms of wall time at speed 240,
# less than a tick takes from measuring exchange time to its POST (and the local clock cannot estimate
# a sped-up one meanwhile), let alone an okx-harsh latency fault: every batch would be refused 50036
# and no order would ever rest (nothing to fill, nothing to push). The soak's copy of the machine gives
# each request this much wall time instead: a ceiling no starved CPU reaches between the runner's clock
# reading and its POST (a tight one refused whole batches 50036 on a busy machine), short enough that
# an ambiguous place is settled (believed absent past it) within a short soak.
EXP_WALL_S = 30.0
DIP = Decimal("0.994")  # a price dip now and then, deep enough to fill the ladder's first rungs


def soak_machine(folder: Path, speed: float) -> Path:
    """The shipped machine with its expTime window scaled to the simulator's clock speed."""
    shipped = (REPO / "machines" / f"{MACHINE}.yaml").read_text()
    exp_ms = max(5000, int(EXP_WALL_S * 1000 * speed))
    text, count = re.subn(r"(?m)^(\s+exp_time_ms:) \d+$", rf"\g<1> {exp_ms}", shipped)
    if count != 1:
        raise SystemExit(f"soak: expected one exp_time_ms line in machines/{MACHINE}.yaml, found {count}")
    path = folder / f"{MACHINE}.yaml"
    path.write_text(text)
    return path


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def heartbeat(state_dir: Path) -> dict[str, object]:
    path = state_path(state_dir).with_name(state_path(state_dir).stem + ".heartbeat.json")
    try:
        raw: dict[str, object] = json.loads(path.read_text())
        return raw
    except (OSError, ValueError):
        return {}


def runner_pushes(state_dir: Path, since_wall_s: float) -> int:
    """Pushes the runner started at `since_wall_s` has received (0 until its own heartbeat is written)."""
    beat = heartbeat(state_dir)
    push = beat.get("push")
    if float(str(beat.get("last_tick_wall_s") or 0)) < since_wall_s or not isinstance(push, dict):
        return 0
    return int(push.get("pushes") or 0)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument(
        "--minutes", type=float, default=20.0, help="wall minutes to run (with --until-pushes: a ceiling)"
    )
    parser.add_argument("--speed", type=float, default=240.0, help="simulator clock speed")
    parser.add_argument("--harsh", type=float, default=0.1, help="okx-harsh fault probability")
    parser.add_argument("--outages", type=int, default=4, help="full outages (every request 503)")
    parser.add_argument("--interval", type=float, default=1.0, help="the runner's tick interval (s)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--dip-every", type=int, default=6, help="dip the price 0.6%% every N five-second beats (0: never)"
    )
    parser.add_argument(
        "--kills", type=int, default=0, help="SIGKILL the runner this many times, restarting it"
    )
    parser.add_argument("--push", action="store_true", help="run --push, with WS drops and lost pushes")
    parser.add_argument(
        "--until-pushes",
        type=int,
        metavar="N",
        help="bound by count (needs --push): stop once the last runner received N pushes",
    )
    parser.add_argument(
        "--keep", type=Path, help="keep the state files, journal and run log in this directory"
    )
    args = parser.parse_args()
    if args.until_pushes is not None and (not args.push or args.until_pushes < 1):
        parser.error("--until-pushes needs --push and a count of at least 1")
    counted = args.until_pushes is not None

    with (
        tempfile.TemporaryDirectory(prefix="okx-fsm-soak-") as tmp,
        SimProcess(args.seed, speed=args.speed) as sim,
    ):
        state_dir = args.keep or Path(tmp) / "state"
        harsh = {"profile": "okx-harsh", "probability": args.harsh, "seed": args.seed}
        sim.set_faults(harsh)
        start_clock = int(sim.state()["clock_ms"])
        start_px = Decimal(str(sim.state()["px"]))
        machine = soak_machine(Path(tmp), args.speed)
        command = [
            *okx_fsm_command(),
            "run",
            str(machine),
            "--submit",
            "--interval",
            str(args.interval),
            "--time-sync",
            "0",  # the simulator's clock runs sped up: the local clock cannot estimate it
            "--state-dir",
            str(state_dir),
            *(["--push", "--push-reconcile", "10"] if args.push else []),
        ]
        out_path = Path(tmp) / "runner.out"

        def start_runner() -> subprocess.Popen[str]:
            with out_path.open("w") as out:  # a file, not a pipe: a long run's output never blocks it
                return subprocess.Popen(
                    command,
                    cwd=REPO,
                    env={**os.environ, **sim.env},
                    stdout=out,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )

        runner, runner_wall_s = start_runner(), time.time()
        time.sleep(5)
        rss_start = rss_kib(runner.pid)
        ledger = VenueLedger()
        total_s = args.minutes * 60
        timed = not counted
        outage_at = [total_s * (k + 1) / (args.outages + 1) for k in range(args.outages * timed)]
        # Kills fall evenly over the first 80% of the run, so the last runner works a while.
        kill_at = [total_s * 0.8 * (k + 0.5) / args.kills for k in range(args.kills * timed)]
        # Counted: kills, then outages, each once the runner has received a push since the one before.
        events = (["kill"] * args.kills + ["outage"] * args.outages) if counted else []
        started, ridden, exits, beats, pushes_mark, reached = time.monotonic(), 0, 0, 0, 0, False
        while (elapsed := time.monotonic() - started) < total_s:
            if runner.poll() is not None:
                exits += 1
                break
            due = None
            if counted:
                pushes = runner_pushes(state_dir, runner_wall_s)
                channel = sim.set_ws_faults({})  # the channel's counters; nothing is changed
                if events and pushes > pushes_mark:
                    due, pushes_mark = events.pop(0), pushes
                elif not events and pushes >= args.until_pushes and channel["drops"] and channel["lost"]:
                    reached = True
                    break
            elif kill_at and elapsed >= kill_at[0]:
                kill_at.pop(0)
                due = "kill"
            elif outage_at and elapsed >= outage_at[0]:
                outage_at.pop(0)
                due = "outage"
            if due == "kill":
                runner.kill()  # SIGKILL: no handler runs, whatever the runner was doing is cut off
                runner.wait()
                runner, runner_wall_s, pushes_mark = start_runner(), time.time(), 0
            if due == "outage":
                sim.set_faults({"rules": [{"endpoint": "*", "kind": "http_503", "probability": 1}]})
                time.sleep(OUTAGE_S)
                sim.set_faults(harsh)
                ended, back = time.time(), time.monotonic()
                while time.monotonic() - back < 60 and runner.poll() is None:  # a ceiling, not a budget
                    beat = heartbeat(state_dir)
                    if (
                        beat.get("last_result") == "ok"
                        and float(str(beat.get("last_tick_wall_s") or 0)) > ended
                    ):
                        ridden += 1
                        break
                    time.sleep(0.5)
            ledger.observe(sim.state())
            beats += 1
            px = Decimal(str(sim.state()["px"]))
            if args.dip_every and beats % args.dip_every == 0:  # rungs rest 0.3-0.9% below: some fill
                sim.set_price(str((px * DIP).quantize(Decimal("0.01"))))
            else:
                sim.set_price(str(((px + start_px) / 2).quantize(Decimal("0.01"))))
            if args.push and beats % 4 == 0:  # now and then a dropped socket, or a lost push, to heal
                sim.set_ws_faults({"drop": True} if beats % 8 == 0 else {"lose": 1})
            time.sleep(5)
        rss_end = rss_kib(runner.pid) if runner.poll() is None else 0
        push = heartbeat(state_dir).get("push") if args.push else None
        back = time.monotonic()  # a socket dropped by the last beat: give the runner time to log in again
        while args.push and time.monotonic() - back < RECONNECT_S and runner.poll() is None:
            if isinstance(push, dict) and push.get("connected"):
                break
            time.sleep(0.5)
            push = heartbeat(state_dir).get("push")
        channel = sim.set_ws_faults({}) if args.push else None  # the simulator's side: pushed, lost, drops
        sim.set_faults({"rules": []})
        settle_wall_s, back, settled = time.time(), time.monotonic(), False
        while time.monotonic() - back < SETTLE_S and runner.poll() is None:  # a ceiling, not a budget
            ledger.observe(sim.state())  # a clean tick after the faults, every venue fill journaled
            journaled = Journal.read(state_dir).fill_trade_ids()
            beat = heartbeat(state_dir)
            if (
                beat.get("last_result") == "ok"
                and float(str(beat.get("last_tick_wall_s") or 0)) > settle_wall_s
                and all(str(f["tradeId"]) in journaled for f in ledger.our_fills())
            ):
                settled = True
                break
            time.sleep(1)
        alive = runner.poll() is None
        runner.send_signal(signal.SIGTERM)
        runner.wait(timeout=120)
        rounds = re.search(r"stopped after (\d+) tick", out_path.read_text())
        # The venue trades on after the runner's last tick (the walk fills a resting rung, a market exit
        # the last tick sent fills): the fills judged are those of the venue once the runner has stopped,
        # and a final read-only tick (reconcile: it never POSTs) must journal every one of them. What
        # the venue trades after this snapshot no tick of ours has had a chance to see.
        ledger.observe(sim.state())
        at_stop = copy.deepcopy(ledger)
        final_tick = subprocess.run(
            [*okx_fsm_command(), "reconcile", str(machine), "--state-dir", str(state_dir)],
            cwd=REPO,
            env={**os.environ, **sim.env},
            capture_output=True,
            text=True,
            timeout=300,  # a ceiling for a starved machine, never a budget
        )
        ledger.observe(sim.state())  # orders, stops and the position as that tick saw them, or later
        found = Violations()
        judge(read_snapshot(state_dir), ledger, Journal.read(state_dir), found, fills_of=at_stop)
        found.stuck.clear()  # a realtime market may be mid-cycle when the soak ends: stuck is not judged
        hours = (int(sim.state()["clock_ms"]) - start_clock) / 3_600_000
        faults = sum(sim.stats()["faults"].values())
        counts = found.counts()
        venue_fills = sum(1 for f in ledger.fills.values() if str(f.get("clOrdId", "")).startswith(PREFIX))
        print(
            f"soak{' --push' if args.push else ''}: "
            f"simulated_hours={hours:.1f} rounds={rounds.group(1) if rounds else '?'} faults={faults} "
            f"outages={args.outages} ridden_out={ridden} kills={args.kills} "
            f"runner_exits={exits + (0 if alive else 1)} "
            f"exit_code={runner.returncode} settled={settled} final_tick_exit={final_tick.returncode} "
            f"rss_kib_start={rss_start} rss_kib_end={rss_end} "
            f"duplicates={counts['duplicates']} lost_fills={counts['lost_fills']} "
            f"invented_terminals={counts['invented_terminals']} "
            f"venue_fills={venue_fills} "
            f"cycles="
            f"{(read_snapshot(state_dir) or {}).get('cycles_completed')}"
            + (f" push={json.dumps(push, sort_keys=True)} channel={json.dumps(channel)}" if args.push else "")
            + (f" until_pushes={args.until_pushes} reached={reached}" if counted else "")
        )
        for line in found.details()[:20]:
            print("  " + line)
        if final_tick.returncode:
            print("  final tick: " + (final_tick.stderr.strip() or final_tick.stdout.strip())[-500:])
        ok = (
            alive
            and settled
            and final_tick.returncode == 0
            and exits == 0
            and ridden == args.outages
            and not any(counts.values())
            and runner.returncode == 0
            and (not args.push or (isinstance(push, dict) and bool(push.get("pushes"))))
            and (reached or not counted)
        )
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
