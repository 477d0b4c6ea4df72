"""A cluster on one machine: hosts as Linux network namespaces, five faults under load.

    make cluster                 (root: it makes namespaces; about 8 minutes)
    .venv/bin/python bench/cluster.py --short     (CI's pass: shorter outages, no scale)

Hosts are network namespaces on a bridge (bk-br0, 10.77.0.0/24), each with its own
address, routes and interfaces, so cutting one off is `ip link set … down` inside it:

  api1 10.77.0.11, api2 10.77.0.12   `bookings api`
  wk1  10.77.0.21                    `bookings worker --shards 0-3`, `beat`, `webhooks`
  wk2  10.77.0.22                    `bookings worker --shards 4-7`

On the machine itself (10.77.0.1, the bridge's address): a Postgres primary and its
synchronous standby (tests/pg_pair.py), three RabbitMQ nodes clustered
(tests/rabbit_cluster.py), a redis-server for the room locks, and the load: a client
booking 20 times a second through both APIs in turn, into 24 rooms (each request a slot
of its own) and one hot room (a few slots asked for again and again: first asker wins).
Every role names every database and broker node (multi-host DATABASE_URL, `;`-separated
CELERY_BROKER_URL), as a deployment would.

The faults, one at a time, each with fresh rooms and a load of its own:
  1. worker host wk2 killed (every process in it), back after 20 s (--short: 8 s);
  2. worker host wk1 cut from the network for 30 s (10 s), then joined again;
  3. one RabbitMQ node of three killed (the one every client names first);
  4. the Postgres primary killed, the standby promoted 2 s later;
  5. wk2's worker paused with SIGSTOP for 45 s (20 s), past its room locks' 15 s.

After each, in SQL: accepted (202s), lost, undecided 60 s after the load stopped,
FAILED, overlapping bookings, acceptance-order violations, duplicate decisions, and the
longest stretch with no write accepted and with no request decided (the goals), and
the longest any one request waited (a dead host's shards wait for it). The table is
printed and written to docs/reliability.md (between its cluster markers); a goal missed
makes the run exit 1. Then (not with --short) what scale costs: three loads as fast as
they go for 20 s with two worker hosts, one, and two again: decided/s and CPU per
booking of each role.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from procstat import CLK_TCK, all_procs, descendants, read_proc
from soak import HttpClient
from stack import ROOT, cli_argv, run_cli, service_env

from models.db import session_factory
from tests.faults import RedisServer, wait_until
from tests.load import Load, decided_times, longest_pause, problems, undecided_count
from tests.pg_pair import PostgresPair
from tests.rabbit_cluster import RabbitCluster

BRIDGE, NET, GATEWAY = "bk-br0", "10.77.0", "10.77.0.1"
API_PORT = 8000
RATE = 20.0
GOALS = {  # the longest stretch without a write accepted / a request decided (issue 20)
    "worker host killed": 5.0,
    "worker host cut off": 5.0,
    "broker node killed": 5.0,
    "database failover": 10.0,
    "worker paused": 5.0,
}
README_BEGIN, README_END = "<!-- cluster:begin -->", "<!-- cluster:end -->"


@dataclass
class Host:
    name: str
    address: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def ns(self) -> str:
        return f"bk-{self.name}"

    def create(self) -> None:
        outside, inside = f"{self.ns}-h", f"{self.ns}-n"
        _ip("netns", "add", self.ns)
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        _ip("link", "set", outside, "master", BRIDGE)
        _ip("link", "set", outside, "up")
        _ip("link", "set", inside, "netns", self.ns)
        self.exec_ip("addr", "add", f"{self.address}/24", "dev", inside)
        self.exec_ip("link", "set", inside, "up")
        self.exec_ip("link", "set", "lo", "up")

    def exec_ip(self, *args: str) -> None:
        _ip("netns", "exec", self.ns, "ip", *args)

    def start(self, args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        # A host of its own: its network (the namespace) and its name (a UTS namespace;
        # Celery names each worker and its control queue after the host).
        run = " ".join(shlex.quote(a) for a in cli_argv(*args))
        proc = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                self.ns,
                "unshare",
                "--uts",
                "--",
                "sh",
                "-c",
                f"hostname {self.name} && exec {run}",
            ],
            cwd=ROOT,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def pids(self) -> list[int]:
        out = subprocess.run(["ip", "netns", "pids", self.ns], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def signal_all(self, sig: int) -> None:
        for pid in self.pids():
            with suppress(ProcessLookupError):
                os.kill(pid, sig)

    def cut(self, off: bool) -> None:
        self.exec_ip("link", "set", f"{self.ns}-n", "down" if off else "up")
        if not off:  # the address and route go with the link: back as they were
            subprocess.run(
                [
                    "ip",
                    "netns",
                    "exec",
                    self.ns,
                    "ip",
                    "addr",
                    "add",
                    f"{self.address}/24",
                    "dev",
                    f"{self.ns}-n",
                ],
                capture_output=True,
            )

    def delete(self) -> None:
        self.signal_all(signal.SIGKILL)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


class RoundRobin:
    """Each request to the next API host."""

    def __init__(self, clients: list[HttpClient]) -> None:
        self.clients = clients
        self.n = 0

    def post(self, path: str, json: Any, headers: dict[str, str]) -> Any:
        self.n += 1
        return self.clients[self.n % len(self.clients)].post(path, json=json, headers=headers)


@dataclass
class Figures:
    fault: str
    accepted: int
    answers: dict[int, int]
    lost: int
    undecided: int
    failed: int
    overlaps: int
    order: int
    duplicates: int
    no_accept_s: float
    no_decision_s: float
    slowest_s: float  # the longest any request waited for its decision
    problems: list[str]

    @property
    def ok(self) -> bool:
        zero = (self.lost, self.undecided, self.failed, self.overlaps, self.order, self.duplicates)
        goal = GOALS[self.fault]
        return not any(zero) and self.no_accept_s <= goal and self.no_decision_s <= goal

    def row(self) -> str:
        answers = ", ".join(f"{n} x {code}" for code, n in sorted(self.answers.items()))
        return (
            f"| {self.fault} | {self.accepted} ({answers}) | {self.lost} | {self.undecided} | "
            f"{self.failed} | {self.overlaps} | {self.order} | {self.duplicates} | "
            f"{self.no_accept_s:.1f} s | {self.no_decision_s:.1f} s | "
            f"≤ {GOALS[self.fault]:.0f} s | {'yes' if self.ok else 'NO'} | {self.slowest_s:.1f} s |"
        )


HEADER = (
    "| fault | accepted (answers) | lost | undecided after 60 s | FAILED | overlaps | "
    "order violations | duplicates | longest without a write accepted | without a decision "
    "| goal | met | slowest decision |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


class Cluster:
    def __init__(self, short: bool) -> None:
        self.short = short
        self.scratch = Path(tempfile.mkdtemp(prefix="bookings-cluster-"))
        self.hosts = {
            "api1": Host("api1", f"{NET}.11"),
            "api2": Host("api2", f"{NET}.12"),
            "wk1": Host("wk1", f"{NET}.21"),
            "wk2": Host("wk2", f"{NET}.22"),
        }
        self.pair = PostgresPair(host=GATEWAY)
        self.rabbit = RabbitCluster(host=GATEWAY)
        self.redis = RedisServer(self.scratch, host=GATEWAY)
        self.env: dict[str, str] = {}
        self.token = ""
        self.sessions: Any = None
        self.measured = 0  # throughput runs so far (each its own rooms)

    # -- the machine -------------------------------------------------------------------

    def up(self) -> None:
        self.down_network()
        _ip("link", "add", BRIDGE, "type", "bridge")
        _ip("addr", "add", f"{GATEWAY}/24", "dev", BRIDGE)
        _ip("link", "set", BRIDGE, "up")
        for host in self.hosts.values():
            host.create()
        print("network: bridge and 4 hosts", flush=True)
        self.pair.start()
        self.pair.create_database("bookings")
        self.rabbit.start()
        self.redis.start()
        print("services: Postgres pair, three RabbitMQ nodes, Redis", flush=True)
        url = self.pair.url("bookings")
        self.env = {
            **service_env(url, self.redis.url(0), self.scratch),
            "CELERY_BROKER_URL": self.rabbit.broker_url(),
            "SWEEP_SECONDS": "1",
            "SWEEP_STALE_SECONDS": "2",
            "PUBLIC_URL": "https://rooms.example.com",
            "LOG_LEVEL": "INFO",  # a worker says " ready." at INFO (wait_ready)
        }
        (self.scratch / "metrics").mkdir(exist_ok=True)
        run_cli(self.env, "migrate")
        run_cli(self.env, "create-admin", "--email", "ops@example.com", "--password", "ops-pw-123")
        self.sessions = session_factory(url)
        for name in ("api1", "api2"):
            self.start_api(self.hosts[name])
        self.start_workers(self.hosts["wk1"], "0-3", with_beat=True)
        self.start_workers(self.hosts["wk2"], "4-7")
        self.wait_apis()
        status, doc = self.http(
            self.hosts["api1"],
            "/v1/auth/token",
            {"email": "ops@example.com", "password": "ops-pw-123"},
        )
        assert status == 200, doc
        self.token = doc["access_token"]
        print("roles: 2 API hosts, 2 worker hosts (beat and webhooks on wk1)", flush=True)

    def start_api(self, host: Host) -> None:
        env = {**self.env, "PROMETHEUS_MULTIPROC_DIR": str(self._metrics(host))}
        host.start(["api", "--port", str(API_PORT), "--workers", "1"], env, self._log(host, "api"))

    def start_workers(self, host: Host, shards: str, *, with_beat: bool = False) -> None:
        env = {**self.env, "PROMETHEUS_MULTIPROC_DIR": str(self._metrics(host))}
        args = ["worker", "--shards", shards, "--concurrency", "1"]
        host.start(args, env, self._log(host, "worker"))
        if with_beat:
            schedule = self.scratch / f"beat-{host.name}"
            schedule.mkdir(exist_ok=True)
            host.start(["beat", "--schedule-dir", str(schedule)], env, self._log(host, "beat"))
            host.start(["webhooks", "--concurrency", "2"], env, self._log(host, "webhooks"))
        self.wait_ready(host)

    def wait_ready(self, host: Host) -> None:
        log = self._log(host, "worker")
        before = log.read_text(errors="replace").count(" ready.") if log.exists() else 0
        wait_until(
            lambda: log.read_text(errors="replace").count(" ready.") > before,
            90,
            f"the worker on {host.name}",
        )

    def wait_apis(self) -> None:
        for name in ("api1", "api2"):
            host = self.hosts[name]
            wait_until(lambda h=host: self._healthy(h), 60, f"the API on {name}", every=0.5)

    def down(self) -> None:
        for host in self.hosts.values():
            host.delete()
        self.rabbit.stop()
        self.redis.stop(signal.SIGKILL)
        self.pair.stop()
        if self.sessions is not None:
            self.sessions.kw["bind"].dispose()
        self.down_network()

    @staticmethod
    def down_network() -> None:
        for name in ("api1", "api2", "wk1", "wk2"):
            subprocess.run(["ip", "netns", "del", f"bk-{name}"], capture_output=True)
        subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)

    # -- HTTP ----------------------------------------------------------------------------

    def http(self, host: Host, path: str, body: Any) -> tuple[int, Any]:
        client = HttpClient(API_PORT, host=host.address)
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        answer = client.post(path, json=body, headers=headers)
        return answer.status_code, answer.json

    def _healthy(self, host: Host) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://{host.address}:{API_PORT}/healthz", timeout=2):
                return True
        except OSError:
            return False

    def new_load(self, tag: str, rate: float = RATE) -> Load:
        def room(name: str) -> str:
            status, doc = self.http(self.hosts["api1"], "/v1/rooms", {"name": name, "capacity": 8})
            assert status == 201, doc
            return str(doc["id"])

        rooms = [room(f"{tag} {i}") for i in range(24)]
        clients = [HttpClient(API_PORT, host=self.hosts[n].address) for n in ("api1", "api2")]
        headers = {"Authorization": f"Bearer {self.token}"}
        return Load(RoundRobin(clients), headers, rooms, room(f"{tag} hot"), rate=rate)  # type: ignore[arg-type]

    # -- a fault ---------------------------------------------------------------------------

    def fault(
        self, name: str, inject: Callable[[], None], heal: Callable[[], None], out_s: float
    ) -> Figures:
        print(f"{name} ...", flush=True)
        load = self.new_load(name).start()
        wait_until(lambda: len(load.sent) >= 40, 60, f"40 writes accepted before: {name}")
        began, began_wall = time.monotonic(), time.time()
        inject()
        time.sleep(out_s)  # the outage lasts this long
        heal()
        window = out_s + 15.0  # and the load goes on after it
        time.sleep(max(0.0, began + window - time.monotonic()))
        load.stop()
        stopped = time.monotonic()
        while undecided_count(self.sessions, load.sent) and time.monotonic() - stopped < 60:
            time.sleep(0.5)
        undecided = undecided_count(self.sessions, load.sent)
        found = problems(self.sessions, load.sent)

        def count(kind: str) -> int:
            return sum(problem.count for problem in found if problem.kind == kind)

        decided = decided_times(self.sessions, load.sent)
        figures = Figures(
            fault=name,
            accepted=len(load.sent),
            answers=dict(load.statuses),
            lost=count("lost"),
            undecided=undecided,
            failed=self._failed(load),
            overlaps=count("overlap"),
            order=count("order"),
            duplicates=count("duplicate"),
            no_accept_s=longest_pause([s.at for s in load.sent], began, began + window),
            no_decision_s=longest_pause(decided, began_wall, began_wall + window),
            slowest_s=self._slowest(load),
            problems=[problem.text for problem in found],
        )
        print(f"  {figures.row()}", flush=True)
        return figures

    def _slowest(self, load: Load) -> float:
        """The longest any request of the load waited for its decision (seconds)."""
        return self._over(load, "max(extract(epoch FROM decided_at - accepted_at))")

    def _failed(self, load: Load) -> int:
        return int(self._over(load, "count(*) FILTER (WHERE status = 'FAILED')"))

    def _over(self, load: Load, aggregate: str) -> float:
        """One aggregate over the load's requests (`aggregate` is ours, never input)."""
        query = f"SELECT {aggregate} FROM booking_requests WHERE id = ANY(CAST(:ids AS uuid[]))"
        with self.sessions() as session:
            value = session.scalar(text(query), {"ids": [s.task_id for s in load.sent]})
        return float(value or 0)

    def _metrics(self, host: Host) -> Path:
        path = self.scratch / f"metrics-{host.name}"
        path.mkdir(exist_ok=True)
        return path

    def _log(self, host: Host, role: str) -> Path:
        return self.scratch / f"{host.name}-{role}.log"

    # -- what scale costs ------------------------------------------------------------------

    def roles(self) -> dict[str, set[int]]:
        procs = all_procs()
        pg_roots = []
        for node in ("primary", "standby"):
            pid_file = self.pair.root / node / "postmaster.pid"
            if pid_file.exists():
                pg_roots.append(int(pid_file.read_text().split()[0]))
        return {
            "api": {*self.hosts["api1"].pids(), *self.hosts["api2"].pids()},
            "worker": {*self.hosts["wk1"].pids(), *self.hosts["wk2"].pids()},
            "postgres": descendants(pg_roots, procs),
            "rabbitmq": descendants([p for n in self.rabbit.nodes if (p := n.pid())], procs),
            "redis": {self.redis.proc.pid} if self.redis.proc else set(),
        }

    def throughput(self, worker_hosts: int, seconds: float = 20.0) -> Scale:
        self.measured += 1
        """Three loads as fast as they go, through both APIs, for `seconds`; decided/s and
        CPU per booking of each role (from /proc, counted until the backlog is decided)."""
        print(f"throughput with {worker_hosts} worker host(s) ...", flush=True)
        tag = f"scale {self.measured}"
        loads = [self.new_load(f"{tag}.{i}", rate=1000.0) for i in range(3)]
        groups = self.roles()
        before = {name: _ticks(pids) for name, pids in groups.items()}
        for load in loads:
            load.start()
        time.sleep(seconds)
        for load in loads:
            load.stop()
        sent = [s for load in loads for s in load.sent]
        wait_until(lambda: undecided_count(self.sessions, sent) == 0, 120, "the backlog decided")
        groups = self.roles()
        after = {name: _ticks(pids) for name, pids in groups.items()}
        with self.sessions() as session:
            count, span = session.execute(
                text(
                    "SELECT count(*), extract(epoch FROM max(decided_at) - min(accepted_at)) "
                    "FROM booking_requests WHERE id = ANY(CAST(:ids AS uuid[]))"
                ),
                {"ids": [s.task_id for s in sent]},
            ).one()
        tick_ms = 1000 / CLK_TCK
        scale = Scale(
            worker_hosts,
            int(count),
            int(count) / float(span) if span else 0.0,
            {g: (after[g] - before[g]) * tick_ms / max(1, int(count)) for g in ROLES},
        )
        print(f"  {scale.row()}", flush=True)
        return scale

    def scale(self) -> list[Scale]:
        """Two worker hosts splitting the shards, one taking them all, two again (the
        host's speed drifts: alternated, a difference that holds is the hosts')."""
        wk1, wk2 = self.hosts["wk1"], self.hosts["wk2"]
        measured = [self.throughput(2)]
        for host in (wk1, wk2):
            host.signal_all(signal.SIGKILL)
        self.start_workers(wk1, "0-7", with_beat=True)
        measured.append(self.throughput(1))
        wk1.signal_all(signal.SIGKILL)
        self.start_workers(wk1, "0-3", with_beat=True)
        self.start_workers(wk2, "4-7")
        measured.append(self.throughput(2))
        return measured

    # -- the five faults -----------------------------------------------------------------

    def run(self) -> list[Figures]:
        short = self.short
        wk1, wk2 = self.hosts["wk1"], self.hosts["wk2"]
        results = [
            self.fault(
                "worker host killed",
                lambda: wk2.signal_all(signal.SIGKILL),
                lambda: self.start_workers(wk2, "4-7"),
                8.0 if short else 20.0,
            ),
            self.fault(
                "worker host cut off",
                lambda: wk1.cut(True),
                lambda: wk1.cut(False),
                10.0 if short else 30.0,
            ),
            self.fault(
                "broker node killed",
                lambda: self.rabbit.kill(self.rabbit.nodes[0]),
                lambda: None,
                5.0,
            ),
            self.fault(
                "database failover",
                self.pair.kill_primary,
                self.pair.promote_standby,
                2.0,
            ),
            self.fault(
                "worker paused",
                lambda: wk2.signal_all(signal.SIGSTOP),
                lambda: wk2.signal_all(signal.SIGCONT),
                20.0 if short else 45.0,
            ),
        ]
        return results


@dataclass
class Scale:
    worker_hosts: int
    decided: int
    decided_per_s: float
    cpu_ms: dict[str, float]  # per decided booking, per role

    def row(self) -> str:
        cpu = " | ".join(f"{self.cpu_ms.get(g, 0.0):.2f}" for g in ROLES)
        return f"| {self.worker_hosts} | {self.decided} | {self.decided_per_s:.0f} | {cpu} |"


ROLES = ("api", "worker", "postgres", "rabbitmq", "redis")
SCALE_HEADER = (
    "| worker hosts | decided | decided/s | CPU ms per booking: API | worker host | "
    "Postgres | RabbitMQ | Redis |\n|---|---|---|---|---|---|---|---|"
)


def _ticks(pids: set[int]) -> int:
    total = 0
    for pid in pids:
        proc = read_proc(pid)
        if proc is not None:
            total += proc.ticks
    return total


def write_table(table: str, short: bool) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    block = (
        f"{README_BEGIN}\nLast run: {stamp}, `bench/cluster.py{' --short' if short else ''}` "
        f"on this machine ({os.cpu_count()} cores).\n\n{table}\n{README_END}"
    )
    doc = ROOT / "docs" / "reliability.md"
    text_now = doc.read_text()
    if README_BEGIN in text_now:
        before, rest = text_now.split(README_BEGIN, 1)
        after = rest.split(README_END, 1)[1]
        doc.write_text(before + block + after)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="shorter outages (CI)")
    parser.add_argument("--no-write", action="store_true", help="leave docs/reliability.md")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench/cluster.py makes network namespaces: run it as root", file=sys.stderr)
        return 2
    cluster = Cluster(args.short)
    try:
        cluster.up()
        results = cluster.run()
        scales: list[Scale] = []
        if not args.short:
            try:
                scales = cluster.scale()
            except Exception as exc:  # the faults' table is still the run's result
                print(f"the scale measurement failed: {exc!r}", file=sys.stderr)
    finally:
        cluster.down()
    table = "\n".join([HEADER, *(f.row() for f in results)])
    if scales:
        table += "\n\nWhat scale costs here (2 cores for everything):\n\n" + "\n".join(
            [SCALE_HEADER, *(s.row() for s in scales)]
        )
    if not args.no_write:
        write_table(table, args.short)
    print("\n" + table)
    for figures in results:
        for problem in figures.problems[:5]:
            print(f"  {figures.fault}: {problem}")
    return 0 if all(f.ok for f in results) else 1


if __name__ == "__main__":
    sys.exit(main())
