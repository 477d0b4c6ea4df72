"""The HTML pages the API serves beside its JSON: the door display, the check-in page and
the utilization report.

Jinja2 templates in this folder, autoescaped. Everything a page shows is in the page
itself (its styles, its SVG): nothing comes from outside the server, and
api/security_headers.py allows exactly the inline styles each page carries.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

_templates = Environment(
    loader=PackageLoader("api", "pages"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_page(name: str, **context: Any) -> str:
    """The template `name` (e.g. "display.html") filled in with `context`."""
    return _templates.get_template(name).render(**context)
