"""Profile the API and the worker under one benchmark scenario, with py-spy.

    make profile SCENARIO=spread      (or: .venv/bin/python bench/profile.py hot --seconds 10)

Starts the same stack as `make bench` (bench/stack.py) on a scratch database, runs the
scenario's wrk load, and records every API and worker process with `py-spy record
--gil` (samples of a thread holding the GIL: Python's CPU) for the length of the load.
Writes a speedscope JSON and a folded-stack text file per process to bench/profiles/,
and prints each group's top functions by own samples, so it reads without a browser.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
from pathlib import Path

from run import SECONDS, Bench
from stack import ROOT

SCENARIOS = {
    "spread": {"rooms": 100, "threads": 2, "connections": 16, "rate": None},
    "hot": {"rooms": 1, "threads": 2, "connections": 16, "rate": None},
    "paced": {"rooms": 100, "threads": 1, "connections": 16, "rate": 100},
}


def descendants(pid: int) -> list[int]:
    """pid and every process below it (gunicorn workers, celery pool children)."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True)
    children: dict[int, list[int]] = collections.defaultdict(list)
    pairs = [line.split() for line in out.stdout.splitlines() if line.strip()]
    for child, parent in pairs:
        children[int(parent)].append(int(child))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children[p])
    return found


def record(group: str, pids: list[int], seconds: float, out: Path) -> list[subprocess.Popen[bytes]]:
    procs = []
    for pid in pids:
        for fmt in ("raw", "speedscope"):
            path = out / f"{group}-{pid}.{'txt' if fmt == 'raw' else 'json'}"
            argv = ["py-spy", "record", "--pid", str(pid), "--duration", str(int(seconds))]
            argv += ["--rate", "100", "--gil", "--format", fmt, "--output", str(path)]
            quiet = subprocess.DEVNULL
            procs.append(subprocess.Popen(argv, stdout=quiet, stderr=quiet))
    return procs


def top(out: Path, group: str, limit: int = 25) -> None:
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for path in out.glob(f"{group}-*.txt"):
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames = stack.split(";")
            own[frames[-1]] += int(count)
            total += int(count)
    print(f"\n== {group}: {total} samples holding the GIL; top functions by own samples")
    for frame, count in own.most_common(limit):
        print(f"{100 * count / max(total, 1):5.1f}%  {frame[:150]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="spread", choices=sorted(SCENARIOS))
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "profiles")
    args = parser.parse_args()
    if shutil.which("py-spy") is None:
        print("py-spy is not installed (.venv/bin/pip install py-spy)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for old in [*args.out.glob("api-*"), *args.out.glob("worker-*")]:
        old.unlink()  # a profile is one run's
    spec = SCENARIOS[args.scenario]
    bench = Bench()
    try:
        bench.create_database()
        bench.start_system()
        bench.warm_up()
        rooms = bench.rooms(args.scenario, int(spec["rooms"]))  # type: ignore[call-overload]
        recorders = []
        for group in ("api", "worker"):
            pids = [p for root in bench.stack.pids(group) for p in descendants(root)]
            recorders += record(group, pids, args.seconds, args.out)
        scenario = bench.http_scenario(
            args.scenario,
            rooms,
            threads=int(spec["threads"]),  # type: ignore[call-overload]
            connections=int(spec["connections"]),  # type: ignore[call-overload]
            seconds=args.seconds,
            max_requests=20000,
            rate=spec["rate"],  # type: ignore[arg-type]
        )
        for proc in recorders:
            proc.wait()
    finally:
        bench.close()
    print(
        f"{args.scenario}: {scenario.bookings} decided, {scenario.decided_per_s:.1f}/s, "
        f"CPU ms per booking {scenario.cpu_per_booking()}"
    )
    for group in ("api", "worker"):
        top(args.out, group)
    print(f"\nspeedscope files in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
