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
