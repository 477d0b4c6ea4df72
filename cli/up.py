"""`bookings up`: migrate, then run API, worker and beat together; stop them all on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from types import FrameType

import click
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from cli.main import _settings_or_exit, beat_argv, gunicorn_argv, worker_argv
from cli.migrations import upgrade_head

STOP_GRACE_SECONDS = 15


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


def ensure_database(url: str) -> None:
    """Create the database of a local development setup if the server lacks it."""
    target = make_url(url)
    libpq = target.set(drivername="postgresql")
    try:
        psycopg.connect(libpq.render_as_string(hide_password=False), connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise click.ClickException(f"cannot reach the database: {exc}") from exc
        server = libpq.set(database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(target.database))))
        click.echo(f"created database {target.database}")


def run_everything(port: int) -> int:
    os.environ.setdefault("BOOKINGS_ENV", "development")
    settings = _settings_or_exit()
    ensure_database(settings.database_url)
    click.echo("migrating…")
    upgrade_head(settings.database_url)
    roles = {
        "api": gunicorn_argv(port, workers=2),
        "worker": worker_argv(None, None),
        "beat": beat_argv(".bookings"),
    }
    children = [subprocess.Popen(argv, start_new_session=True) for argv in roles.values()]
    stopping = False

    def on_signal(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    click.echo(f"bookings is up at http://127.0.0.1:{port} (Ctrl-C stops everything)")
    try:
        while not stopping:
            for name, child in zip(roles, children, strict=True):
                if child.poll() is not None:
                    click.echo(f"{name} exited with {child.returncode}; stopping", err=True)
                    stopping = True
            time.sleep(0.5)
    finally:
        click.echo("stopping…")
        _stop(children)
    click.echo("stopped")
    return 0
