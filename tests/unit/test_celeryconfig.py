"""celeryconfig: what keeps requests safe, the routes, and the deployment from Settings."""

from __future__ import annotations

import re
import sys
import uuid
from pathlib import Path

import pytest
from celery.app.defaults import DEFAULTS

import celeryconfig
from models.queues import DECIDE_ROOM, DELIVER_WEBHOOK, DISPATCH_WEBHOOKS, room_queue
from models.settings import Settings
from tests.roles import run_apart

ROOM = uuid.UUID("0b5c8f7e-3f1e-4d6a-9a57-1f0e9b3c2d11")


def test_celeryconfig_routes_decisions_to_the_room_queue() -> None:
    route = celeryconfig.RoomRouter(6)
    assert route(DECIDE_ROOM, [str(ROOM)], {}, {}) == {"queue": room_queue(ROOM, 6)}
    assert route(DECIDE_ROOM, [], {"room_id": str(ROOM)}, {}) == {"queue": room_queue(ROOM, 6)}
    assert route("bookings.sweep", [], {}, {}) == {"queue": "maintenance"}
    assert route(DELIVER_WEBHOOK, ["x"], {}, {}) == {"queue": "webhooks"}
    names = {q.name for q in celeryconfig.task_queues(6)}
    assert names == {f"rooms.{i}" for i in range(6)} | {"maintenance", "webhooks"}


def test_celery_settings_that_keep_requests_safe() -> None:
    assert celeryconfig.STATIC["task_acks_late"] is True
    assert celeryconfig.STATIC["task_reject_on_worker_lost"] is True
    assert celeryconfig.STATIC["worker_prefetch_multiplier"] == 1
    assert celeryconfig.STATIC["task_serializer"] == "json"
    assert celeryconfig.STATIC["task_ignore_result"] is True
    assert celeryconfig.STATIC["broker_transport_options"]["visibility_timeout"] >= 600


def test_broker_shards_and_beat_intervals_come_from_settings() -> None:
    production = Settings(database_url="", redis_url="redis://r/0", broker_url="amqp://b//")
    deployment = celeryconfig.deployment(production)
    assert deployment["broker_url"] == "amqp://b//"
    assert len(deployment["task_queues"]) == production.shards + 2  # maintenance, webhooks
    beat = deployment["beat_schedule"]
    assert beat["sweep"] == {"task": "bookings.sweep", "schedule": 5.0}
    assert beat["end_meetings"] == {"task": "bookings.end_meetings", "schedule": 30.0}
    assert set(beat) == {
        "sweep",
        "end_meetings",
        "release_no_shows",
        "expire_waiting",
        "purge_audit",
        "purge_requests",
        "purge_events",
        "dispatch_webhooks",
        "remind",
        "purge_mail",
    }

    quick = Settings(
        database_url="", redis_url="", broker_url="", sweep_seconds=1, housekeeping_seconds=2
    )
    schedule = celeryconfig.beat_schedule(quick)
    sweep = schedule.pop("sweep")
    dispatch = schedule.pop("dispatch_webhooks")  # the outbox, as often, never piling up
    assert dispatch == {"task": DISPATCH_WEBHOOKS, "schedule": 1, "options": {"expires": 2}}
    assert sweep["schedule"] == 1
    assert {job["schedule"] for job in schedule.values()} == {2}


def test_celery_finds_the_app_as_worker_celery() -> None:
    """`celery -A worker inspect …` looks for `worker.celery`."""
    import worker
    from worker.app import app

    assert worker.celery is app
    with pytest.raises(AttributeError):
        worker.nothing_here  # noqa: B018


def test_celery_commands_without_settings_say_what_is_missing(tmp_path: Path) -> None:
    """`celery -A worker …` with no environment (and no .bookings/env where it runs)."""
    celery = str(Path(sys.executable).parent / "celery")
    done = run_apart(
        [celery, "-A", "worker", "report"],
        tmp_path,
        without=("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"),
    )
    assert "Error: DATABASE_URL is not set" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "amqp://guest" not in done.stdout


def test_every_queue_has_its_own_exchange_and_routing_key() -> None:
    queues = celeryconfig.task_queues(4)
    assert [q.name for q in queues] == [
        "rooms.0",
        "rooms.1",
        "rooms.2",
        "rooms.3",
        "maintenance",
        "webhooks",
    ]
    for queue in queues:
        assert queue.exchange.name == queue.name
        assert queue.routing_key == queue.name


def test_task_events_are_off_but_can_be_turned_on_in_a_running_worker() -> None:
    """Off for their cost per task; Flower (or `celery control enable_events`) turns them
    on through the workers' remote control, which must stay enabled."""
    assert celeryconfig.STATIC["worker_send_task_events"] is False
    assert celeryconfig.STATIC["task_send_sent_event"] is False
    assert celeryconfig.STATIC.get("worker_enable_remote_control", True) is True


def test_a_job_declared_beside_its_code_is_scheduled_run_by_tick_and_locked_apart() -> None:
    """Adding a periodic job is one declaration (models/periodic.py): the schedule, the
    task and `bookings tick` follow, and a lock key given twice is refused."""
    from models import periodic

    declared = periodic.declared()
    before = dict(periodic.JOBS)
    try:

        @periodic.periodic("count_nothing", lock=99)
        def count_nothing(ctx: periodic.JobContext) -> int:
            return 0

        schedule = celeryconfig.beat_schedule(
            Settings(database_url="", redis_url="", broker_url="", housekeeping_seconds=7)
        )
        assert schedule["count_nothing"] == {"task": "bookings.count_nothing", "schedule": 7}
        with pytest.raises(ValueError, match="lock 99"):
            periodic.periodic("count_again", lock=99)(count_nothing)
    finally:
        periodic.JOBS.clear()
        periodic.JOBS.update(before)
    assert {job.lock for job in declared.values() if job.lock} == {1, 2, 3, 4, 5, 6, 7, 8, 9}


# What `celery report` may list: Celery's own settings, and its note of deprecated ones.
CELERY_SETTINGS = {*DEFAULTS, "deprecated_settings"}


def test_the_api_sends_with_celery_settings_only() -> None:
    """The API's app takes STATIC and the deployment, and nothing else of celeryconfig
    (its imports and helpers were once settings too: `Any`, `Settings`, `RoomRouter`)."""
    from api.queue import TaskSender

    sender = TaskSender(
        Settings(database_url="", redis_url="redis://r/0", broker_url="redis://r/0")
    )
    changed = sender.celery.conf.table(with_defaults=False)
    assert set(changed) - CELERY_SETTINGS == set()
    assert set(celeryconfig.STATIC) <= set(changed)
    for name, value in celeryconfig.STATIC.items():
        if name != "broker_transport_options":  # the deployment's and the API's own, below
            assert sender.celery.conf[name] == value, name
    assert sender.celery.conf.broker_transport_options["visibility_timeout"] == 900


def test_celery_report_lists_celery_settings_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`celery -A worker report`, as an operator runs it: every line of its settings
    table names a Celery setting."""
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:1/db")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    celery = str(Path(sys.executable).parent / "celery")
    done = run_apart([celery, "-A", "worker", "report"], tmp_path, without=("CELERY_BROKER_URL",))
    assert done.returncode == 0, done.stdout + done.stderr
    listed = set(re.findall(r"^(\w+): ", done.stdout, re.M))
    assert {"task_acks_late", "broker_url", "task_queues", "beat_schedule"} <= listed, done.stdout
    assert listed - CELERY_SETTINGS == set()
    assert "typing.Any" not in done.stdout and "<class " not in done.stdout
