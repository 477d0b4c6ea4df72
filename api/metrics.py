"""/metrics: HTTP metrics of every API process, the workers' metrics, and queue depths."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, current_app, request
from kombu.exceptions import OperationalError as BrokerError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy.exc import SQLAlchemyError

from api.probes import DEPTH_TTL, scrape_until
from models.metrics import HTTP_LATENCY, HTTP_REQUESTS, ProcessFiles


class QueueDepth(Collector):
    """Messages waiting in each room shard's queue, asked of the broker at scrape time."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def describe(self) -> list[Metric]:
        return []  # nothing to ask the broker for at registration time

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "bookings_queue_depth", "Messages waiting per queue", labels=["queue"]
        )
        age = GaugeMetricFamily(
            "bookings_queue_depth_age_seconds",
            "How old the queue depths are: 0 when read now, more when the broker did not "
            "answer within half a second and the last depths read are shown",
        )
        check = self.app.extensions["bookings_checks"].queue_depths
        last = check.last
        if last is None or time.monotonic() - last.at >= DEPTH_TTL:
            # The broker not answering within the deadline leaves the last depths read.
            with contextlib.suppress(OSError, BrokerError):
                check.wait(until=scrape_until())
            last = check.last
        if last is None:
            return  # never read: /readyz says what is down; the gauge is absent
        depths, read_at = last.value, last.at
        for queue, depth in depths.items():
            gauge.add_metric([queue], depth)
        age.add_metric([], round(time.monotonic() - read_at, 3))
        yield gauge
        yield age


class ReadAtScrape(Collector):
    """Gauges read from Postgres at scrape time through one of the app's checks
    (api/probes.py, `check`), absent when it does not answer within the deadline: the
    database is down or the tables locked past it, and /readyz says so."""

    check = ""  # the field of api.probes.Checks

    def __init__(self, app: Flask) -> None:
        self.app = app

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            found = getattr(self.app.extensions["bookings_checks"], self.check)
            value = found.wait(until=scrape_until())
        except (SQLAlchemyError, OSError):
            return
        yield from self.gauges(value)

    def gauges(self, value: Any) -> Iterator[GaugeMetricFamily]:
        raise NotImplementedError


class WebhookBacklog(ReadAtScrape):
    """The outbox's backlog: events not yet fanned out to deliveries, and deliveries not
    yet delivered nor failed (retries waiting included)."""

    check = "webhook_backlog"

    def gauges(self, value: tuple[int, int]) -> Iterator[GaugeMetricFamily]:
        events, pending = value
        gauge = GaugeMetricFamily(
            "bookings_webhook_backlog", "Webhook work waiting, by stage", labels=["stage"]
        )
        gauge.add_metric(["events"], events)
        gauge.add_metric(["deliveries"], pending)
        yield gauge


class MailBacklog(ReadAtScrape):
    """`bookings_mail_backlog` (mail not yet sent nor failed, retries waiting included)
    and `bookings_mail_oldest_unsent_seconds` (the oldest one's age; 0 when none waits)."""

    check = "mail_backlog"

    def gauges(self, value: tuple[int, float]) -> Iterator[GaugeMetricFamily]:
        count, age = value
        yield GaugeMetricFamily(
            "bookings_mail_backlog", "Mail not yet sent nor failed", value=count
        )
        yield GaugeMetricFamily(
            "bookings_mail_oldest_unsent_seconds",
            "How long the oldest unsent mail has waited (0: none waits)",
            value=round(age, 3),
        )


class OldestQueued(ReadAtScrape):
    """`bookings_oldest_queued_seconds`: how long the oldest QUEUED request has waited
    (0 when none waits)."""

    check = "oldest_queued"

    def gauges(self, value: float) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "bookings_oldest_queued_seconds",
            "How long the oldest QUEUED request has waited for its decision (0: none waits)",
            value=round(value, 3),
        )


class Dependencies(Collector):
    """`bookings_dependency_up{dependency}`: 1 when the database, Redis or the broker
    answered this API process within the deadline, else 0 (the checks /readyz makes)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        found = self.app.extensions["bookings_checks"]
        gauge = GaugeMetricFamily(
            "bookings_dependency_up",
            "1 when the dependency answered within half a second at scrape time, else 0",
            labels=["dependency"],
        )
        for name, check in (
            ("database", found.database),
            ("redis", found.redis_consumers),
            ("broker", found.broker),
        ):
            try:  # the run start_scrape began (a new one would have no time left)
                check.wait(check.current(), until=scrape_until())
                gauge.add_metric([name], 1)
            except Exception:  # no answer in time, or the check's own error
                gauge.add_metric([name], 0)
        yield gauge


class ThisProcess(Collector):
    """Without a shared metrics folder: this process's own metrics."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()

    def describe(self) -> list[Metric]:
        return []


def _registry(app: Flask, metrics_dir: str | None) -> CollectorRegistry:
    """A registry of this app's own (two apps in one process must not collide)."""
    registry = CollectorRegistry()
    if metrics_dir:
        ProcessFiles(registry, path=metrics_dir)
    else:
        registry.register(ThisProcess())
    registry.register(QueueDepth(app))
    registry.register(WebhookBacklog(app))
    registry.register(OldestQueued(app))
    registry.register(MailBacklog(app))
    registry.register(Dependencies(app))
    return registry


def metrics_response() -> Response:
    registry = current_app.extensions["bookings_metrics"]
    # content_type, not mimetype: CONTENT_TYPE_LATEST carries its charset already, and
    # werkzeug would add a second one, which Prometheus 3 refuses to scrape.
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


STARTED = "bookings.started"  # the request's perf_counter at its first hook (environ)


def init_metrics(app: Flask, metrics_dir: str | None) -> None:
    app.extensions["bookings_metrics"] = _registry(app, metrics_dir)
    # (method, route, status) -> its counter and histogram children: labels() would
    # take the metric's lock and turn every value to text again on every request.
    children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    @app.before_request
    def _start_timer() -> None:
        request.environ[STARTED] = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        req = request._get_current_object()  # type: ignore[attr-defined]
        rule = req.url_rule
        key = (req.method, rule.rule if rule else "unmatched", response.status_code)
        pair = children.get(key)
        if pair is None:
            method, route, status = key
            pair = children[key] = (
                HTTP_REQUESTS.labels(method, route, str(status)),
                HTTP_LATENCY.labels(method, route),
            )
        pair[0].inc()
        started = req.environ.get(STARTED)
        if started is not None:
            pair[1].observe(time.perf_counter() - started)
        return response
