"""`bookings up` (what `make run` starts), for real: every role started, the ready line said
once /readyz answers, with the demo logins just above it, and all of it stopped by Ctrl-C.

It runs in a folder of its own (its `.bookings/`), on a database of its own and a
redis-server of its own: its worker must not consume the suite's queues.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from cli.embedded import free_port
from tests import services
from tests.faults import RedisServer, wait_until
from tests.roles import ROOT

LEFT_OUT = (
    "BOOKINGS_ENV",
    "SECRET_KEY",
    "PUBLIC_URL",
    "CELERY_BROKER_URL",
    "PROMETHEUS_MULTIPROC_DIR",
)


def test_up_says_it_is_ready_once_every_role_answers_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path)
    redis.start()
    url = services.create_database(services.database_url("bookings_up"))
    port = free_port()
    env = {name: value for name, value in os.environ.items() if name not in LEFT_OUT}
    env.update(DATABASE_URL=url, REDIS_URL=redis.url(0), PYTHONPATH=str(ROOT))
    log = tmp_path / "up.log"
    up = subprocess.Popen(
        [sys.executable, "-m", "cli", "up", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        said = lambda: log.read_text(errors="replace")  # noqa: E731
        wait_until(lambda: "bookings is up at" in said(), 120, "the ready line", details=said)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as ready:
            assert ready.status == 200
        lines = said().splitlines()
        up_at = next(i for i, line in enumerate(lines) if "bookings is up at" in line)
        assert lines[up_at].startswith(f"bookings is up at http://127.0.0.1:{port} ")
        assert "demo login: admin@example.com / demo-password-1" in lines[up_at - 3 : up_at]
        assert (tmp_path / ".bookings" / "env").exists()

        up.send_signal(signal.SIGINT)  # Ctrl-C
        assert up.wait(timeout=60) == 0, said()[-3000:]
        assert said().count("bookings is up at") == 1
        assert said().rstrip().endswith("stopped")
        assert not (tmp_path / ".bookings" / "env").exists()
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()
        redis.stop(signal.SIGKILL)
        services.drop_database(url)
