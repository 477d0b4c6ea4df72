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
    from api.auth_events import AuthListener
    from api.long_polls import WaitSlots
    from api.principals import PrincipalCache
    from api.queue import TaskSender
    from models.domain.identity import Principal
    from models.services.wakeups import BackgroundWaker


@dataclass
class Services:
    settings: Settings
    sessions: sessionmaker[Session]
    redis: Redis
    sender: TaskSender
    waker: BackgroundWaker
    principals: PrincipalCache
    auth_events: AuthListener
    wait_slots: WaitSlots


def services() -> Services:
    svc: Services = current_app.extensions["bookings"]
    return svc


def db() -> Session:
    """The request's session (one per request, closed at teardown)."""
    if "db" not in g:
        g.db = services().sessions()
    session: Session = g.db
    return session


def release_db() -> None:
    """End the request's transaction, if it has one, and hand its connection back."""
    session = g.get("db")
    if session is not None:
        session.rollback()


def current_user() -> Principal:
    """The authenticated caller: an id and a role (load the User row where more is needed)."""
    user: Principal = g.user
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
