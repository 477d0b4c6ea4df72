"""`bookings up`: everything on one machine until Ctrl-C.

Uses DATABASE_URL / REDIS_URL when set; otherwise starts an embedded PostgreSQL and
Redis whose data stays in .bookings/ (a second `up` finds it again). Migrates, seeds
demo data on the first run, starts API + worker + beat, and on Ctrl-C stops every
process it started, the embedded servers included.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from contextlib import ExitStack
from http import HTTPStatus
from types import FrameType

import click
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from cli import data_folder
from cli.migrations import upgrade_head
from cli.roles import (
    api_argv,
    beat_argv,
    granian_logging,
    settings_or_exit,
    webhooks_argv,
    worker_argv,
)
from models.db import conninfo
from models.mail.smtp import Relay
from models.settings import STATE_DIR, Settings
from models.state_env import remove_state_env, write_state_env

STOP_GRACE_SECONDS = 15


def ensure_database(url: str) -> None:
    """Create the database of a local development setup if the server lacks it."""
    target = make_url(url)
    try:
        psycopg.connect(conninfo(url), connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise click.ClickException(f"cannot reach the database: {exc}") from exc
        server = conninfo(url, dbname="postgres")
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(target.database))))
        click.echo(f"created database {target.database}")


def start_embedded_services(stack: ExitStack) -> None:
    """Fill in DATABASE_URL / REDIS_URL with embedded servers where they are unset."""
    from cli.embedded import EmbeddedPostgres, EmbeddedRedis

    if not os.environ.get("DATABASE_URL"):
        click.echo(f"starting embedded PostgreSQL (data in {STATE_DIR / 'postgres'})…")
        postgres = EmbeddedPostgres((STATE_DIR / "postgres").resolve())
        stack.callback(postgres.stop)
        os.environ["DATABASE_URL"] = postgres.url("bookings")  # created by ensure_database
    if not os.environ.get("REDIS_URL"):
        click.echo(f"starting embedded Redis (data in {STATE_DIR / 'redis'})…")
        redis = EmbeddedRedis((STATE_DIR / "redis").resolve())
        stack.callback(redis.stop)
        os.environ["REDIS_URL"] = redis.url()


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each child's process group (celery's pool, gunicorn's workers), then wait."""
    for child in children:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def _seed_first_run() -> list[str]:
    """The demo data on a first run. What to say of it once all is ready: the logins the
    first time; later only that it is there (its passwords may have changed since)."""
    from cli.seed import is_seeded, seed
    from worker.runtime import runtime

    settings_or_exit()
    rt = runtime()
    if is_seeded(rt.sessions):
        return ["demo data: already there (bookings seed adds it again)"]
    return [f"demo login: {email} / {password}" for email, password in seed(rt.sessions, rt.waker)]


def mail_destination(settings: Settings) -> str:
    """Where mail goes (never the relay's password), or that it is off."""
    if settings.smtp_url is None:
        return "off (SMTP_URL and MAIL_FROM turn it on: docs/mail.md)"
    return f"{Relay.parse(settings.smtp_url).shown()}, from {settings.mail_from}"


def _ready(url: str) -> bool:
    """/readyz is 200: the database, the broker and a worker on every shard answer."""
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as answer:  # noqa: S310 - http
            return bool(answer.status == HTTPStatus.OK)
    except (OSError, ValueError):
        return False


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def run_everything(port: int, host: str = "127.0.0.1") -> int:
    shown = "127.0.0.1" if host in {"0.0.0.0", "::"} else host  # noqa: S104
    shown = f"[{shown}]" if ":" in shown else shown  # an IPv6 literal, as URLs write it
    url = f"http://{shown}:{port}"
    try:
        folder = data_folder.hold(url)  # held until this process ends
    except data_folder.AlreadyUp as exc:
        click.echo(f"{exc}; stop it first, or run this one from another folder", err=True)
        return 2
    with folder:
        return _run_everything(port, host, url)


def _run_everything(port: int, host: str, url: str) -> int:
    if not port_is_free(host, port):
        click.echo(
            f"port {port} on {host} is taken (another bookings up, or another server); "
            f"choose another: PORT={port + 1} make run, or bookings up --port {port + 1}",
            err=True,
        )
        return 2
    os.environ.setdefault("BOOKINGS_ENV", "development")
    os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE", "true")  # the contract: local receivers
    # Absolute URLs (feeds) on the address it serves, unless the caller says otherwise.
    os.environ.setdefault("PUBLIC_URL", url)
    STATE_DIR.mkdir(exist_ok=True)
    failed = False
    stopping = False

    def on_signal(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    metrics = STATE_DIR / "metrics"
    shutil.rmtree(metrics, ignore_errors=True)  # counters restart with the processes
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics.resolve())
    metrics.mkdir()
    with ExitStack() as stack:
        start_embedded_services(stack)
        env_file = write_state_env()
        stack.callback(remove_state_env)
        click.echo(f"database: {make_url(os.environ['DATABASE_URL'])!r}")  # password hidden
        click.echo(f"redis:    {make_url(os.environ['REDIS_URL'])!r}")
        click.echo(f"servers: {env_file} (`. {env_file}` points a shell at them)")
        settings = settings_or_exit()
        click.echo(f"mail:     {mail_destination(settings)}")
        ensure_database(settings.database_url)
        click.echo("migrating…")
        upgrade_head(settings.database_url)
        demo = _seed_first_run()
        roles = {
            "api": api_argv(port, workers=2, threads=settings.api_threads, host=host)
            + granian_logging(settings.log_level),
            "worker": worker_argv(None, None),
            "webhooks": webhooks_argv(),
            "beat": beat_argv(str(STATE_DIR)),
        }
        children = [subprocess.Popen(argv, start_new_session=True) for argv in roles.values()]
        stack.callback(_stop, children)
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        click.echo("starting the API, the worker, the webhook sender and beat…")
        announced = False
        while not stopping:
            for name, child in zip(roles, children, strict=True):
                if child.poll() is not None:
                    click.echo(f"{name} exited with {child.returncode}; stopping", err=True)
                    stopping = failed = True
            if not announced and not stopping and _ready(url):
                announced = True  # once every role answers: the lines a person looks for
                for line in demo:
                    click.echo(line)
                click.echo(f"bookings is up at {url} (docs: {url}/docs; Ctrl-C stops all)")
            time.sleep(0.5)
        click.echo("stopping…")
    click.echo("stopped")
    return 1 if failed else 0
