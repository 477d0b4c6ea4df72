"""A RabbitMQ node of three killed under load: the room queues are quorum queues, so they
survive it, and nothing accepted is lost or waits long.

The module starts a cluster of its own (tests/rabbit_cluster.py), a redis-server of its
own for the room locks, a database of its own on the test server, a real `bookings
worker` and `bookings beat` with CELERY_BROKER_URL naming the three nodes (`;`), and
the API as an app in this process, fed by tests/load.py. The node killed is the one
leading most room queues, the first of the list: the one every client connected to.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from kombu import Connection, Exchange, Queue
from sqlalchemy.orm import Session, sessionmaker

from api.queue import TaskSender
from celeryconfig import task_queues
from models.db import session_factory
from models.queues import DEAD_LETTERS, DELIVERY_LIMIT
from tests import services
from tests.faults import RedisServer, Worker, started_roles, wait_until
from tests.load import (
    Load,
    decided_times,
    longest_pause,
    stop_and_drain,
    violations,
)
from tests.rabbit_cluster import RabbitCluster, available

pytestmark = pytest.mark.skipif(not available(), reason="no rabbitmq-server to cluster")

OBSERVED_WRITES = 250  # accepted after the kill before the load stops (10 s of it)
PAUSE_GOAL_SECONDS = 5.0  # issue 20: the loss of a broker node


@dataclass
class Stack:
    cluster: RabbitCluster
    app: Flask
    sessions: sessionmaker[Session]
    worker: Worker


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from cli.migrations import upgrade_head

    work = tmp_path_factory.mktemp("broker-failover")
    cluster = RabbitCluster()
    redis = RedisServer(work)
    url = services.create_database(services.database_url("bookings_broker"))
    sessions = session_factory(url)
    try:
        cluster.start()
        upgrade_head(url)
        redis.start()
        with started_roles(
            work, database_url=url, redis_url=redis.url(0), broker_url=cluster.broker_url()
        ) as roles:
            yield Stack(cluster, roles.app, sessions, roles.worker)
    finally:
        redis.stop(signal.SIGKILL)
        cluster.stop()
        sessions.kw["bind"].dispose()
        services.drop_database(url)


def dead_letters(stack: Stack) -> list[tuple[object, ...]]:
    """What is in the dead-letter queue, and why (a look: the messages stay)."""
    live = next(node for node in stack.cluster.nodes if node.alive())
    found: list[tuple[object, ...]] = []
    with Connection(live.url()) as connection:
        channel = connection.channel()
        for _ in range(5):
            message = channel.basic_get(DEAD_LETTERS, no_ack=False)
            if message is None:
                break
            headers = message.headers or {}
            found.append(
                (headers.get("task"), headers.get("x-first-death-reason"), message.body[:200])
            )
        channel.close()  # unacknowledged: back in the queue
    return found


def test_the_task_queues_are_quorum_queues_spread_over_the_nodes(stack: Stack) -> None:
    found = stack.cluster.queues()
    shards = stack.app.extensions["bookings"].settings.shards
    for queue in [*task_queues(shards), Queue(DEAD_LETTERS)]:
        assert found.get(queue.name, ("missing",))[0] == "quorum", (queue.name, found)
    assert {leader for _, leader in found.values()} <= {n.name for n in stack.cluster.nodes}


def test_a_broker_node_killed_under_load(stack: Stack, load: Load) -> None:
    load.start()
    wait_until(lambda: len(load.sent) >= 50, 60, "50 requests accepted before the kill")
    victim = stack.cluster.nodes[0]  # every client's first URL
    led = sum(1 for _, leader in stack.cluster.queues().values() if leader == victim.name)
    killed, killed_wall = time.monotonic(), time.time()
    stack.cluster.kill(victim)
    wait_until(  # the load goes on well past the recovery
        lambda: sum(s.at > killed for s in load.sent) >= OBSERVED_WRITES,
        60,
        f"{OBSERVED_WRITES} writes accepted without the node",
    )
    seen, seen_wall = time.monotonic(), time.time()
    stop_and_drain(load, stack.sessions, "around the node's death", details=stack.worker.log_tail)
    no_accept = longest_pause([s.at for s in load.sent], killed, seen)
    no_decision = longest_pause(decided_times(stack.sessions, load.sent), killed_wall, seen_wall)
    print(
        f"\n[broker node] {led} queues led by the node killed; {len(load.sent)} accepted, "
        f"answers {dict(load.statuses)}; longest without a write accepted {no_accept:.1f} s, "
        f"without a decision {no_decision:.1f} s; slowest answer {load.slowest:.1f} s"
    )
    assert led > 0, "the node killed led no queue: the test proves nothing"
    assert set(load.statuses) <= {202, 503}, (load.statuses, load.bodies_5xx[:3])
    assert no_accept <= PAUSE_GOAL_SECONDS, f"no write accepted for {no_accept:.1f} s"
    assert no_decision <= PAUSE_GOAL_SECONDS, f"nothing decided for {no_decision:.1f} s"
    problems = violations(stack.sessions, load.sent)
    assert not problems, "\n".join(problems[:20])
    sender = TaskSender(stack.app.extensions["bookings"].settings)
    assert sender.queue_depths()[DEAD_LETTERS] == 0, dead_letters(stack)


def test_a_message_past_its_delivery_limit_is_dead_lettered_not_dropped(stack: Stack) -> None:
    """A queue with the room queues' arguments; a consumer that gives the message back
    every time (as workers dying on it would): after DELIVERY_LIMIT redeliveries it is in
    the dead-letter queue, which /metrics reports (bookings_queue_depth)."""
    live = next(node for node in stack.cluster.nodes if node.alive())
    name = f"probe-{uuid.uuid4().hex[:6]}"
    arguments = task_queues(1, quorum=True)[0].queue_arguments
    sender = TaskSender(stack.app.extensions["bookings"].settings)
    before = sender.queue_depths()[DEAD_LETTERS]
    connection = Connection(live.url())
    try:
        channel = connection.default_channel
        probe = Queue(
            name, Exchange(name, type="topic"), routing_key=name, queue_arguments=arguments
        )
        probe(channel).declare()
        connection.Producer(channel).publish({"probe": name}, exchange=name, routing_key=name)
        deliveries = 0

        def dead_lettered() -> bool:
            nonlocal deliveries
            message = probe(channel).get(no_ack=False)
            if message is not None:
                deliveries += 1
                message.requeue()  # given back, as by a worker that died holding it
            return bool(sender.queue_depths()[DEAD_LETTERS] == before + 1)

        wait_until(dead_lettered, 30, "the message in the dead-letter queue", every=0.05)
        # RabbitMQ 3.10 counts a basic.get given back a little more than once (17 here):
        # what matters is that it was given again and again, then kept, not dropped.
        assert 1 < deliveries <= DELIVERY_LIMIT + 1
        probe(channel).delete()
    finally:
        connection.release()


def test_a_classic_queue_of_an_earlier_version_becomes_a_quorum_queue(stack: Stack) -> None:
    """The workers' start (worker/broker_topology.py): a queue an earlier version declared
    classic, on a direct exchange, is replaced; RabbitMQ would refuse it otherwise."""
    from worker import broker_topology

    live = next(node for node in stack.cluster.nodes if node.alive())
    name = f"old-{uuid.uuid4().hex[:6]}"
    connection = Connection(live.url())
    try:
        old = Queue(name, Exchange(name, type="direct"), routing_key=name)
        old(connection.default_channel).declare()
        connection.Producer().publish({"old": True}, exchange=name, routing_key=name)
        arguments = task_queues(1, quorum=True)[0].queue_arguments
        new = Queue(name, Exchange(name, type="topic"), routing_key=name, queue_arguments=arguments)

        broker_topology.declare(connection, [new])

        assert stack.cluster.queues()[name][0] == "quorum"
        broker_topology.declare(connection, [new])  # a second start changes nothing
        assert stack.cluster.queues()[name][0] == "quorum"
        new(connection.channel()).delete()
    finally:
        connection.release()
