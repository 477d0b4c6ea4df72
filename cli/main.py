"""`bookings`: run the roles, migrate, make admins, run periodic jobs by hand."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from cli.roles import (
    api_argv,
    beat_argv,
    celery_worker_argv,
    granian_logging,
    settings_or_exit,
    share_metrics_dir,
    webhook_worker_argv,
)


@click.group()
@click.version_option(package_name="bookings", prog_name="bookings")
def main() -> None:
    """Room bookings: API, workers, beat and operations."""


@main.command()
def migrate() -> None:
    """Apply every migration (alembic upgrade head) to DATABASE_URL."""
    from cli.migrations import upgrade_head

    settings = settings_or_exit(require_secret=False)
    upgrade_head(settings.database_url)
    click.echo("database is at the latest migration")


@main.command()
def status() -> None:
    """Where the running `bookings up` of this folder is: URL, pid, servers."""
    from sqlalchemy.engine import make_url

    from cli import data_folder
    from models.state_env import state_env_urls

    found = data_folder.running()
    if found is None:
        click.echo("no bookings up is running in this folder (make run starts one)")
        sys.exit(1)
    pid, url = found
    click.echo(f"bookings is up at {url} (pid {pid}; docs: {url}/docs)")
    for name, value in state_env_urls().items():
        click.echo(f"{name}: {make_url(value)!r}")  # passwords hidden


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
    settings = settings_or_exit()  # refuse to start, saying why, before forking anything
    share_metrics_dir()
    argv = api_argv(port, workers=workers, threads=settings.api_threads, host=host)
    argv += granian_logging(settings.log_level, access_log=access_log)
    os.execv(sys.executable, argv)


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
    configure_logging(settings_or_exit(require_secret=False).log_level)
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
    configure_logging(settings_or_exit(require_secret=False).log_level)
    sys.exit(supervise(webhook_worker_argv(concurrency)))


@main.command()
@click.option("--schedule-dir", default=".bookings", show_default=True)
def beat(schedule_dir: str) -> None:
    """Run the periodic-job scheduler. Run exactly one (a second is harmless, but wasteful)."""
    os.execv(sys.executable, beat_argv(schedule_dir))


@main.command()
def tick() -> None:
    """Run every periodic job once, now."""
    share_metrics_dir()
    from worker.periodic import run_all

    settings_or_exit(require_secret=False)
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

    from models.services import accounts
    from models.tables.users import User
    from worker.runtime import runtime

    if len(password) < 8:
        raise click.BadParameter("at least 8 characters", param_hint="--password")
    settings = settings_or_exit(require_secret=False)
    with runtime().sessions.begin() as session:
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
    from worker.runtime import runtime

    settings_or_exit(require_secret=False)
    rt = runtime()
    logins = seed(rt.sessions, rt.waker)
    for email, password in logins:
        click.echo(f"login: {email} / {password}")


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "email", default=None, help="whose bookings (default: the first admin)")
def import_(file: Path, email: str | None) -> None:
    """Submit a CSV or JSON file of bookings as one batch; follow it until decided."""
    share_metrics_dir()  # before prometheus_client loads: the counts outlive this process
    from cli.importer import import_file
    from worker.runtime import runtime

    settings_or_exit(require_secret=False)
    rt = runtime()
    sys.exit(import_file(rt.sessions, rt.waker, file, email))


@main.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="the dump file [default: bookings-YYYYmmdd-HHMMSS.dump here]",
)
def backup(out: Path | None) -> None:
    """A full dump of DATABASE_URL (or of bookings up's embedded database), by the
    pg_dump of the server's major; custom format, for bookings restore or pg_restore."""
    from cli import backup as backups

    backups.backup(os.environ.get("DATABASE_URL"), out, pg_bin=os.environ.get("BOOKINGS_PG_BIN"))


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(file: Path) -> None:
    """Restore a dump into an empty database: DATABASE_URL's (made if missing), or bookings
    up's embedded one. A database with tables is refused (exit 2)."""
    from cli import backup as backups

    backups.restore(os.environ.get("DATABASE_URL"), file, pg_bin=os.environ.get("BOOKINGS_PG_BIN"))


@main.command()
@click.option("--from", "start", required=True, help="ISO 8601, with an offset")
@click.option("--to", "end", required=True, help="the same, at most 400 days after --from")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def report(start: str, end: str, out: Path) -> None:
    """Write the utilization report page (per room and per day, with charts) to a file."""
    from cli.report import write_report

    settings_or_exit(require_secret=False)
    write_report(start=start, end=end, out=out)


@main.command("webhook-listen")
@click.option("--secret", envvar="WEBHOOK_SECRET", required=True, help="the webhook's whsec_…")
@click.option("--port", default=9000, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--count", default=None, type=int, help="stop after this many events")
def webhook_listen(secret: str, port: int, host: str, count: int | None) -> None:
    """Receive webhooks here: print each verified event as a JSON line (answer 204); a
    forged or altered one is answered 401 and said on stderr."""
    from cli.webhook_listen import listen

    listen(host, port, secret, count)


@main.command()
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True, help="address the API listens on")
def up(port: int, host: str) -> None:
    """Everything on one machine: migrate, then API + worker + beat until Ctrl-C."""
    from cli.up import run_everything

    sys.exit(run_everything(port, host))
