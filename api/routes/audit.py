"""The audit trail, for admins."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from api.auth import admin_only
from api.context import db
from api.schemas.audit import AuditEventSchema, AuditQuery
from api.schemas.common import page_of
from models.pages import Page, page
from models.services.booking_queries import audit_search
from models.tables.audit import AuditEvent

blp = Blueprint("audit", __name__, url_prefix="/v1/audit", description="Audit trail")


@blp.route("", methods=["GET"])
@admin_only
@blp.arguments(AuditQuery, location="query")
@blp.response(200, page_of(AuditEventSchema))
def list_audit(query: dict[str, Any]) -> Page[AuditEvent]:
    """The audit trail, newest first (admins)."""
    stmt = audit_search(
        booking_id=query.get("booking_id"),
        room_id=query.get("room_id"),
        start=query.get("from_"),
        end=query.get("to"),
    )
    return page(db(), stmt, limit=query["limit"], offset=query["offset"])
