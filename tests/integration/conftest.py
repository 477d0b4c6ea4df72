"""Integration fixtures: real Postgres and Redis, a real worker process consuming through the
broker.

pytest imports this module only when it collects an integration test, so only then are the
servers named (and embedded ones started when TEST_DATABASE_URL / TEST_REDIS_URL are unset).
The environment is fixed here before anything imports the app: prometheus_client reads
PROMETHEUS_MULTIPROC_DIR when it is imported.
"""

from __future__ import annotations

import logging
import os

from tests import services

os.environ.pop("CELERY_BROKER_URL", None)
os.environ.update(services.integration_environment())

import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from cli.embedded import EmbeddedRedis
from models.locks import decided_through_name, room_lock_name, wake_marker_name
from models.queues import WEBHOOKS_QUEUE
from models.tables import Base
from tests.helpers import Api, undecided, wait_until
from tests.http_server import Server, serve
from tests.load import Load, load_through
from tests.log_secrets import Captured, file_lines, leaks
from tests.roles import LOGS, start_role, stop_role

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """`bookings worker`, as deployed: celery consuming every room queue from the broker."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = self.log_dir / f"worker-{self.starts}.log"
        self._log = log
        self.proc = start_role(["worker", "--concurrency", "2"], log)
        proc = self.proc

        def ready() -> bool:
            assert proc.poll() is None, f"the worker exited:\n{self.log_tail(3000)}"
            return b" ready." in log.read_bytes()

        wait_until(ready, 60, lambda: f"the worker to start:\n{self.log_tail(3000)}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool: no cleanup, no acks, as in a crash."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        stop_role(self.proc)

    def log_tail(self, size: int = 4000) -> str:
        return self._log.read_text()[-size:]


def worker_is_idle(app: Flask) -> bool:
    """No message waits in any queue, and the worker runs, holds or has scheduled none (a
    retry with a countdown is scheduled). Queues first: what leaves them is then held."""
    from worker.app import app as celery

    depths = app.extensions["bookings"].sender.queue_depths()
    # `webhooks` is the sender's (tests/integration/test_webhooks.py runs one), not this
    # worker's: beat's dispatch runs wait there, and expire, while no sender runs.
    if any(depth for queue, depth in depths.items() if queue != WEBHOOKS_QUEUE):
        return False
    inspect = celery.control.inspect(timeout=2, limit=1)
    replies = [inspect.active(), inspect.reserved(), inspect.scheduled()]
    return all(reply and not any(reply.values()) for reply in replies)


@pytest.fixture(scope="session", autouse=True)
def no_secrets_in_logs() -> Iterator[Captured]:
    """Every log line of the suite, this process's and its roles', free of passwords,
    hashes, tokens and the signing key (tests/log_secrets.py)."""
    captured = Captured()
    root = logging.getLogger()
    root.addHandler(captured)
    yield captured
    root.removeHandler(captured)
    found = leaks(captured.lines + file_lines(LOGS))
    assert not found, "secrets in the logs:\n  " + "\n  ".join(found[:20])


@pytest.fixture(scope="session")
def database() -> Iterator[str]:
    """The suite's own database, migrated to head; dropped at the end."""
    from cli.migrations import upgrade_head
    from models.db import dispose_engines

    url = services.create_database(os.environ["DATABASE_URL"])
    try:
        upgrade_head(url)
        yield url
    finally:
        dispose_engines()
        services.drop_database(url)


@pytest.fixture(scope="session")
def redis() -> Redis:
    client = Redis.from_url(os.environ["REDIS_URL"])
    client.flushdb()
    return client


@pytest.fixture(scope="session")
def worker(
    tmp_path_factory: pytest.TempPathFactory, redis: Redis, database: str
) -> Iterator[WorkerProcess]:
    proc = WorkerProcess(tmp_path_factory.mktemp("worker"))
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def app(database: str) -> Flask:
    from api import create_app

    return create_app()


@pytest.fixture(scope="session")
def sessions(app: Flask) -> sessionmaker[Session]:
    return app.extensions["bookings"].sessions  # type: ignore[no-any-return]


# How long a test's own decisions may still be running when it ends. A test that leaves
# work for the worker waits for it itself; this only covers a decision already under way.
IN_FLIGHT_GRACE = 2.0


@pytest.fixture(autouse=True)
def clean_tables(sessions: sessionmaker[Session], redis: Redis) -> Iterator[None]:
    """Committed rows are what the worker sees, so tests clean by deleting every row.

    A test must not leave requests undecided: after a short grace for a decision already
    under way, any still QUEUED or PROCESSING fail the test, named (the tables are cleaned
    either way, so the next test starts from nothing).
    """
    yield
    stranded: list[str] = []
    try:
        wait_until(lambda: not undecided(sessions), IN_FLIGHT_GRACE, "in-flight decisions")
    except AssertionError:
        stranded = undecided(sessions)
    for attempt in range(5):
        try:
            with sessions.begin() as session:
                # Children first. DELETE of a few rows takes a millisecond; TRUNCATE, 100.
                for table in reversed(Base.metadata.sorted_tables):
                    session.execute(table.delete())
            break
        except OperationalError:  # a deadlock with a straggling decision: try again
            if attempt == 4:
                raise
            time.sleep(0.5)
    # The rooms' Redis keys (whatever room) and the rate-limit windows go with the rows.
    for pattern in (
        room_lock_name("*"),
        wake_marker_name("*"),
        decided_through_name("*"),
        "LIMITS:LIMITER/ratelimit/*",
    ):
        for key in redis.scan_iter(pattern):
            redis.delete(key)
    if stranded:
        pytest.fail(
            f"the test left {len(stranded)} request(s) undecided {IN_FLIGHT_GRACE:g} s after "
            "it ended; wait for your own work (Api.wait_task, wait_decided) or decide it:\n  "
            + "\n  ".join(stranded[:20]),
            pytrace=False,
        )


@pytest.fixture
def wake(app: Flask) -> Callable[[uuid.UUID, int | None], object]:
    """Wakes a room's decider as the API does (housekeeping takes it: waiters it puts back
    in a queue are decided by the worker)."""
    return app.extensions["bookings"].waker.wake  # type: ignore[no-any-return]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


@pytest.fixture
def admin(api: Api, app: Flask, sessions: sessionmaker[Session]) -> dict[str, str]:
    from models.services import accounts

    cost = app.extensions["bookings"].settings.password_cost
    with sessions.begin() as session:
        accounts.create_admin(
            session, email="admin@example.com", password="admin-pass-1", cost=cost
        )
    return api.login("admin@example.com", "admin-pass-1")


@pytest.fixture
def user(api: Api) -> dict[str, str]:
    return api.register_and_login("alice@example.com", "Alice")


@pytest.fixture
def other_user(api: Api) -> dict[str, str]:
    return api.register_and_login("bob@example.com", "Bob")


@pytest.fixture
def make_room(api: Api, admin: dict[str, str]) -> Callable[..., str]:
    counter = iter(range(1_000_000))

    def make(**fields: object) -> str:
        response = api.create_room(admin, **{"name": f"Room {next(counter)}", **fields})
        assert response.status_code == 201, response.json
        return str(response.json["id"])

    return make


@pytest.fixture
def room(make_room: Callable[..., str]) -> str:
    return make_room()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A Redis of this test's own on a spare port, so freezing it touches nobody else."""
    server = EmbeddedRedis(tmp_path / "redis", persist=False)
    yield server
    if server.proc.poll() is None:
        os.kill(server.proc.pid, signal.SIGCONT)  # a test may have frozen it
    server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[Server]:
    """`bookings api` as deployed, serving the suite's database (tests/http_server.py)."""
    yield from serve(tmp_path_factory)


@pytest.fixture
def load(stack: Any) -> Iterator[Load]:
    """A steady load through the module's own stack (`stack`: its app and sessions), for
    the modules that break things under load (faults, failovers)."""
    running = load_through(stack.app, stack.sessions)
    yield running
    running.stop()
