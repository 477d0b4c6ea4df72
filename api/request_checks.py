"""Checks every request passes before a view sees it: size, media type, storable text."""

from __future__ import annotations

from flask import Flask, request

from api.errors import PayloadTooLarge, UnsupportedMediaType
from models.errors import ValidationFailed

MAX_BODY_BYTES = 2 * 1024 * 1024  # a 1000-item batch fits with room to spare


def check_body() -> None:
    """Refuse oversized bodies before reading them, and bodies that are not JSON."""
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding")
    if has_body and not request.is_json:
        raise UnsupportedMediaType("send the body as application/json")


def check_text() -> None:
    """Refuse text Postgres cannot store (NUL) or UTF-8 cannot encode (lone surrogates)."""
    bad = [name for name, value in request.args.items(multi=True) if not storable(value)]
    if request.is_json and request.content_length:
        body = request.get_json(silent=True)
        if body is not None and not _storable_tree(body):
            bad.append("body")
    if bad:
        raise ValidationFailed(
            "text must not contain NUL characters or unpaired surrogates",
            details={name: ["contains a NUL character or an unpaired surrogate"] for name in bad},
        )


def storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _storable_tree(value: object) -> bool:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return all(_storable_tree(k) and _storable_tree(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable_tree(v) for v in value)
    return True


def init_request_checks(app: Flask) -> None:
    app.before_request(check_body)
    app.before_request(check_text)
