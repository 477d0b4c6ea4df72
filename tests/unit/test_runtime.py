"""models/runtime.py is the one place a process's sessions and room waker are built: the
API, the worker and the CLI take theirs from it (issue 19's one runtime factory)."""

from __future__ import annotations

import ast
from pathlib import Path

from models.runtime import build
from models.services.wakeups import RoomWaker
from models.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
BUILT_HERE_ONLY = {"session_factory", "RoomWaker"}


def test_sessions_and_wakers_are_built_only_by_the_runtime_factory() -> None:
    found = []
    for folder in ("api", "worker", "cli", "models"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.relative_to(ROOT).as_posix() in {"models/runtime.py", "models/db.py"}:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                    if name in BUILT_HERE_ONLY:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}()")
    assert found == []


def test_the_factory_builds_without_connecting(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    sent = []
    core = build(load_settings(require_secret=False), lambda *args: sent.append(args))
    assert isinstance(core.waker, RoomWaker)
    assert core.waker.redis is core.redis
    assert core.redis.connection_pool.connection_kwargs["socket_timeout"] == 10.0
    assert core.sessions.kw["bind"].url.port == 1
    assert sent == []


def test_startup_objects_are_frozen_out_of_full_collections() -> None:
    import gc

    from models.runtime import freeze_startup_objects

    alive = [object()]
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > 0
        assert not any(found is alive for found in gc.get_objects())
    finally:
        gc.unfreeze()


def test_each_role_freezes_what_it_built(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The API's WSGI module once its app is built; a worker before its pool forks and in
    each pool process (worker/app.py's signal handlers)."""
    import os
    import subprocess
    import sys

    script = """
import gc
import api.wsgi
print(gc.get_freeze_count())
import worker.app
from celery.signals import worker_init, worker_process_init
for signal in (worker_init, worker_process_init):  # the consumer's, each pool process's
    names = [getattr(r(), "__name__", "") for _, r in signal.receivers]
    assert "_freeze_startup" in names, names
    gc.unfreeze()
    worker.app._freeze_startup()
    print(gc.get_freeze_count())
"""
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "SECRET_KEY": "a-secret-key-long-enough-for-production-0123456789",
        "PUBLIC_URL": "https://rooms.example.com",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    counts = [int(line) for line in done.stdout.split()]
    assert len(counts) == 3 and min(counts) > 50_000, counts
