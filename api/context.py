"""Per-app services and per-request state: settings, DB sessions, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, current_app, g
from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from models.settings import Settings

if TYPE_CHECKING:
    from api.queue import TaskSender
    from models.services.wakeups import BackgroundWaker
    from models.tables.users import User


@dataclass
class Services:
    settings: Settings
    sessions: sessionmaker[Session]
    redis: Redis
    sender: TaskSender
    waker: BackgroundWaker


def services() -> Services:
    svc: Services = current_app.extensions["bookings"]
    return svc


def db() -> Session:
    """The request's session (one per request, closed at teardown)."""
    if "db" not in g:
        g.db = services().sessions()
    session: Session = g.db
    return session


def current_user() -> User:
    user: User = g.user
    return user


def close_db(_: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def init_context(app: Flask, svc: Services) -> None:
    app.extensions["bookings"] = svc
    app.teardown_appcontext(close_db)


@contextmanager
def transaction() -> Iterator[Session]:
    """The request's session, committed on success and rolled back on any error."""
    session = db()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
