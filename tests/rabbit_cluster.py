"""Three RabbitMQ nodes of the test's own, clustered, on spare loopback ports.

The machine's RabbitMQ (5672) is shared with other runs: never stop it. A test that
kills a broker node starts a cluster of its own here, with Debian's `rabbitmq-server`
(as root the wrapper runs it as the `rabbitmq` user, so the nodes' directories are
theirs). Each node has its own name, AMQP and distribution ports, data and logs, and
ignores /etc/rabbitmq's node name (RABBITMQ_CONF_ENV_FILE points elsewhere).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from cli.embedded import free_port
from tests.faults import wait_until


def available() -> bool:
    return shutil.which("rabbitmq-server") is not None and shutil.which("rabbitmqctl") is not None


@dataclass
class Node:
    name: str  # the Erlang node name, e.g. bk123a@localhost
    port: int
    base: Path
    host: str = "127.0.0.1"  # where its AMQP listener is

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.base / "pid"),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "no-env.conf"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def url(self) -> str:
        return f"amqp://guest:guest@{self.host}:{self.port}//"

    def pid(self) -> int | None:
        try:
            return int((self.base / "pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def alive(self) -> bool:
        pid = self.pid()
        return pid is not None and _alive(pid)


class RabbitCluster:
    def __init__(self, size: int = 3, host: str = "127.0.0.1") -> None:
        """`host`: where the nodes take AMQP clients (bench/cluster.py: a bridge's
        address); they speak to each other on loopback."""
        self.root = Path(tempfile.mkdtemp(prefix="bookings-rabbit-"))
        tag = f"bk{os.getpid()}"
        self.nodes = [
            Node(f"{tag}{chr(ord('a') + i)}@localhost", free_port(), self.root / str(i), host)
            for i in range(size)
        ]

    def broker_url(self) -> str:
        """CELERY_BROKER_URL naming every node, `;` between them (API.md)."""
        return ";".join(node.url() for node in self.nodes)

    def start(self) -> None:
        for node in self.nodes:
            node.base.mkdir(parents=True)
            (node.base / "rabbitmq.conf").write_text(
                f"listeners.tcp.local = {node.host}:{node.port}\nloopback_users = none\n"
            )
            (node.base / "enabled_plugins").write_text("[].\n")
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "rabbitmq:rabbitmq", str(self.root)], check=True)
        for node in self.nodes:
            self.start_node(node, wait=False)
        for node in self.nodes:
            self._ctl(node, "wait", str(node.base / "pid"), "--timeout", "60")
        first = self.nodes[0]
        for node in self.nodes[1:]:
            self._ctl(node, "stop_app")
            self._ctl(node, "join_cluster", first.name)
            self._ctl(node, "start_app")

    def start_node(self, node: Node, *, wait: bool = True) -> None:
        """Start a node (again): a killed member rejoins its cluster by itself."""
        subprocess.run(
            ["rabbitmq-server", "-detached"],
            env=node.env(),
            check=True,
            capture_output=True,
            timeout=60,
        )
        if wait:
            self._ctl(node, "wait", str(node.base / "pid"), "--timeout", "60")

    def kill(self, node: Node) -> None:
        """As a host dies: SIGKILL, no goodbye to the cluster or the clients."""
        pid = node.pid()
        assert pid is not None, f"{node.name} has no pid file"
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not _alive(pid), 10, f"{node.name} to die", every=0.05)

    def queues(self) -> dict[str, tuple[str, str]]:
        """Each queue's (type, leader node), asked of a live node."""
        for node in self.nodes:
            if not node.alive():
                continue
            done = self._ctl(node, "list_queues", "-q", "name", "type", "leader", check=False)
            if done.returncode == 0:
                rows = (line.split() for line in done.stdout.splitlines())
                return {r[0]: (r[1], r[2]) for r in rows if len(r) == 3 and r[0] != "name"}
        return {}

    def stop(self) -> None:
        """Every process of the cluster's, found by the data directory in its environment
        (a node that was still starting has no pid file yet)."""
        for pid in _pids_with_env(f"RABBITMQ_MNESIA_BASE={self.root}"):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def _ctl(self, node: Node, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["rabbitmqctl", "-n", node.name, *args],
            env=node.env(),
            capture_output=True,
            text=True,
            timeout=90,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}:\n{done.stdout}\n{done.stderr}")
        return done


def _pids_with_env(prefix: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        # epmd is every node's on this machine (the shared RabbitMQ's too): never ours
        if comm != "epmd" and any(i.decode(errors="replace").startswith(prefix) for i in env):
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
