"""Every table, imported once so Base.metadata knows them all (Alembic, tests)."""

from models.tables.audit import AuditEvent
from models.tables.base import Base
from models.tables.bookings import Booking, BookingSeries, Meeting, RoomClosure
from models.tables.displays import RoomDisplay
from models.tables.mail import Mail, MailKind, MailStatus
from models.tables.requests import BookingRequest
from models.tables.rooms import Room
from models.tables.tickets import Ticket, TicketStatus
from models.tables.users import ApiToken, Delegate, RevokedToken, User
from models.tables.webhooks import DeliveryStatus, Event, Webhook, WebhookDelivery

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Base",
    "Booking",
    "BookingRequest",
    "BookingSeries",
    "Delegate",
    "DeliveryStatus",
    "Event",
    "Mail",
    "MailKind",
    "MailStatus",
    "Meeting",
    "RevokedToken",
    "Room",
    "RoomClosure",
    "RoomDisplay",
    "Ticket",
    "TicketStatus",
    "User",
    "Webhook",
    "WebhookDelivery",
]
