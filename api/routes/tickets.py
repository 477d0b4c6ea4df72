"""Tickets: users report problems with rooms; admins work them."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint

from api.auth import admin_only
from api.context import current_user, db, transaction
from api.schemas.common import page_of
from api.schemas.tickets import TicketInSchema, TicketPatchSchema, TicketQuery, TicketSchema
from models.pages import Page, page
from models.services import tickets as ticket_desk
from models.tables.tickets import Ticket

blp = Blueprint("tickets", __name__, url_prefix="/v1/tickets", description="Tickets")


@blp.route("", methods=["POST"])
@blp.arguments(TicketInSchema)
@blp.response(201, TicketSchema)
def create_ticket(body: dict[str, Any]) -> Ticket:
    """Open a ticket about a room or the service."""
    with transaction() as session:
        return ticket_desk.open_ticket(session, user=current_user(), fields=body)


@blp.route("", methods=["GET"])
@blp.arguments(TicketQuery, location="query")
@blp.response(200, page_of(TicketSchema))
def list_tickets(query: dict[str, Any]) -> Page[Ticket]:
    """The caller's tickets (an admin's: everyone's)."""
    stmt = ticket_desk.ticket_search(
        current_user(), status=query.get("status"), room_id=query.get("room_id")
    )
    return page(db(), stmt, limit=query["limit"], offset=query["offset"])


@blp.route("/<uuid:ticket_id>", methods=["GET"])
@blp.response(200, TicketSchema)
def get_ticket(ticket_id: uuid.UUID) -> Ticket:
    """One ticket."""
    return ticket_desk.visible_ticket(db(), ticket_id, current_user())


@blp.route("/<uuid:ticket_id>", methods=["PATCH"])
@admin_only
@blp.arguments(TicketPatchSchema)
@blp.response(200, TicketSchema)
def patch_ticket(body: dict[str, Any], ticket_id: uuid.UUID) -> Ticket:
    """Move a ticket to another status (admins)."""
    with transaction() as session:
        ticket = ticket_desk.visible_ticket(session, ticket_id, current_user(), for_update=True)
        return ticket_desk.move_ticket(session, ticket, body["status"])
