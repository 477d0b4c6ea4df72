"""Celery settings shared by the API (which sends) and the workers (which decide).

One queue per room shard: a room always lands on `rooms.<crc32(room_id) % BOOKINGS_SHARDS>`,
so one worker pool sees a room's messages in order. Periodic jobs use `maintenance`.
"""

from __future__ import annotations

from typing import Any

from kombu import Queue

from models.rooms import room_queue
from models.settings import celery_env

_broker, SHARDS = celery_env()

DECIDE_ROOM = "bookings.decide_room"
MAINTENANCE_QUEUE = "maintenance"

broker_url = _broker
broker_connection_retry_on_startup = True
broker_connection_timeout = 3
# Above the longest a message may sit unacknowledged (a batch takes seconds; the sweeper
# re-sends anything left QUEUED long before this), so Redis never redelivers live work.
broker_transport_options = {"visibility_timeout": 900, "socket_connect_timeout": 3}
task_serializer = "json"
accept_content = ["json"]
result_serializer = "json"
task_ignore_result = True  # results live in Postgres (booking_requests), not here
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
worker_hijack_root_logger = False
task_publish_retry = True
task_publish_retry_policy = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
task_default_queue = MAINTENANCE_QUEUE
task_queues = [Queue(f"rooms.{i}") for i in range(SHARDS)] + [Queue(MAINTENANCE_QUEUE)]
timezone = "UTC"


def route_task(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any) -> Any:
    """Send each room's decisions to that room's shard queue."""
    if name == DECIDE_ROOM:
        room_id = args[0] if args else kwargs["room_id"]
        return {"queue": room_queue(room_id, SHARDS)}
    return {"queue": MAINTENANCE_QUEUE}


task_routes = (route_task,)

# Every job is idempotent and guarded by an advisory lock: a second beat is harmless.
HOUSEKEEPING_SECONDS = 30.0
beat_schedule = {
    "sweep-queued-requests": {"task": "bookings.sweep", "schedule": 5.0},
    "end-meetings": {"task": "bookings.end_meetings", "schedule": HOUSEKEEPING_SECONDS},
    "release-no-shows": {"task": "bookings.release_no_shows", "schedule": HOUSEKEEPING_SECONDS},
    "purge-audit": {"task": "bookings.purge_audit", "schedule": HOUSEKEEPING_SECONDS},
    "purge-requests": {"task": "bookings.purge_requests", "schedule": HOUSEKEEPING_SECONDS},
}
