"""Celery settings shared by the API (which sends) and the workers (which decide).

This module reads no environment: `STATIC` holds what is the same everywhere, and
`deployment(settings)` gives what depends on the deployment (broker, shard count,
beat intervals), which each app applies when it is first used.
Task names and queues live in `models/queues.py`.
"""

from __future__ import annotations

import socket
from typing import Any

from kombu import Exchange, Queue

from models.periodic import declared
from models.queues import (
    DEAD_LETTERS,
    DECIDE_ROOM,
    DELIVER_WEBHOOK,
    DELIVERY_LIMIT,
    DISPATCH_WEBHOOKS,
    MAINTENANCE_QUEUE,
    SEND_MAIL,
    WEBHOOKS_QUEUE,
    is_amqp,
    room_queue,
    shard_queues,
)
from models.settings import Settings

# What is the same everywhere: both apps take these, and only these, as their Celery
# settings (`config_from_object(STATIC)`). Celery would take every public name of an
# object it is given, so this module's imports and helpers are kept out of it: `celery
# -A worker report` lists Celery settings, not `Any` or `RoomRouter`.
STATIC: dict[str, Any] = {
    "broker_connection_retry_on_startup": True,
    "broker_connection_timeout": 3,
    # Above the longest a message may sit unacknowledged (a drain takes well under a
    # second; the sweeper wakes anything left QUEUED long before this), so Redis never
    # redelivers live work.
    "broker_transport_options": {"visibility_timeout": 900, "socket_connect_timeout": 3},
    "task_serializer": "json",
    "accept_content": ["json"],
    "result_serializer": "json",
    "task_ignore_result": True,  # results live in Postgres (booking_requests), not here
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,
    "worker_hijack_root_logger": False,
    "task_publish_retry": True,
    "task_publish_retry_policy": {
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    },
    "task_default_queue": MAINTENANCE_QUEUE,
    # Task events are off: where each booking is a task of its own (a quiet hour), they
    # cost the worker ~1 ms and the API ~0.5 ms of CPU per booking (kombu's Redis
    # transport opens a client for every event it fans out; docs/performance.md). Flower
    # turns them on in the running workers when it starts, as `celery -A worker.app
    # control enable_events` does by hand; the product's own monitoring is /metrics.
    "worker_send_task_events": False,
    "task_send_sent_event": False,
    "timezone": "UTC",
}
# RabbitMQ only (deployment()): a publish waits for the broker's confirm (below), and a
# connection whose sent data has gone unacknowledged for 15 s is given up, as the
# database's are (models/db.py): a host cut off reconnects as soon as it is back,
# instead of waiting out TCP's retransmission backoff (tens of seconds).
AMQP_TRANSPORT_OPTIONS: dict[str, Any] = {
    "confirm_publish": True,
    "socket_settings": {socket.TCP_USER_TIMEOUT: 15_000},
}


class RoomRouter:
    """Send each room's decisions to that room's shard queue, everything else to maintenance."""

    def __init__(self, shards: int) -> None:
        self.shards = shards

    def __call__(self, name: str, args: Any, kwargs: Any, options: Any, *_: Any, **__: Any) -> Any:
        if name == DECIDE_ROOM:
            room_id = args[0] if args else kwargs["room_id"]
            return {"queue": room_queue(room_id, self.shards)}
        if name in (DISPATCH_WEBHOOKS, DELIVER_WEBHOOK, SEND_MAIL):
            return {"queue": WEBHOOKS_QUEUE}
        return {"queue": MAINTENANCE_QUEUE}


def task_queues(shards: int, *, quorum: bool = False) -> list[Queue]:
    """Each queue bound to an exchange of its own name by its own routing key, so
    `inspect active_queues` and the worker banner say what each queue is.

    quorum (RabbitMQ): quorum queues, replicated over the cluster's nodes, with a
    delivery limit, the room queues with a dead-letter exchange (models/queues.py), on
    topic exchanges:
    Celery's native delayed delivery (a retry's countdown, without which a worker
    holds a delayed message unacked) works with topic exchanges only.
    """
    names = [*shard_queues(shards), MAINTENANCE_QUEUE, WEBHOOKS_QUEUE]
    if not quorum:
        return [Queue(name, Exchange(name, type="direct"), routing_key=name) for name in names]
    replicated = {"x-queue-type": "quorum", "x-delivery-limit": DELIVERY_LIMIT}
    # Only a room queue's messages stand for requests: they alone are dead-lettered. A
    # periodic job or a webhook dispatch given up on (or expired: beat's runs expire
    # after two periods) is simply run again on the next tick.
    rooms = {**replicated, "x-dead-letter-exchange": DEAD_LETTERS}
    return [
        Queue(
            name,
            Exchange(name, type="topic"),
            routing_key=name,
            queue_arguments=rooms if name.startswith("rooms.") else replicated,
        )
        for name in names
    ]


def dead_letter_queue() -> Queue:
    """Where RabbitMQ puts a message past its delivery limit (declared by the workers)."""
    return Queue(
        DEAD_LETTERS,
        Exchange(DEAD_LETTERS, type="fanout"),
        queue_arguments={"x-queue-type": "quorum"},
    )


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every job declared periodic (models/periodic.py), at its pace. Each is idempotent
    and guarded by a lock of its own: a second beat is harmless."""
    schedule: dict[str, dict[str, Any]] = {}
    for name, job in declared().items():
        period = job.period(settings)
        entry: dict[str, Any] = {"task": job.task, "schedule": period}
        if job.expires:
            entry["options"] = {"expires": 2 * period}
        schedule[name] = entry
    return schedule


def deployment(settings: Settings) -> dict[str, Any]:
    """What depends on the deployment: broker, one queue per shard, routes, beat."""
    amqp = is_amqp(settings.broker_url)
    return {
        "broker_url": settings.broker_url,
        # RabbitMQ: a publish waits for the broker's confirm, which a quorum queue gives
        # once a majority of its nodes hold the message: a node that dies with the
        # message unconfirmed makes the publish fail (and be retried), never vanish.
        # (AMQP_TRANSPORT_OPTIONS)
        "broker_transport_options": (
            {**STATIC["broker_transport_options"], **AMQP_TRANSPORT_OPTIONS}
            if amqp
            else STATIC["broker_transport_options"]
        ),
        "task_queues": task_queues(settings.shards, quorum=amqp),
        "task_routes": (RoomRouter(settings.shards),),
        "beat_schedule": beat_schedule(settings),
    }
