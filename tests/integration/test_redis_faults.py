"""Redis frozen or gone: the API still accepts writes and stays responsive."""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from cli.embedded import EmbeddedRedis
from models.domain.states import RequestStatus
from models.settings import load_settings
from models.tables.requests import BookingRequest
from tests.helpers import Api, booking_body, count_rows, future


def test_a_frozen_redis_does_not_hold_up_writes_or_health(
    api: Api,
    worker: object,
    user: dict[str, str],
    room: str,
    sessions: sessionmaker[Session],
    private_redis: EmbeddedRedis,
) -> None:
    from api import create_app

    settings = dataclasses.replace(
        load_settings(),
        redis_url=private_redis.url(0),
        broker_url=private_redis.url(1),
        rate_limits=True,  # the limiter asks Redis too, and must give up fast
    )
    client = create_app(settings).test_client()
    os.kill(private_redis.proc.pid, signal.SIGSTOP)  # frozen: connections hang, not refused

    answers: list[TestResponse] = []

    def post(i: int) -> None:
        body = booking_body(room, future(hours=i))
        answers.append(client.post("/v1/bookings", json=body, headers=user))

    writers = [threading.Thread(target=post, args=(i,)) for i in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=15)  # a bound for a hang, far above the API's Redis timeouts

    assert not any(w.is_alive() for w in writers), "a write waited on the frozen Redis"
    assert [a.status_code for a in answers] == [202] * 4
    assert client.get("/healthz").status_code == 200
    # The rows are committed; the sweeper wakes their room once Redis is back.
    queued = count_rows(sessions, BookingRequest, BookingRequest.status == RequestStatus.QUEUED)
    assert queued == 4

    api.client.application.extensions["bookings"].waker.waker.rewake(uuid.UUID(room), None)
    for answer in answers:  # as the sweeper would, through the suite's own Redis and worker
        assert api.wait_task(user, answer.json["task_id"])["status"] == "SUCCEEDED"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_the_api_publishes_again_after_the_broker_restarts(tmp_path: Path, sig: int) -> None:
    """The API keeps one producer per process: after the broker restarts (its connection
    closed or just broken), the next wake-up is published again, at most one is lost
    (and a lost one is the sweeper's)."""
    from api.queue import TaskSender
    from tests.faults import RedisServer

    server = RedisServer(tmp_path)
    server.start()
    try:
        settings = dataclasses.replace(
            load_settings(), redis_url=server.url(), broker_url=server.url()
        )
        sender = TaskSender(settings)
        room = uuid.uuid4()
        sender.publish_decide(room, 1)
        assert sum(sender.queue_depths().values()) == 1
        server.restart(sig)  # the queued message is gone with the broker's memory

        outcomes = []
        for seq in (2, 3):
            try:
                sender.publish_decide(room, seq)
                outcomes.append("sent")
            except Exception:  # the waker logs it and leaves the room to the sweeper
                outcomes.append("failed")
        assert outcomes[-1] == "sent", outcomes
        assert sum(sender.queue_depths().values()) == outcomes.count("sent")
    finally:
        server.stop()


def test_wake_up_markers_survive_a_redis_restart(tmp_path: Path) -> None:
    """The waker sets markers on a connection of its own: after Redis restarts, the next
    wake-up publishes (whatever the marker said) and the one after reconnects."""
    from redis import Redis

    from models.locks import wake_marker_name
    from models.services.wakeups import RoomWaker
    from tests.faults import RedisServer

    server = RedisServer(tmp_path)
    server.start()
    try:
        published: list[tuple[uuid.UUID, int | None]] = []
        client = Redis.from_url(server.url(), socket_connect_timeout=0.5, socket_timeout=0.5)
        waker = RoomWaker(client, lambda room, seq, rooms: published.append((room, seq)))
        room = uuid.uuid4()
        assert waker.wake(room, 1) is True
        assert waker.wake(room, 2) is False  # the marker says a message is on its way
        server.restart(signal.SIGKILL)  # markers gone, the waker's connection broken

        assert waker.wake(room, 3) is True
        assert waker.wake(room, 4) is False
        assert published == [(room, 1), (room, 3)]
        assert client.get(wake_marker_name(room)) is not None
    finally:
        server.stop()
