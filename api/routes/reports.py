"""The utilization report (admins): as JSON under /v1, and as a page with charts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Response
from flask_smorest import Blueprint

from api.auth import admin_only
from api.context import db
from api.pages.report_page import report_page
from api.schemas.reports import ReportQuery, UtilizationQuery, UtilizationSchema
from models.domain.states import utcnow
from models.services import reports

blp = Blueprint("reports", __name__, description="Reports")


@blp.route("/v1/reports/utilization", methods=["GET"])
@admin_only
@blp.arguments(UtilizationQuery, location="query")
@blp.response(200, UtilizationSchema)
def get_utilization_report(query: dict[str, Any]) -> dict[str, Any]:
    """How much of the rooms' open time was booked (admins), per room, day or week.

    Open time is each room's opening hours in its own time zone (the whole day without
    them); booked time, the confirmed bookings inside it; utilization, booked / open.
    The counts are of the bookings that start in the window."""
    usage = reports.utilization(db(), **query)
    return {"items": [{**asdict(u), "utilization": u.utilization} for u in usage]}


@blp.route("/reports/utilization", methods=["GET"])
@admin_only
@blp.arguments(ReportQuery, location="query")
@blp.response(
    200,
    {"type": "string"},
    description="An HTML page: utilization per room (bars) and per day (a line), drawn "
    "on the server as SVG, and a table of the figures",
    content_type="text/html",
)
def get_utilization_page(query: dict[str, Any]) -> Response:
    """The utilization report as a page with charts (admins, bearer token)."""
    page = report_page(db(), **query, made=utcnow())
    return Response(page, mimetype="text/html")
