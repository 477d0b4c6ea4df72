"""The Celery app of the workers and beat; configured from celeryconfig.py."""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import setup_logging, worker_init, worker_process_init
from prometheus_client import CollectorRegistry, start_http_server
from sqlalchemy.exc import InterfaceError, OperationalError

from celeryconfig import STATIC, dead_letter_queue, deployment
from models import broker_clients
from models.db import dispose_engines
from models.logs import configure_logging
from models.metrics import ProcessFiles
from models.queues import is_amqp
from models.runtime import freeze_startup_objects
from models.settings import SettingsError
from worker import broker_guard, broker_topology, delayed_delivery
from worker.heartbeat import ShardHeartbeat
from worker.settings import settings

# Celery 5.7 workers die when a Redis broker restarts under load; see worker/broker_guard.py.
broker_guard.install()
# On RabbitMQ, a reconnecting worker sets delayed delivery up through one live node.
delayed_delivery.install()
broker_clients.install()  # one Redis client per broker channel (models/broker_clients.py)

app = Celery("bookings")
app.config_from_object(STATIC)

# The outbox's tasks: a database outage backs them off and retries them for as long as
# it lasts (the rows wait in Postgres meanwhile).
RETRY_OUTAGES: dict[str, Any] = {
    "acks_late": True,
    "ignore_result": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "max_retries": None,
}


def _deployment() -> dict[str, Any]:
    """Read when the app is first used (a worker or beat starting, a task sent, `celery -A
    worker inspect …`), never at import. Beside `make run` the settings come from its
    .bookings/env; missing ones stop the command with the message `bookings` gives."""
    from models.state_env import load_state_env

    load_state_env()
    try:
        found = settings()
    except SettingsError as exc:
        raise SystemExit(f"Error: {exc}") from None
    return {
        **deployment(found),
        "imports": ("worker.tasks", "worker.periodic", "worker.webhooks", "worker.mail"),
    }


app.add_defaults(_deployment)
# consumer:<queue> keys in Redis while this worker consumes its queues (/readyz reads them).
app.steps["consumer"].add(ShardHeartbeat)


@setup_logging.connect
def _json_logs(**_: Any) -> None:
    """Celery leaves logging to us: JSON lines like the API's."""
    configure_logging(settings().log_level)


@worker_init.connect
def _serve_metrics(**_: Any) -> None:
    """With --metrics-port, the main process serves the whole pool's metrics."""
    port = settings().metrics_port
    if port:
        registry = CollectorRegistry()
        ProcessFiles(registry)
        start_http_server(port, registry=registry)


@worker_init.connect
def _declare_queues(**_: Any) -> None:
    """On RabbitMQ: the task queues, as quorum queues, and the dead-letter queue
    (worker/broker_topology.py)."""
    if is_amqp(str(app.conf.broker_url)):
        with app.connection_for_write() as conn:
            broker_topology.declare(conn, [*app.conf.task_queues, dead_letter_queue()])


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    """A forked pool process must not reuse its parent's pooled connections."""
    dispose_engines()


@worker_init.connect
@worker_process_init.connect
def _freeze_startup(**_: Any) -> None:
    """The consumer's startup objects, and a pool process's once its connections are
    fresh, stay out of the garbage collector's full passes (models/runtime.py)."""
    freeze_startup_objects()
