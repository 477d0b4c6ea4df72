"""The report's charts, drawn on the server as SVG by pygal.

pygal writes plain SVG, styled by a <style> element of its own: a browser shows it as it
is, without JavaScript. Its interactive parts (a config <script> and the tooltip it
drives) are taken out, so the page runs no script at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree

import pygal
from markupsafe import Markup
from pygal.style import Style

STYLE = Style(
    font_family="sans-serif",
    background="#ffffff",
    plot_background="#ffffff",
    colors=("#2563eb",),
    title_font_size=18,
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=13,
)
SIZE = {"width": 900, "height": 360}


def _config() -> dict[str, object]:
    return {
        **SIZE,
        "style": STYLE,
        "js": [],
        "show_legend": False,
        "disable_xml_declaration": True,
        "range": (0, 1),
        "value_formatter": lambda share: "" if share is None else f"{share:.0%}",
        "print_values": False,
        "truncate_label": 24,
    }


def utilization_by_room(names: Sequence[str], shares: Sequence[float | None]) -> Markup:
    """A bar per room: the share of its open time that was booked."""
    chart = pygal.Bar(**_config(), title="Utilization per room", x_label_rotation=20)
    chart.x_labels = list(names)
    chart.add("utilization", list(shares))
    return _static(chart)


def utilization_by_day(days: Sequence[str], shares: Sequence[float | None]) -> Markup:
    """A line over the days: the share of the rooms' open time that was booked."""
    chart = pygal.Line(
        **_config(),
        title="Utilization per day",
        x_label_rotation=30,
        show_minor_x_labels=False,
        x_labels_major_every=max(1, len(days) // 12),
        allow_interruptions=True,  # a day no room was open has no value: a gap
    )
    chart.x_labels = list(days)
    chart.add("utilization", list(shares))
    return _static(chart)


def _static(chart: pygal.graph.graph.Graph) -> Markup:
    """The chart's SVG without its script, its tooltip (which only a script shows) and
    its comments."""
    root = chart.render_tree()
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag if isinstance(child.tag, str) else ""
            if not tag or tag.endswith("script") or child.get("class") == "tooltip":
                parent.remove(child)
    svg = ElementTree.tostring(root, encoding="unicode")
    return Markup(svg)  # noqa: S704 (pygal's own markup; the labels in it are escaped)
