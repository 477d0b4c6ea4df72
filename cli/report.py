"""`bookings report`: the utilization report page, as GET /reports/utilization serves it,
written to a file (to mail, to archive, to open without a token)."""

from __future__ import annotations

from pathlib import Path

import click
from marshmallow import ValidationError

from api.pages.report_page import report_page
from api.schemas.reports import ReportQuery
from models.domain.states import utcnow
from worker.runtime import runtime


def write_report(*, start: str, end: str, out: Path) -> None:
    """The page for [start, end) over every active room, written to `out`; the window is
    checked as the API checks it (ISO 8601 with an offset, at most 400 days)."""
    try:
        window = ReportQuery().load({"from": start, "to": end})
    except ValidationError as exc:
        problems = "; ".join(
            f"--{name}: {' '.join(map(str, why))}"
            for name, why in exc.normalized_messages().items()
        )
        raise click.UsageError(problems) from exc
    with runtime().sessions() as session:
        page = report_page(session, start=window["start"], end=window["end"], made=utcnow())
    out.write_text(page, encoding="utf-8")
    click.echo(f"wrote {out}")
