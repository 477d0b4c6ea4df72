"""Faults of the backing services: Redis restarts under load, shards nobody consumes.

Every test here runs its own redis-server (tests/faults.py) for the worker it starts, both
as broker and as lock store, and an app pointed at it: the suite's shared Redis is never
restarted. The database is the suite's.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from api.queue import TaskSender
from models.domain.states import RequestStatus
from models.heartbeats import HEARTBEAT_TTL_SECONDS, heartbeat_key
from models.settings import Settings, load_settings
from models.tables.requests import BookingRequest
from tests.faults import RedisServer, Worker, wait_until
from tests.helpers import booking_body, future

SHARD_QUEUES = [f"rooms.{i}" for i in range(int(os.environ["BOOKINGS_SHARDS"]))]
RESTARTS = 6


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fault_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("faults")


@pytest.fixture
def redis_servers(fault_dir: Path) -> Iterator[Callable[[], RedisServer]]:
    """Start private redis-servers on demand; stop them after the test."""
    started: list[RedisServer] = []

    def start() -> RedisServer:
        server = RedisServer(fault_dir)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop(signal.SIGKILL)


@pytest.fixture(scope="module")
def fault_redis(fault_dir: Path) -> Iterator[RedisServer]:
    server = RedisServer(fault_dir)
    server.start()
    yield server
    server.stop(signal.SIGKILL)


def settings_for(redis_url: str, broker_url: str) -> Settings:
    return dataclasses.replace(load_settings(), redis_url=redis_url, broker_url=broker_url)


def worker_env(redis_url: str, broker_url: str) -> dict[str, str]:
    return {**os.environ, "REDIS_URL": redis_url, "CELERY_BROKER_URL": broker_url}


def start_worker(log: Path, redis_url: str, broker_url: str, *args: str) -> Worker:
    worker = Worker(log, worker_env(redis_url, broker_url), *args)
    worker.start()
    return worker


@pytest.fixture(scope="module")
def fault_worker(fault_dir: Path, fault_redis: RedisServer, database: str) -> Iterator[Worker]:
    """`bookings worker` on every shard, with the private Redis as broker and lock store."""
    url = fault_redis.url()
    worker = start_worker(fault_dir / "fault-worker.log", url, url)
    yield worker
    worker.stop()


@pytest.fixture(scope="module")
def fault_app(fault_redis: RedisServer, database: str) -> Flask:
    """An API whose Redis and broker are the private Redis."""
    from api import create_app

    return create_app(settings_for(fault_redis.url(), fault_redis.url()))


# --- helpers --------------------------------------------------------------------------------


def status_counts(sessions: sessionmaker[Session], ids: list[str]) -> dict[str, int]:
    with sessions() as session:
        rows = session.execute(
            select(BookingRequest.status, func.count())
            .where(BookingRequest.id.in_([uuid.UUID(i) for i in ids]))
            .group_by(BookingRequest.status)
        ).all()
    return {status.value: count for status, count in rows}


def resend_queued(sessions: sessionmaker[Session], sender: TaskSender, ids: list[str]) -> None:
    """The sweeper's job (beat is not running here): one message per room with a request
    still QUEUED, for the messages a Redis restart threw away."""
    with sessions() as session:
        rows = session.execute(
            select(BookingRequest.room_id, BookingRequest.id)
            .where(
                BookingRequest.id.in_([uuid.UUID(i) for i in ids]),
                BookingRequest.status == RequestStatus.QUEUED,
            )
            .order_by(BookingRequest.seq)
        ).all()
    for room_id in {room_id for room_id, _ in rows if room_id}:
        sender.publish_decide(room_id, None)  # no seq: always drains


def deciders_blocked(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        return bool(
            session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            )
        )


@contextmanager
def decisions_stalled(sessions: sessionmaker[Session]) -> Iterator[None]:
    """Hold writes to `bookings`: deciders block at their write, their messages unacked.
    (A slow database while the broker restarts: tasks are in flight when it goes.)"""
    holder = sessions()
    holder.execute(text("LOCK TABLE bookings IN SHARE MODE"))
    try:
        yield
    finally:
        holder.rollback()
        holder.close()


class Trickle:
    """A steady trickle of single bookings through an API, over a few rooms, in a thread."""

    def __init__(self, app: Flask, headers: dict[str, str], rooms: list[str]) -> None:
        self.client = app.test_client()
        self.headers = headers
        self.rooms = rooms
        self.accepted: list[str] = []
        self.errors = 0
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._start = future()
        self._sent = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                if self._running.is_set():
                    self._book()
            self._stop.wait(0.05)

    def book(self) -> str | None:
        """One booking in the next free slot of the next room; its task id if accepted."""
        with self._lock:
            return self._book()

    def _book(self) -> str | None:
        i, self._sent = self._sent, self._sent + 1
        room = self.rooms[i % len(self.rooms)]
        start = self._start + timedelta(hours=i // len(self.rooms))
        try:
            response = self.client.post(
                "/v1/bookings", json=booking_body(room, start, 30), headers=self.headers
            )
        except Exception:
            self.errors += 1
            return None
        if response.status_code != 202:
            self.errors += 1
            return None
        task_id = str(response.json["task_id"])
        self.accepted.append(task_id)
        return task_id

    @contextmanager
    def paused(self) -> Iterator[None]:
        self._running.clear()
        with self._lock:
            pass  # a booking under way has finished; no other starts
        try:
            yield
        finally:
            self._running.set()

    def __enter__(self) -> Trickle:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(30)


def all_decided(sessions: sessionmaker[Session], sender: TaskSender, ids: list[str]) -> bool:
    """True once every request is SUCCEEDED; re-sends the rooms of those still QUEUED."""
    if status_counts(sessions, ids) == {"SUCCEEDED": len(ids)}:
        return True
    resend_queued(sessions, sender, ids)
    return False


def gauge(client: FlaskClient) -> dict[str, float]:
    """bookings_shard_consumer_up by queue, from /metrics."""
    body = client.get("/metrics").get_data(as_text=True)
    found = re.findall(r'^bookings_shard_consumer_up\{queue="([^"]+)"\} (\S+)$', body, re.M)
    return {queue: float(value) for queue, value in found}


# --- a worker through Redis restarts --------------------------------------------------------


def test_worker_keeps_consuming_through_redis_restarts_under_load(
    fault_redis: RedisServer,
    fault_worker: Worker,
    fault_app: Flask,
    sessions: sessionmaker[Session],
    user: dict[str, str],
    make_room: Callable[..., str],
) -> None:
    """Redis (broker and locks) restarted 6 times, killed or stopped, under a trickle of
    bookings: the worker stays up, after each restart decides a new request by itself (no
    re-send), and every accepted request ends SUCCEEDED.

    Every other restart happens with one decision in flight (its write held up by the
    database) while the consumer waits for more: an unacknowledged message and a BRPOP
    under way, the state in which Celery 5.7 died with AttributeError('NoneType' object
    has no attribute 'hostname') (worker/broker_guard.py)."""
    rooms = [make_room() for _ in range(4)]
    sender: TaskSender = fault_app.extensions["bookings"].sender

    def decided_by_a_live_worker(task_id: str) -> bool:
        assert "Unrecoverable error" not in fault_worker.log_text(), fault_worker.log_tail()
        assert fault_worker.alive(), fault_worker.log_tail()
        return status_counts(sessions, [task_id]) == {"SUCCEEDED": 1}

    with Trickle(fault_app, user, rooms) as trickle:
        wait_until(lambda: len(trickle.accepted) >= 10, 30, "the first accepted requests")
        for n in range(RESTARTS):
            sig = signal.SIGKILL if (n // 2) % 2 == 0 else signal.SIGTERM
            if n % 2 == 0:
                with trickle.paused():
                    wait_until(
                        lambda: all_decided(sessions, sender, list(trickle.accepted)),
                        30,
                        "the worker to finish what was sent so far",
                    )
                    with decisions_stalled(sessions):
                        assert trickle.book() is not None
                        wait_until(lambda: deciders_blocked(sessions), 15, "a decision in flight")
                        fault_redis.restart(sig, down_for=1.0)
            else:
                fault_redis.restart(sig, down_for=1.0)
            # Consuming again by itself: a new request is decided, nobody re-sending it.
            probe = trickle.book()
            assert probe is not None
            wait_until(
                lambda probe=probe: decided_by_a_live_worker(probe),
                30,
                f"a request sent after restart {n + 1} to be decided",
                details=fault_worker.log_tail,
            )

    log = fault_worker.log_text()
    assert fault_worker.alive()
    assert "Unrecoverable error" not in log, fault_worker.log_tail()
    assert "exited unexpectedly" not in log, fault_worker.log_tail()
    accepted = trickle.accepted
    assert len(accepted) >= 50, (len(accepted), trickle.errors)
    # Messages queued when Redis went away are gone with it; re-sent, all get decided.
    wait_until(
        lambda: all_decided(sessions, sender, accepted),
        60,
        "every accepted request to be decided",
        every=1.0,
        details=fault_worker.log_tail,
    )


def test_supervisor_starts_a_dead_celery_again(
    fault_worker: Worker,
    fault_app: Flask,
    sessions: sessionmaker[Session],
    user: dict[str, str],
    room: str,
) -> None:
    """Whatever kills celery's main process, `bookings worker` starts it again."""
    if not Path("/proc").is_dir():
        pytest.skip("finds celery's pid in /proc")
    starts = fault_worker.log_text().count(" ready.")
    dead = fault_worker.celery_pid()
    assert dead is not None
    os.kill(dead, signal.SIGKILL)
    fault_worker.wait_ready(starts + 1)

    assert fault_worker.alive()
    assert fault_worker.celery_pid() not in (None, dead)
    assert "exited unexpectedly (signal 9)" in fault_worker.log_text()
    task_id = Trickle(fault_app, user, [room]).book()
    assert task_id is not None
    wait_until(
        lambda: status_counts(sessions, [task_id]) == {"SUCCEEDED": 1},
        30,
        "the restarted worker to decide a request",
        details=fault_worker.log_tail,
    )


# --- readiness and the shard-consumer gauge -------------------------------------------------


def test_readyz_is_ready_when_a_worker_consumes_every_shard(
    fault_worker: Worker, fault_app: Flask
) -> None:
    client = fault_app.test_client()

    response = wait_until(
        lambda: (r := client.get("/readyz")).status_code == 200 and r, 30, "/readyz 200"
    )

    assert response.json["checks"]["consumers"] == "ok"
    assert gauge(client) == dict.fromkeys(SHARD_QUEUES, 1.0)


def test_readyz_names_a_shard_whose_heartbeat_expired(
    redis_servers: Callable[[], RedisServer], database: str
) -> None:
    """Heartbeats written by hand (no worker): an expired one is a 503 naming its shard."""
    from api import create_app

    server = redis_servers()
    client = create_app(settings_for(server.url(1), server.url(0))).test_client()
    redis = Redis.from_url(server.url(1))
    for queue in SHARD_QUEUES:
        redis.set(heartbeat_key(queue), "test", ex=HEARTBEAT_TTL_SECONDS)

    assert client.get("/readyz").status_code == 200

    gone = SHARD_QUEUES[-1]
    redis.set(heartbeat_key(gone), "test", px=50)  # refreshed no more: about to expire
    response = wait_until(
        lambda: (r := client.get("/readyz")).status_code == 503 and r, 5, "/readyz 503"
    )
    error = response.json["error"]
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert error["message"] == f"not ready: no worker consumes {gone}"
    assert error["details"]["unconsumed_queues"] == [gone]
    assert error["details"]["consumers"] == f"none for {gone}"
    for check in ("database", "redis", "broker"):
        assert error["details"][check] == "ok"
    assert gauge(client) == {**dict.fromkeys(SHARD_QUEUES, 1.0), gone: 0.0}


def test_readyz_names_the_shards_a_worker_leaves_out_and_forgets_a_stopped_worker(
    redis_servers: Callable[[], RedisServer], fault_dir: Path, database: str
) -> None:
    """A worker on shards 0-1 of 4: /readyz names rooms.2 and rooms.3. Once it stops, its
    heartbeats go at once (not a TTL later): every shard is named."""
    from api import create_app

    server = redis_servers()
    worker = start_worker(
        fault_dir / "partial-worker.log", server.url(), server.url(), "--shards", "0-1"
    )
    client = create_app(settings_for(server.url(), server.url())).test_client()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503, response.json
        assert response.json["error"]["details"]["unconsumed_queues"] == SHARD_QUEUES[2:]
        assert response.json["error"]["message"] == "not ready: no worker consumes rooms.2, rooms.3"
        assert gauge(client) == {
            **dict.fromkeys(SHARD_QUEUES[:2], 1.0),
            **dict.fromkeys(SHARD_QUEUES[2:], 0.0),
        }
    finally:
        worker.stop()

    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["error"]["details"]["unconsumed_queues"] == SHARD_QUEUES


def test_heartbeats_stop_while_the_broker_is_away(
    redis_servers: Callable[[], RedisServer], fault_dir: Path, database: str
) -> None:
    """Broker and lock store apart: with the broker down the worker consumes nothing, and
    /readyz says so although Redis answers; back when the worker reconnects."""
    from api import create_app

    locks, broker = redis_servers(), redis_servers()
    worker = start_worker(fault_dir / "split-worker.log", locks.url(), broker.url())
    client = create_app(settings_for(locks.url(), broker.url())).test_client()
    try:
        assert client.get("/readyz").status_code == 200

        broker.stop(signal.SIGKILL)

        def unconsumed() -> list[str] | None:
            body = client.get("/readyz").json
            return body.get("error", {}).get("details", {}).get("unconsumed_queues")

        assert wait_until(unconsumed, 10, "/readyz to see no consumer") == SHARD_QUEUES
        details = client.get("/readyz").json["error"]["details"]
        assert details["redis"] == "ok"
        assert str(details["broker"]).startswith("down")

        broker.start()
        wait_until(lambda: client.get("/readyz").status_code == 200, 30, "/readyz 200 again")
        assert worker.alive()
    finally:
        worker.stop()
