"""Start and stop a `bookings` role (api, worker, beat) as its own process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOGS: list[Path] = []  # every role's log, scanned for secrets at the end of the suite


def start_role(
    args: Sequence[str], log: Path, env: Mapping[str, str] | None = None, *, append: bool = False
) -> subprocess.Popen[bytes]:
    """`python -m cli ARGS` from the project root, its output in `log`, in a new session so
    that a signal to its group reaches every child (celery's pool, granian's workers)."""
    LOGS.append(log)
    return subprocess.Popen(
        [sys.executable, "-m", "cli", *args],
        cwd=ROOT,
        env=dict(os.environ if env is None else env),
        stdout=log.open("ab" if append else "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_role(proc: subprocess.Popen[bytes] | None, timeout: float = 20) -> None:
    """SIGTERM the role's group and wait; SIGKILL it if it does not stop within `timeout`."""
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run_apart(
    argv: Sequence[str], cwd: Path, *, without: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """A short command in a process of its own, from `cwd`, with this project importable
    and the environment variables `without` names removed; its output captured."""
    env = {name: value for name, value in os.environ.items() if name not in without}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
