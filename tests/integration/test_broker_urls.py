"""CELERY_BROKER_URL may list several AMQP URLs separated by `;` (API.md): the API's
sender tries them in turn, so a RabbitMQ node that is down is passed over."""

from __future__ import annotations

import dataclasses
import os
import socket
import uuid

import pytest

from models.settings import load_settings

AMQP = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


def _rabbitmq_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _rabbitmq_answers(), reason="no RabbitMQ on 127.0.0.1:5672")
def test_a_dead_node_first_in_the_list_is_passed_over(database: str) -> None:
    from api.queue import TaskSender

    dead = "amqp://guest:guest@127.0.0.1:1//"
    settings = dataclasses.replace(
        load_settings(), broker_url=f"{dead};{AMQP}", shards=1, database_url=database
    )
    sender = TaskSender(settings)
    queue = sender._queue_names()[0]
    sender.publish_decide(uuid.uuid4(), 1)  # to the live node: it declares the queue
    sender.ping()
    assert sender.queue_depths()[queue] >= 1
    with sender.celery.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)  # the message was for no room
