"""Engine and session factory. Nothing connects until first use."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

import models.tables  # noqa: F401 - every mapper is registered before a session is used

_engines: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    """One pooled engine per URL; every connection speaks UTC."""
    engine = _engines.get(url)
    if engine is None:
        engine = create_engine(
            url,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=10,
            connect_args={"options": "-c timezone=UTC", "connect_timeout": 5},
        )
        _engines[url] = engine
    return engine


def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=engine_for(url), expire_on_commit=False)


def dispose_engines() -> None:
    """Forget pooled connections; after a fork none may be shared with the parent."""
    for engine in _engines.values():
        engine.dispose(close=False)
