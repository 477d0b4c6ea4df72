"""Prometheus metrics shared by the API and the workers.

With PROMETHEUS_MULTIPROC_DIR set (the `bookings` roles set it), every process of a
host writes to that folder and /metrics on the API adds them up: gunicorn's workers,
celery's pool processes, all of them.
"""

from __future__ import annotations

import contextlib
import glob
import os
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

HTTP_REQUESTS = Counter(
    "bookings_http_requests_total",
    "HTTP requests by route and status",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "bookings_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ACCEPTED = Counter("bookings_requests_accepted_total", "Requests accepted (202)", ["kind"])
DECIDED = Counter(
    "bookings_requests_decided_total", "Requests decided, by outcome", ["kind", "outcome"]
)
DECISION_LATENCY = Histogram(
    "bookings_decision_seconds",
    "From acceptance to decision, per request",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
# Where a request's time to its decision goes (docs/performance.md reads these):
#   broker  a decide message's send -> a worker's pickup of it (per message)
#   queued  a request's acceptance -> the pickup of the message that decided it
#   lock    that pickup -> the rooms' locks held (Redis turn, advisory locks, earlier
#           transactions of the same turn)
#   decide  locks held -> every outcome written (read the queue and the snapshot, the
#           engine, the writes)
#   commit  the commit
# queued + lock + decide + commit = acceptance -> decision committed. Wall clocks: the
# API's database's for acceptance, the worker's for the rest.
DECIDE_STAGE = Histogram(
    "bookings_decide_stage_seconds",
    "Where a request's time to decision goes, by stage (broker, queued, lock, decide, commit)",
    ["stage"],
    buckets=(
        0.0005,
        0.001,
        0.002,
        0.003,
        0.005,
        0.0075,
        0.01,
        0.015,
        0.02,
        0.03,
        0.05,
        0.075,
        0.1,
        0.2,
        0.5,
        1,
        2.5,
        5,
        30,
    ),
)
WEBHOOK_DELIVERIES = Counter(
    "bookings_webhook_deliveries_total",
    "Webhook delivery attempts, by outcome (delivered, retry, failed)",
    ["outcome"],
)
WEBHOOK_LATENCY = Histogram(
    "bookings_webhook_send_seconds",
    "Time a receiver took to answer a webhook (or to fail)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WEBHOOK_LAG = Histogram(
    "bookings_webhook_delivered_after_seconds",
    "From the event (the change's commit) to its delivery",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
)
MAIL_SENT = Counter(
    "bookings_mail_total",
    "Mail handled by the sender, by outcome (sent, retry, failed, skipped)",
    ["outcome"],
)
ROOM_BUSY = Counter(
    "bookings_room_busy_total",
    "Decide messages that found their room held by another drain (tried again shortly)",
)


class ShardConsumers(Collector):
    """`bookings_shard_consumer_up{queue}`: 1 while a live worker consumes the shard's queue.

    Read at scrape time from the workers' heartbeat keys (models/heartbeats.py), so a shard
    nobody consumes shows as 0 whatever process serves /metrics. Absent while Redis is down.
    """

    def __init__(self, read: Callable[[], dict[str, bool]]) -> None:
        self.read = read

    def describe(self) -> list[Metric]:
        return []  # nothing to ask Redis for at registration time

    def collect(self) -> Iterator[Metric]:
        try:
            consumers = self.read()
        except (RedisError, OSError):
            return  # /readyz says Redis is down
        gauge = GaugeMetricFamily(
            "bookings_shard_consumer_up",
            "1 while a live worker consumes the room shard's queue, 0 when none does",
            labels=["queue"],
        )
        for queue, up in consumers.items():
            gauge.add_metric([queue], 1.0 if up else 0.0)
        yield gauge


class ProcessFiles(MultiProcessCollector):
    """prometheus_client's collector of every process's metrics file, but skipping a file
    a process is still creating: it is 0 bytes for a moment, and reading it raised
    struct.error, so a scrape while a worker or sender started answered 500."""

    def collect(self) -> Iterable[Metric]:
        files = []
        for path in glob.glob(os.path.join(self._path, "*.db")):
            with contextlib.suppress(OSError):  # gone meanwhile: its process ended
                if os.path.getsize(path) >= 8:  # the header: how much of it is in use
                    files.append(path)
        return self.merge(files, accumulate=True)
