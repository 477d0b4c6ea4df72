"""The system under test, started from the outside: `python -m cli api|worker|migrate|...`.

This is the only place that knows how the roles are started; the bench sees them as
process ids (for /proc CPU accounting) and an HTTP port. If the API server changes
(another WSGI server), `bookings api` changes and nothing here does.

Environment knobs: BENCH_WORKERS (worker processes, default 1), BENCH_CONCURRENCY
(`--concurrency` of each, default 2), BENCH_API_WORKERS (`bookings api --workers`,
default 2).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]


def service_env(database_url: str, redis_url: str, scratch: Path) -> dict[str, str]:
    """What every role of the system is started with."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "PUBLIC_URL": "http://127.0.0.1",
        "BOOKINGS_ENV": "production",
        "RATE_LIMITS": "off",
        "LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(scratch / "metrics"),
    }


def cli_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli", *args]


def run_cli(env: dict[str, str], *args: str) -> str:
    """A one-shot command (`migrate`, `create-admin`); its output, or an error with it."""
    done = subprocess.run(cli_argv(*args), cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bookings {args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class Role:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    _out: IO[bytes]

    def tail(self, lines: int = 30) -> str:
        self._out.flush()
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Stack:
    env: dict[str, str]
    scratch: Path
    port: int = 0
    roles: list[Role] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _start(self, name: str, argv: list[str]) -> Role:
        log = self.scratch / f"{name}.log"
        out = log.open("wb")
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        role = Role(name, proc, log, out)
        self.roles.append(role)
        return role

    def start(self) -> None:
        (self.scratch / "metrics").mkdir(parents=True, exist_ok=True)
        workers = int(os.environ.get("BENCH_WORKERS", "1"))
        concurrency = os.environ.get("BENCH_CONCURRENCY", "2")
        api_workers = os.environ.get("BENCH_API_WORKERS", "2")
        for i in range(workers):
            self._start(f"worker{i}", cli_argv("worker", "--concurrency", concurrency))
        self.port = free_port()
        self._start("api", cli_argv("api", "--port", str(self.port), "--workers", api_workers))
        self.wait_ready()

    def pids(self, prefix: str) -> list[int]:
        return [r.proc.pid for r in self.roles if r.name.startswith(prefix)]

    def describe(self) -> dict[str, str]:
        return {r.name: " ".join(r.proc.args[2:]) for r in self.roles}  # type: ignore[index]

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            for role in self.roles:
                if role.proc.poll() is not None:
                    raise RuntimeError(f"{role.name} exited early:\n{role.tail()}")
            try:
                status, _ = self.http("GET", "/readyz")
                if status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the API did not become ready:\n" + self.roles[-1].tail())
            time.sleep(0.2)

    def http(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        url = self.base_url + path
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def stop(self) -> None:
        for role in self.roles:
            if role.proc.poll() is None:
                os.killpg(role.proc.pid, signal.SIGTERM)
        for role in self.roles:
            try:
                role.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(role.proc.pid, signal.SIGKILL)
                role.proc.wait()
            role._out.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
