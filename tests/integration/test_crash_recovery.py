"""Nothing accepted is lost: a worker killed mid-batch and restarted decides all, exactly once."""

from __future__ import annotations

from datetime import timedelta

from redis import Redis
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from models.domain.states import RequestStatus
from models.locks import room_lock_name
from models.services.sweeper import sweep_queued
from models.tables.audit import AuditEvent
from models.tables.bookings import Booking, Meeting
from models.tables.requests import BookingRequest
from tests.helpers import Api, booking_body, future, wait_until
from tests.integration.conftest import WorkerProcess

# PEXPIRE the key only while it still holds the given token (the dead holder's).
SHORTEN_TTL = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


def _worker_blocked_on_a_row(sessions: sessionmaker[Session]) -> bool:
    """A decider waits for the held row: its batch is decided and written, and stalls
    recording the outcomes (the held row is one of them)."""
    with sessions() as session:
        return bool(
            session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query ILIKE '%UPDATE booking_requests%'"
                )
            )
        )


def _status_counts(sessions: sessionmaker[Session], ids: list[str]) -> dict[str, int]:
    with sessions() as session:
        rows = session.execute(
            select(BookingRequest.status, func.count())
            .where(BookingRequest.id.in_(ids))
            .group_by(BookingRequest.status)
        ).all()
    return {status.value: count for status, count in rows}


def test_sigkill_mid_batch_then_restart_decides_every_request_exactly_once(
    api: Api,
    user: dict[str, str],
    make_room,
    worker: WorkerProcess,
    sessions: sessionmaker[Session],
    redis: Redis,
) -> None:
    rooms = [make_room() for _ in range(3)]
    waker = api.client.application.extensions["bookings"].waker.waker  # the RoomWaker
    worker.stop()  # requests pile up in the broker, as behind a slow or absent worker
    try:
        start = future()
        task_ids = [
            api.book(user, booking_body(room, start + timedelta(hours=i), 30))
            for i in range(50)
            for room in rooms
        ]
        assert len(task_ids) == 150
        # Hold one of room 0's requests so the worker's batch stalls half-done, its
        # transaction open with the earlier requests decided but not committed.
        hostage = task_ids[3 * 29]
        holder = sessions()
        try:
            holder.execute(
                select(BookingRequest.id).where(BookingRequest.id == hostage).with_for_update()
            )
            worker.start()
            stalled = lambda: _worker_blocked_on_a_row(sessions)  # noqa: E731
            wait_until(stalled, 30, "the worker to stall mid-batch")
            worker.kill()
        finally:
            holder.rollback()
            holder.close()
        room0 = task_ids[0::3]
        assert _status_counts(sessions, room0).get("QUEUED") == 50, "the killed batch committed"

        # The dead worker's room locks outlive it until their TTL (15 s) runs out.
        locks = [room_lock_name(room) for room in rooms]
        left = {key: token for key in locks if (token := redis.get(key)) is not None}
        assert room_lock_name(rooms[0]) in left, "the killed worker held room 0's lock"
        assert redis.pttl(room_lock_name(rooms[0])) > 0, "the dead worker's lock has no TTL"

        worker.start()
        # Let most of that time pass: the new worker still finds the rooms taken, retries,
        # and wins them a second later (a lock it has taken meanwhile is left alone).
        for key, token in left.items():
            redis.eval(SHORTEN_TTL, 1, key, token, 1000)

        def all_decided() -> bool:
            # What beat's sweeper does every few seconds: wake rooms whose requests wait.
            sweep_queued(sessions, waker, stale_after=timedelta(seconds=2))
            return not _status_counts(sessions, task_ids).get("QUEUED", 0)

        wait_until(all_decided, 120, "every request to be decided", interval=0.5)
    finally:
        if worker.proc is None or worker.proc.poll() is not None:
            worker.start()

    assert _status_counts(sessions, task_ids) == {"SUCCEEDED": 150}, worker.log_tail()
    with sessions() as session:
        per_request = session.execute(
            select(Booking.request_id, func.count())
            .where(Booking.request_id.in_(task_ids))
            .group_by(Booking.request_id)
        ).all()
        assert len(per_request) == 150
        assert {count for _, count in per_request} == {1}
        assert session.scalar(select(func.count()).select_from(Meeting)) == 150
        created = select(func.count()).where(AuditEvent.action == "booking.created")
        assert session.scalar(created) == 150
        assert (
            session.scalar(
                select(func.count()).where(BookingRequest.status != RequestStatus.SUCCEEDED)
            )
            == 0
        )
