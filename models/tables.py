"""Every table, imported once so Base.metadata knows them all (Alembic, tests)."""

from models.audit import AuditEvent
from models.base import Base
from models.booking_request import BookingRequest, RequestKind, RequestStatus
from models.bookings import Booking, BookingSeries, BookingStatus, Meeting, MeetingState
from models.rooms import Room
from models.tickets import Ticket, TicketStatus
from models.users import Role, User

__all__ = [
    "AuditEvent",
    "Base",
    "Booking",
    "BookingRequest",
    "BookingSeries",
    "BookingStatus",
    "Meeting",
    "MeetingState",
    "RequestKind",
    "RequestStatus",
    "Role",
    "Room",
    "Ticket",
    "TicketStatus",
    "User",
]
