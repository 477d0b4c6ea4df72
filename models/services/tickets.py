"""Facility tickets: anyone reports, admins move them along sensible transitions."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models.domain.identity import Viewer
from models.domain.states import utcnow
from models.errors import Conflict, NotFound
from models.services.room_catalog import get_room
from models.tables.tickets import Ticket, TicketStatus

S = TicketStatus
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.OPEN: frozenset({S.IN_PROGRESS, S.RESOLVED, S.CLOSED}),
    S.IN_PROGRESS: frozenset({S.OPEN, S.RESOLVED, S.CLOSED}),
    S.RESOLVED: frozenset({S.OPEN, S.IN_PROGRESS, S.CLOSED}),  # the fix did not hold
    S.CLOSED: frozenset(),  # final: a new problem is a new ticket
}


def open_ticket(session: Session, *, user: Viewer, fields: dict[str, Any]) -> Ticket:
    if fields.get("room_id") is not None:
        get_room(session, fields["room_id"])
    ticket = Ticket(created_by=user.id, status=TicketStatus.OPEN, **fields)
    session.add(ticket)
    session.flush()
    return ticket


def visible_ticket(
    session: Session, ticket_id: uuid.UUID, viewer: Viewer, *, for_update: bool = False
) -> Ticket:
    """The ticket if the viewer may see it. `for_update` locks its row until the
    transaction ends, so concurrent moves are decided one after the other against the
    status each finds (a CLOSED ticket stays closed; last writer does not win)."""
    ticket = session.get(
        Ticket, ticket_id, with_for_update=for_update, populate_existing=for_update
    )
    if ticket is None or not (viewer.is_admin or ticket.created_by == viewer.id):
        raise NotFound("no such ticket")
    return ticket


def move_ticket(session: Session, ticket: Ticket, status: TicketStatus) -> Ticket:
    if status == ticket.status:
        return ticket
    if status not in TRANSITIONS[ticket.status]:
        raise Conflict(
            f"a {ticket.status.value} ticket cannot become {status.value}",
            code="INVALID_TRANSITION",
            details={
                "from": ticket.status.value,
                "to": status.value,
                "allowed": sorted(s.value for s in TRANSITIONS[ticket.status]),
            },
        )
    ticket.status = status
    ticket.updated_at = utcnow()
    session.flush()
    return ticket


def ticket_search(
    viewer: Viewer, *, status: TicketStatus | None = None, room_id: uuid.UUID | None = None
) -> Select[Ticket]:
    stmt = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id)
    if not viewer.is_admin:
        stmt = stmt.where(Ticket.created_by == viewer.id)
    if status is not None:
        stmt = stmt.where(Ticket.status == status)
    if room_id is not None:
        stmt = stmt.where(Ticket.room_id == room_id)
    return stmt
