"""CPU time per process group, read from /proc while a scenario runs.

A background thread samples every process every `interval` seconds and adds each
process's utime+stime delta to the group it belongs to at that moment, so processes
that come and go (Postgres backends, pool children) are counted up to their last
sample. `window()` takes a fresh sample at its start and end, so a scenario's CPU is
`end - start` of the cumulative group counters.

Groups:
- api, worker: the process started for the role and all its descendants (walked by
  ppid at every sample: gunicorn master + workers, celery main + pool children);
- postgres: backends whose process title names the bench database (minus the bench's
  own measuring connections) plus the cluster's shared processes (postmaster,
  checkpointer, background writer, walwriter, ...). The shared ones also work for
  other databases on this server, so they are reported separately as well;
- redis: the redis-server pid (Redis INFO process_id);
- the load generator (wrk) is measured exactly from its rusage when it is reaped, not here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

CLK_TCK = os.sysconf("SC_CLK_TCK")
PG_SHARED = (
    "checkpointer",
    "background writer",
    "walwriter",
    "autovacuum launcher",
    "logical replication launcher",
    "archiver",
    "stats collector",
    "walsender",
    "walreceiver",
)
GROUPS = ("api", "worker", "postgres_backends", "postgres_shared", "redis")


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    comm: str
    ticks: int  # utime + stime, clock ticks
    start: int  # starttime, clock ticks since boot


def read_proc(pid: int) -> Proc | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode(errors="replace")
    except OSError:
        return None
    open_paren, close_paren = raw.find("("), raw.rfind(")")
    comm = raw[open_paren + 1 : close_paren]
    rest = raw[close_paren + 2 :].split()
    # rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15, starttime 22.
    return Proc(pid, int(rest[1]), comm, int(rest[11]) + int(rest[12]), int(rest[19]))


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def uptime_ticks() -> int:
    with open("/proc/uptime") as f:
        return int(float(f.read().split()[0]) * CLK_TCK)


def all_procs() -> dict[int, Proc]:
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (proc := read_proc(int(name))) is not None:
            procs[proc.pid] = proc
    return procs


def descendants(roots: Iterable[int], procs: dict[int, Proc]) -> set[int]:
    children: dict[int, list[int]] = {}
    for proc in procs.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    found: set[int] = set()
    todo = [pid for pid in roots if pid in procs]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, ()))
    return found


@dataclass
class CpuSampler:
    """Cumulative CPU ticks per group; `roots` maps a group to the pids it grows from."""

    database: str
    roots: dict[str, list[int]] = field(default_factory=dict)
    redis_pid: int | None = None
    exclude: Callable[[], set[int]] = set  # the bench's own Postgres backends
    interval: float = 0.5
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GROUPS, 0))
    _last: dict[tuple[int, int], int] = field(default_factory=dict)
    _pg_kind: dict[tuple[int, int], str] = field(default_factory=dict)
    _last_uptime: int | None = None
    # Each API and worker process's own ticks since it started ("worker:1234"), so a
    # slow second can name the process that worked (or did not) then.
    processes: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self.sample()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def _postgres_kind(self, proc: Proc) -> str:
        """'backends' (our database), 'shared' (the cluster's own processes) or 'other'."""
        key = (proc.pid, proc.start)
        if key in self._pg_kind:
            return self._pg_kind[key]
        title = cmdline(proc.pid)
        if not title.startswith("postgres:"):
            kind = "shared"  # the postmaster: ".../bin/postgres -D ..."
        elif self.database in title.split():
            kind = "backends"
        elif any(name in title for name in PG_SHARED):
            kind = "shared"
        else:
            kind = "other"
        if not title.endswith("authentication") and title:
            self._pg_kind[key] = kind  # a starting backend may not name its database yet
        return kind

    def _classify(self, procs: dict[int, Proc]) -> dict[int, str]:
        groups: dict[int, str] = {}
        for group, roots in self.roots.items():
            for pid in descendants(roots, procs):
                groups[pid] = group
        excluded = self.exclude()
        for proc in procs.values():
            if proc.comm == "postgres" and proc.pid not in excluded:
                kind = self._postgres_kind(proc)
                if kind != "other":
                    groups[proc.pid] = f"postgres_{kind}"
        if self.redis_pid in procs:
            groups[self.redis_pid] = "redis"
        return groups

    def sample(self) -> None:
        with self._lock:
            now = uptime_ticks()
            procs = all_procs()
            groups = self._classify(procs)
            seen: dict[tuple[int, int], int] = {}
            for pid, group in groups.items():
                proc = procs[pid]
                key = (pid, proc.start)
                seen[key] = proc.ticks
                if key in self._last:
                    delta = proc.ticks - self._last[key]
                elif self._last_uptime is not None and proc.start >= self._last_uptime:
                    delta = proc.ticks  # born since the last sample: all its CPU is new
                else:
                    delta = 0  # first sight of an old process: this is its baseline
                self.totals[group] += delta
                if group in ("api", "worker"):
                    self.processes[f"{group}:{pid}"] = proc.ticks
            self._last = seen
            self._last_uptime = now

    def snapshot(self) -> dict[str, int]:
        self.sample()
        with self._lock:
            return dict(self.totals)

    def peek(self) -> dict[str, int]:
        """The totals, and each API and worker process's ticks, as of the background
        thread's last sample (no sample taken)."""
        with self._lock:
            return {**self.totals, **self.processes}


def ms_between(before: dict[str, int], after: dict[str, int]) -> dict[str, float]:
    """CPU milliseconds per group between two snapshots; `postgres` is backends + shared."""
    ms = {g: (after[g] - before[g]) * 1000 / CLK_TCK for g in GROUPS}
    ms["postgres"] = ms["postgres_backends"] + ms["postgres_shared"]
    return ms
