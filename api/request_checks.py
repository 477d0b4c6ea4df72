"""Checks every request passes before a view sees it: size, media type, storable text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Request, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from api.errors import HeadersTooLarge, PayloadTooLarge, UnsupportedMediaType, UriTooLong
from models.errors import DomainError, NotFound, ValidationFailed

MAX_BODY_BYTES = 2 * 1024 * 1024  # a 1000-item batch fits with room to spare
# No body of the contract nests deeper than 4 (a batch's item's recurrence's list);
# 32 leaves room and keeps every walk over a body (ours, marshmallow's) shallow.
MAX_JSON_DEPTH = 32
# Far below the HTTP server's own limits (hyper: a 64 KiB URI, 100 headers, which it
# refuses with an empty 414 / 431), so whatever a client can send that is too long gets
# the JSON error shape from here.
MAX_URI_BYTES = 8 * 1024
MAX_HEADER_BYTES = 32 * 1024
MAX_HEADERS = 64
FORM = "application/x-www-form-urlencoded"
F = TypeVar("F", bound=Callable[..., Any])


def check_head() -> None:
    """Refuse absurd request lines and header sets before anything else reads them.
    Counted from the WSGI environ itself, in one pass: werkzeug's header view walks the
    whole environ (which granian fills with the process's environment too) per use."""
    environ = request.environ
    uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if uri is None:  # the bytes of the request target, as WSGI hands them over
        uri_bytes = len(environ.get("SCRIPT_NAME", "")) + len(environ.get("PATH_INFO", ""))
        query = environ.get("QUERY_STRING", "")
        uri_bytes += len(query) + 1 if query else 0
    else:
        uri_bytes = len(uri)
    if uri_bytes > MAX_URI_BYTES:
        raise UriTooLong(f"the URI is longer than {MAX_URI_BYTES} bytes")
    count, size = _header_fields(environ)
    if count > MAX_HEADERS:
        raise HeadersTooLarge(f"more than {MAX_HEADERS} header fields")
    if size > MAX_HEADER_BYTES:
        raise HeadersTooLarge(f"the header fields add up to more than {MAX_HEADER_BYTES} bytes")


_BODY_FIELDS = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})
_NOT_HEADERS = frozenset({"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"})


def _header_fields(environ: dict[str, Any]) -> tuple[int, int]:
    """How many header fields and their names' and values' length, as werkzeug's
    EnvironHeaders lists them (HTTP_X_Y is "X-Y": its name is 5 shorter than its key)."""
    count = size = 0
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            if key not in _NOT_HEADERS:
                count += 1
                size += len(key) - 5 + len(value)
        elif key in _BODY_FIELDS and value:
            count += 1
            size += len(key) + len(value)
    return count, size


def check_body() -> None:
    """Refuse oversized bodies before reading them, and bodies that are not JSON."""
    req = request._get_current_object()  # type: ignore[attr-defined]
    if req.method not in {"POST", "PUT", "PATCH"}:
        return
    length = req.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
    chunked = length is None and req.environ.get("HTTP_TRANSFER_ENCODING")
    has_body = bool(length) or chunked
    if req.routing_exception is not None:
        pass  # no such route or method: its 404 or 405 says more than a media type would
    elif _takes_form(req):
        if has_body and req.mimetype != FORM:
            raise UnsupportedMediaType(f"send the body as a form ({FORM})")
    elif has_body and not req.is_json:
        raise UnsupportedMediaType("send the body as application/json")
    if chunked:
        # No length to refuse up front: read it, bounded. werkzeug stops reading at
        # MAX_CONTENT_LENGTH without saying whether more was sent, so a chunked body
        # that fills the limit is taken as over it.
        try:
            size = len(req.get_data(cache=True))
        except RequestEntityTooLarge:
            size = MAX_BODY_BYTES
        if size >= MAX_BODY_BYTES:
            raise PayloadTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")


def takes_form(view: F) -> F:
    """Mark a view whose body is a form (a page's, sent by a browser), not JSON."""
    view.takes_form = True  # type: ignore[attr-defined]
    return view


def _takes_form(req: Request) -> bool:
    view = current_app.view_functions.get(req.endpoint or "")
    return bool(getattr(view, "takes_form", False))


def check_text() -> None:
    """Refuse a path with a NUL (or an unpaired surrogate: it names nothing that can
    exist); then text Postgres cannot store (NUL) or UTF-8 cannot encode (lone
    surrogates), and bodies nested deeper than MAX_JSON_DEPTH. Chunked bodies too: they
    have no Content-Length."""
    req = request._get_current_object()  # type: ignore[attr-defined]
    if not storable(req.path):
        raise NotFound("no such resource")
    bad = [name for name, value in req.args.items(multi=True) if not storable(value)]
    if _takes_form(req):
        bad += [name for name, value in req.form.items(multi=True) if not storable(value)]
    if req.is_json and (req.content_length or req.environ.get("HTTP_TRANSFER_ENCODING")):
        try:
            body = req.get_json(silent=True)
        except RecursionError as exc:  # json itself gives up past ~1000 levels
            raise DomainError(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels") from exc
        problem = None if body is None or _plainly_fine(req.get_data()) else _text_problem(body)
        if problem == "depth":
            raise ValidationFailed(
                f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels",
                details={"body": [f"nested deeper than {MAX_JSON_DEPTH} levels"]},
            )
        if problem == "text":
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


def _plainly_fine(raw: bytes) -> bool:
    """A body whose bytes show it needs no walk: ASCII (no UTF-8-encoded surrogate, which
    the json module lets through), no escape that could make a NUL or a surrogate, and
    too few brackets to nest past the limit. Most bodies; the rest are walked."""
    return (
        raw.isascii() and b"\\u" not in raw and raw.count(b"{") + raw.count(b"[") <= MAX_JSON_DEPTH
    )


def _text_problem(body: object) -> str | None:
    """ "depth", "text" (a string that cannot be stored) or None; a walk without
    recursion, so no body can exhaust the stack here."""
    todo: list[tuple[object, int]] = [(body, 1)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, str):
            if not storable(value):
                return "text"
        elif isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                return "depth"
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                todo.append((item, depth + 1))
                if isinstance(key, str):
                    todo.append((key, depth + 1))
    return None


def init_request_checks(app: Flask) -> None:
    """Size and media type, before anything reads the body. The text checks come later
    (init_text_checks, after authentication): an anonymous caller gets 401 first."""
    app.before_request(check_head)
    app.before_request(check_body)


def init_text_checks(app: Flask) -> None:
    app.before_request(check_text)
