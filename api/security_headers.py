"""Security headers on every response.

- `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` and no framing, always;
- `Cache-Control: no-store` on everything under /v1: answers there are a user's own
  (bookings, tokens), and no proxy or browser may keep them. The calendar feeds alone
  say `private, max-age=300` (api/routes/feeds.py): a calendar application may keep
  its copy for the minutes between its fetches, a shared cache never;
- a Content-Security-Policy: nothing at all for the JSON API; for the /docs page, its
  own scripts and styles and the one inline script that starts Swagger UI, by hash; for
  the other HTML pages (door display, check-in, report: api/pages/), their own inline
  styles by hash and nothing else (no script, no image, no font, nothing from outside),
  and a form only where the page has one, sent to the server itself. They are not kept
  either (`no-store`): they show the state of the moment, and a display's URL is its key.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re

from flask import Flask, Response, request

API_CSP = "default-src 'none'; frame-ancestors 'none'"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)
_INLINE_STYLE = re.compile(rb"<style[^>]*>(.*?)</style>", re.DOTALL)


def docs_csp(page: bytes) -> str:
    """The docs page's policy, allowing exactly the inline scripts it carries."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def page_csp(page: bytes) -> str:
    """An HTML page's policy: exactly its inline <style> elements, by hash. A style inside
    an inline <svg> is hashed as the browser reads it, its character references decoded
    (pygal's charts write `&gt;`), so each style counts in both spellings."""
    styles = _INLINE_STYLE.findall(page)
    texts = {text for style in styles for text in (style, html.unescape(style.decode()).encode())}
    hashes = " ".join(sorted(_digest(text) for text in texts)) or "'none'"
    form = "'self'" if b"<form" in page else "'none'"
    return (
        f"default-src 'none'; style-src {hashes}; base-uri 'none'; form-action {form}; "
        "frame-ancestors 'none'"
    )


def _digest(text: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text).digest()).decode() + "'"


_ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def add_security_headers(response: Response) -> Response:
    """Each header the view did not set itself, added in one pass (no lookup per name)."""
    path = request.path
    headers = response.headers
    wanted = dict(_ALWAYS)
    html = response.mimetype == "text/html" and not response.direct_passthrough
    if path.startswith("/docs"):
        if html:
            headers["Content-Security-Policy"] = docs_csp(response.get_data())
    elif html:
        headers["Content-Security-Policy"] = page_csp(response.get_data())
        wanted["Cache-Control"] = "no-store"
    else:
        wanted["Content-Security-Policy"] = API_CSP
    if path.startswith("/v1/"):
        wanted["Cache-Control"] = "no-store"  # a calendar feed says its own
    present = {name.lower() for name, _ in headers.items()}
    headers.extend([(name, value) for name, value in wanted.items() if name.lower() not in present])
    return response


def init_security_headers(app: Flask) -> None:
    app.after_request(add_security_headers)
