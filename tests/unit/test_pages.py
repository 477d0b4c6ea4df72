"""The HTML pages' parts that need no server: the charts (static SVG, no script), the QR
code, the templates' escaping and the policy that allows exactly a page's own styles."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime

from api.pages import render_page
from api.pages.charts import utilization_by_day, utilization_by_room
from api.pages.qr import qr_svg
from api.security_headers import page_csp


def digest(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_the_charts_are_svg_without_a_script_and_escape_their_labels() -> None:
    bars = utilization_by_room(["Atlas", "<b>Hudson</b>"], [0.25, None])
    line = utilization_by_day(["2027-03-01", "2027-03-02", "2027-03-03"], [0.1, None, 0.5])

    for chart in (bars, line):
        assert chart.startswith("<svg") and 'class="pygal-chart"' in chart
        assert not re.search(r"<script|<!--|class=\"tooltip\"|\b(src|href)=", chart)
    assert "&lt;b&gt;Hudson&lt;/b&gt;" in bars and "<b>" not in bars
    assert "25%" in bars and "50%" in line  # the axis in percent


def test_the_qr_code_is_inline_svg_that_scales() -> None:
    code = qr_svg("https://rooms.example.com/checkin/ABC123")

    assert code.startswith("<svg") and "viewBox" in code and "width=" not in code
    assert "ABC123" not in code  # the link is in it as modules only


def test_a_pages_policy_allows_its_own_styles_and_a_form_only_when_it_has_one() -> None:
    css = "p { color: red }"
    svg_css = "#c .graph > .bg { fill: #fff }"  # pygal's, which XML writes with &gt;
    page = (
        f"<html><head><style>{css}</style></head><body>"
        f"<svg><style>{svg_css.replace('>', '&gt;')}</style></svg></body></html>"
    )

    policy = page_csp(page.encode())

    assert policy.startswith("default-src 'none'; style-src ")
    assert digest(css) in policy and digest(svg_css) in policy  # as the browser reads it
    assert "form-action 'none'" in policy and "unsafe" not in policy
    assert "form-action 'self'" in page_csp(b"<form method='post'></form>")
    assert "style-src 'none'" in page_csp(b"<p>plain</p>")


def test_the_check_in_page_escapes_what_it_shows() -> None:
    start = datetime(2027, 3, 1, 9, tzinfo=UTC)
    html = render_page(
        "checkin.html",
        show_form=True,
        room_name="<script>x</script>",
        start=start,
        end=start.replace(hour=10),
        message="",
        tone="",
    )

    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "Booked 09:00–10:00" in html  # noqa: RUF001 (the page's own en dash)
