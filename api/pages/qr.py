"""QR codes as inline SVG, drawn here by segno: no image to fetch, no script to run."""

from __future__ import annotations

import segno
from markupsafe import Markup

QUIET_ZONE = 4  # modules of white around the code, as the standard asks


def qr_svg(link: str) -> Markup:
    """The link as a QR code: an <svg> that scales to its box (viewBox, no size), black
    on its own white square, so it reads on any background."""
    code = segno.make(link, error="m")
    svg = code.svg_inline(scale=1, border=QUIET_ZONE, dark="#000", light="#fff", omitsize=True)
    return Markup(svg)  # noqa: S704 (segno's own markup; the link is in it as modules only)
