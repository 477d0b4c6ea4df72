"""`bookings`: run the roles, migrate, make admins, run periodic jobs by hand."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click

from models.settings import Settings, SettingsError, load_settings


def _settings_or_exit(*, require_secret: bool = True) -> Settings:
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


@click.group()
@click.version_option(package_name="bookings", prog_name="bookings")
def main() -> None:
    """Room bookings: API, workers, beat and operations."""


@main.command()
def migrate() -> None:
    """Apply every migration (alembic upgrade head) to DATABASE_URL."""
    from cli.migrations import upgrade_head

    settings = _settings_or_exit(require_secret=False)
    upgrade_head(settings.database_url)
    click.echo("database is at the latest migration")


@main.command()
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--host", default="0.0.0.0", show_default=True, help="address to listen on")  # noqa: S104
@click.option("--workers", default=2, show_default=True, type=int, help="processes")
@click.option("--threads", default=None, type=int, help="per process [default: API_THREADS]")
@click.option("--access-log", is_flag=True, help="a JSON line per request (costs CPU per request)")
def api(port: int, host: str, workers: int, threads: int | None, access_log: bool) -> None:
    """Serve the HTTP API with granian (a Rust HTTP server calling the WSGI app)."""
    if threads is not None:
        os.environ["API_THREADS"] = str(threads)  # the app sizes its connection pool by it
    settings = _settings_or_exit()  # refuse to start, saying why, before forking anything
    share_metrics_dir()
    argv = api_argv(port, workers=workers, threads=settings.api_threads, host=host)
    argv += granian_logging(settings.log_level, access_log=access_log)
    os.execv(sys.executable, argv)


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


@main.command()
@click.option("--shards", default=None, help="room shards to consume, e.g. 0-3 (default: all)")
@click.option("--concurrency", default=None, type=int, help="worker processes")
@click.option("--metrics-port", default=None, type=int, help="serve this host's metrics here")
def worker(shards: str | None, concurrency: int | None, metrics_port: int | None) -> None:
    """Decide booking requests from the room queues (and run periodic jobs).

    Runs celery as a child process and starts it again if it dies (cli/supervisor.py).
    """
    from cli.supervisor import supervise
    from models.logs import configure_logging

    argv = celery_worker_argv(shards, concurrency)
    share_metrics_dir()
    if metrics_port:
        os.environ["BOOKINGS_METRICS_PORT"] = str(metrics_port)
    configure_logging(_settings_or_exit(require_secret=False).log_level)
    sys.exit(supervise(argv))


@main.command()
@click.option("--concurrency", default=8, show_default=True, type=int, help="threads")
def webhooks(concurrency: int) -> None:
    """Send webhooks (the `webhooks` queue), in threads of a process of its own: a slow
    receiver waits on its socket, never on a room's decisions.

    Runs celery as a child process and starts it again if it dies (cli/supervisor.py).
    """
    from cli.supervisor import supervise
    from models.logs import configure_logging

    share_metrics_dir()
    configure_logging(_settings_or_exit(require_secret=False).log_level)
    sys.exit(supervise(webhook_worker_argv(concurrency)))


def webhook_worker_argv(concurrency: int) -> list[str]:
    settings = _settings_or_exit(require_secret=False)
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "worker.app",
        "worker",
        "-Q",
        "webhooks",
        "--pool",
        "threads",
        "--concurrency",
        str(concurrency),
        "--hostname",
        "webhooks@%h",
        "--loglevel",
        settings.log_level,
        "--without-gossip",
        "--without-mingle",
    ]


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
    settings = _settings_or_exit(require_secret=False)
    queues = [f"rooms.{i}" for i in parse_shards(shards, settings.shards)] + ["maintenance"]
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "worker.app",
        "worker",
        "-Q",
        ",".join(queues),
        "--loglevel",
        settings.log_level,
        "--without-gossip",
        "--without-mingle",
    ]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    return argv


@main.command()
@click.option("--schedule-dir", default=".bookings", show_default=True)
def beat(schedule_dir: str) -> None:
    """Run the periodic-job scheduler. Run exactly one (a second is harmless, but wasteful)."""
    os.execv(sys.executable, beat_argv(schedule_dir))


def beat_argv(schedule_dir: str) -> list[str]:
    settings = _settings_or_exit(require_secret=False)
    Path(schedule_dir).mkdir(parents=True, exist_ok=True)
    schedule = str(Path(schedule_dir) / "celerybeat-schedule")
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "worker.app",
        "beat",
        "--loglevel",
        settings.log_level,
        "--schedule",
        schedule,
    ]


@main.command()
def tick() -> None:
    """Run every periodic job once, now."""
    share_metrics_dir()
    from worker.periodic import run_all

    _settings_or_exit(require_secret=False)
    for name, outcome in run_all().items():
        click.echo(f"{name}: {outcome}")


@main.command("create-admin")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", default="Admin", show_default=True)
@click.option(
    "--if-missing",
    is_flag=True,
    help="do nothing when the email is already registered (a deploy step run every time)",
)
def create_admin(email: str, password: str, name: str, if_missing: bool) -> None:
    """Make a new admin, or promote an existing user (and set the password)."""
    from sqlalchemy import select

    from models.db import session_factory
    from models.services import accounts
    from models.tables.users import User

    if len(password) < 8:
        raise click.BadParameter("at least 8 characters", param_hint="--password")
    settings = _settings_or_exit(require_secret=False)
    with session_factory(settings.database_url).begin() as session:
        known = select(User).where(User.email == accounts.normalize_email(email))
        if if_missing and session.scalars(known).first() is not None:
            click.echo(f"{email} is already registered: left as it is")
            return
        user = accounts.create_admin(
            session, email=email, password=password, name=name, cost=settings.password_cost
        )
        click.echo(f"admin {user.email} ({user.id})")


@main.command("er-diagram")
@click.option("--check", is_flag=True, help="exit 1 if docs/er-diagram.md is out of date")
def er_diagram(check: bool) -> None:
    """Write docs/er-diagram.md: the Mermaid ER diagram of the models."""
    from cli.er_diagram import ER_DIAGRAM_PATH, render_document
    from models.tables import Base

    document = render_document(Base.metadata)
    if check:
        current = ER_DIAGRAM_PATH.read_text() if ER_DIAGRAM_PATH.exists() else ""
        if current != document:
            raise click.ClickException(f"{ER_DIAGRAM_PATH} is out of date: run bookings er-diagram")
        click.echo(f"{ER_DIAGRAM_PATH} is up to date")
        return
    ER_DIAGRAM_PATH.write_text(document)
    click.echo(f"wrote {ER_DIAGRAM_PATH}")


@main.command("seed")
def seed_command() -> None:
    """Demo users, rooms and bookings (bookings are decided by the workers)."""
    share_metrics_dir()  # its accepted requests count in the host's /metrics too
    from cli.seed import seed
    from models.db import session_factory
    from worker.runtime import runtime

    settings = _settings_or_exit(require_secret=False)
    logins = seed(session_factory(settings.database_url), runtime().waker)
    for email, password in logins:
        click.echo(f"login: {email} / {password}")


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "email", default=None, help="whose bookings (default: the first admin)")
def import_(file: Path, email: str | None) -> None:
    """Submit a CSV or JSON file of bookings as one batch; follow it until decided."""
    share_metrics_dir()  # before prometheus_client loads: the counts outlive this process
    from cli.importer import import_file
    from models.db import session_factory
    from worker.runtime import runtime

    settings = _settings_or_exit(require_secret=False)
    sys.exit(import_file(session_factory(settings.database_url), runtime().waker, file, email))


@main.command()
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True, help="address the API listens on")
def up(port: int, host: str) -> None:
    """Everything on one machine: migrate, then API + worker + beat until Ctrl-C."""
    from cli.up import run_everything

    sys.exit(run_everything(port, host))
