"""Absolute URLs the API writes (feed URLs today; display and mail links later): on
PUBLIC_URL when it is set (production requires it), never on a request's Host header;
on the request's own host in development without it."""

from __future__ import annotations

from typing import Any

from flask import url_for

from api.context import services


def external_url(endpoint: str, **values: Any) -> str:
    base = services().settings.public_url
    if base is None:
        return url_for(endpoint, _external=True, **values)
    return base + url_for(endpoint, **values)
