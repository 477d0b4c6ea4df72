"""The worker process's settings, read once on first use (never at import). The app,
the heartbeat and the runtime all read them here, so none needs another to know them."""

from __future__ import annotations

from functools import cache

from models.settings import Settings, load_settings


@cache
def settings() -> Settings:
    return load_settings(require_secret=False)  # workers sign nothing
