"""The roles' command lines and what every role needs first (settings, the metrics
folder): one place that `bookings <role>`, `bookings up` and the bench build them from."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click

from models.queues import MAINTENANCE_QUEUE, WEBHOOKS_QUEUE
from models.settings import Settings, SettingsError, load_settings


def settings_or_exit(*, require_secret: bool = True) -> Settings:
    from models.state_env import ENV_FILE, load_state_env

    from_file = load_state_env()
    try:
        return load_settings(require_secret=require_secret)
    except SettingsError as exc:
        hint = "" if from_file else f" (or run `make run`: it writes {ENV_FILE} for the others)"
        raise click.ClickException(f"{exc}{hint}") from exc


def share_metrics_dir() -> None:
    """Let every process of this host write its metrics where /metrics can add them up."""
    folder = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", ".bookings/metrics"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder.resolve())


def parse_shards(spec: str | None, total: int) -> list[int]:
    """'0-3' → [0, 1, 2, 3]; '1,5' → [1, 5]; None → every shard."""
    if not spec:
        return list(range(total))
    shards: set[int] = set()
    for part in spec.split(","):
        low, _, high = part.strip().partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError as exc:
            raise click.BadParameter(f"{spec!r}: use a range like 0-3 or a list like 0,2") from exc
        if not 0 <= first <= last < total:
            raise click.BadParameter(f"{spec!r}: shards run from 0 to {total - 1}")
        shards.update(range(first, last + 1))
    return sorted(shards)


ACCESS_FORMAT = '%(addr)s "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).1fms'


def granian_logging(level: str, *, access_log: bool = False) -> list[str]:
    """granian's own lines (start, stop, a worker respawned) and, if asked, its access
    log, as the JSON lines every other role writes (models/logs.py)."""
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "models.logs.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "_granian": {"handlers": ["stderr"], "level": level, "propagate": False},
            "granian.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }
    # One file per level, rewritten on each start: none pile up in the temp folder.
    path = Path(tempfile.gettempdir()) / f"bookings-granian-logging-{os.getuid()}-{level}.json"
    draft = path.with_suffix(f".{os.getpid()}")
    draft.write_text(json.dumps(config))
    draft.replace(path)
    argv = ["--log-config", str(path), "--log-level", level.lower()]
    if access_log:
        argv += ["--access-log", "--access-log-fmt", ACCESS_FORMAT]
    return argv


def api_argv(port: int, *, workers: int, threads: int, host: str) -> list[str]:
    """The API's command line. granian parses HTTP in Rust and calls Flask from a pool
    of `threads` threads per process; against gunicorn's gthread workers it measured
    4.2 -> 2.6 ms of API CPU per booking (docs/performance.md)."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "api.wsgi:app",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        "--no-ws",
        "--respawn-failed-workers",
        "--workers-kill-timeout",
        "10",
    ]


def _celery(command: str, *args: str) -> list[str]:
    """`celery -A worker.app COMMAND ARGS`, logging at the settings' level."""
    settings = settings_or_exit(require_secret=False)
    return [
        sys.executable,
        *("-m", "celery", "-A", "worker.app", command),
        *args,
        *("--loglevel", settings.log_level),
    ]


def _celery_worker(queues: str, *options: str) -> list[str]:
    """`celery worker` of the workers' app on `queues`."""
    return _celery("worker", "-Q", queues, *options, "--without-gossip", "--without-mingle")


def webhook_worker_argv(concurrency: int) -> list[str]:
    return _celery_worker(
        WEBHOOKS_QUEUE,
        "--pool",
        "threads",
        "--concurrency",
        str(concurrency),
        "--hostname",
        "webhooks@%h",
    )


def webhooks_argv() -> list[str]:
    """`bookings webhooks` as a command line."""
    return [sys.executable, "-m", "cli", "webhooks"]


def worker_argv(shards: str | None, concurrency: int | None) -> list[str]:
    """`bookings worker` as a command line: celery under its supervisor."""
    argv = [sys.executable, "-m", "cli", "worker"]
    if shards:
        argv += ["--shards", shards]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    return argv


def celery_worker_argv(shards: str | None, concurrency: int | None) -> list[str]:
    """The celery worker itself, consuming the shards' queues and `maintenance`."""
    settings = settings_or_exit(require_secret=False)
    queues = [f"rooms.{i}" for i in parse_shards(shards, settings.shards)] + [MAINTENANCE_QUEUE]
    argv = _celery_worker(",".join(queues))
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    return argv


def beat_argv(schedule_dir: str) -> list[str]:
    Path(schedule_dir).mkdir(parents=True, exist_ok=True)
    return _celery("beat", "--schedule", str(Path(schedule_dir) / "celerybeat-schedule"))
