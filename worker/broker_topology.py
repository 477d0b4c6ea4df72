"""On RabbitMQ: the workers declare every task queue and the dead-letter queue at start,
turning the classic queues of an earlier version into quorum queues.

Declared before anything is consumed: Celery's native delayed delivery binds every task
queue's exchange (those of roles this worker does not consume too, `webhooks`), and a
message dead-lettered to an exchange that does not exist would be dropped.

An earlier version declared the same names as classic queues on direct exchanges (or
with other arguments), which RabbitMQ refuses to redeclare (406 PRECONDITION_FAILED).
Such a queue and its exchange are deleted and declared again as they are now. Messages still in it
are lost with it, and nothing with them: every decide message stands for requests
QUEUED in Postgres, which the sweeper sends again within seconds; periodic jobs and
webhook dispatches run again on beat's next tick. The count is logged.
"""

from __future__ import annotations

import logging
from typing import Any

from amqp.exceptions import PreconditionFailed
from kombu import Connection, Queue

log = logging.getLogger(__name__)


def declare(conn: Connection, queues: list[Queue]) -> None:
    channel: Any = conn.channel()
    try:
        for queue in queues:
            try:
                queue(channel).declare()
            except PreconditionFailed:  # RabbitMQ closed the channel that asked
                channel = conn.channel()
                _replace(channel, queue)
    finally:
        channel.close()


def _replace(channel: Any, queue: Queue) -> None:
    waiting = channel.queue_delete(queue=queue.name)
    channel.exchange_delete(exchange=queue.exchange.name)
    log.warning(
        "replaced the classic queue %s with a quorum queue (%s message(s) dropped: their "
        "requests are QUEUED in Postgres and the sweeper sends them again)",
        queue.name,
        waiting,
    )
    queue(channel).declare()
