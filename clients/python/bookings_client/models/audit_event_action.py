from enum import StrEnum


class AuditEventAction(StrEnum):
    BOOKING_APPROVAL_EXPIRED = "booking.approval_expired"
    BOOKING_APPROVED = "booking.approved"
    BOOKING_CANCELLED = "booking.cancelled"
    BOOKING_CHANGED = "booking.changed"
    BOOKING_CHECKED_IN = "booking.checked_in"
    BOOKING_CLOSED = "booking.closed"
    BOOKING_CREATED = "booking.created"
    BOOKING_DECLINED = "booking.declined"
    BOOKING_RELEASED = "booking.released"
    BOOKING_REQUESTED = "booking.requested"
    ROOM_CLOSED = "room.closed"
    ROOM_REOPENED = "room.reopened"

    def __str__(self) -> str:
        return str(self.value)
