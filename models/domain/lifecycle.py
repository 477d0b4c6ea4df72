"""A booking's lifecycle in one table: which event moves which state where, and its audit name.

The room's decider (confirm, cancel) and housekeeping (release, end) both follow it, as
tickets follow theirs; nothing else sets a booking's or a meeting's state.
"""

from __future__ import annotations

import enum

from models.domain.states import BookingStatus, MeetingState


class BookingEvent(enum.StrEnum):
    CONFIRM = "confirm"  # a request is decided in its favour
    REQUEST = "request"  # ... in a room that requires approval: the booking is PENDING
    APPROVE = "approve"  # an approver (or an admin) accepts a PENDING booking
    DECLINE = "decline"  # ... or refuses it
    EXPIRE = "expire"  # nobody decided a PENDING booking before its start
    CANCEL = "cancel"  # its organizer (or an admin) cancels it
    RELEASE = "release"  # nobody checked in within the room's auto-release minutes
    CLOSE = "close"  # the room is closed over it
    CHANGE = "change"  # its window, room or text changes in place (PENDING stays held)


class MeetingEvent(enum.StrEnum):
    CHECK_IN = "check_in"
    END = "end"  # the booking ended or was cancelled


# (state before, event) -> state after. None before CONFIRM: the booking is new.
BOOKING_TRANSITIONS: dict[tuple[BookingStatus | None, BookingEvent], BookingStatus] = {
    (None, BookingEvent.CONFIRM): BookingStatus.CONFIRMED,
    (None, BookingEvent.REQUEST): BookingStatus.PENDING,
    (BookingStatus.PENDING, BookingEvent.APPROVE): BookingStatus.CONFIRMED,
    (BookingStatus.PENDING, BookingEvent.DECLINE): BookingStatus.CANCELLED,
    (BookingStatus.PENDING, BookingEvent.EXPIRE): BookingStatus.CANCELLED,
    (BookingStatus.PENDING, BookingEvent.CANCEL): BookingStatus.CANCELLED,
    (BookingStatus.PENDING, BookingEvent.CLOSE): BookingStatus.CANCELLED,
    (BookingStatus.CONFIRMED, BookingEvent.CANCEL): BookingStatus.CANCELLED,
    (BookingStatus.CONFIRMED, BookingEvent.RELEASE): BookingStatus.CANCELLED,
    (BookingStatus.CONFIRMED, BookingEvent.CLOSE): BookingStatus.CANCELLED,
    # A change keeps the booking held; the engine says which of the two it ends in (a
    # move into a room that requires approval makes it PENDING, out of one CONFIRMED).
    (BookingStatus.PENDING, BookingEvent.CHANGE): BookingStatus.PENDING,
    (BookingStatus.CONFIRMED, BookingEvent.CHANGE): BookingStatus.CONFIRMED,
}

MEETING_TRANSITIONS: dict[tuple[MeetingState, MeetingEvent], MeetingState] = {
    (MeetingState.SCHEDULED, MeetingEvent.CHECK_IN): MeetingState.ACTIVE,
    (MeetingState.ACTIVE, MeetingEvent.CHECK_IN): MeetingState.ACTIVE,  # idempotent
    (MeetingState.SCHEDULED, MeetingEvent.END): MeetingState.ENDED,
    (MeetingState.ACTIVE, MeetingEvent.END): MeetingState.ENDED,
}

# The audit log's name for each event.
AUDIT_ACTIONS: dict[BookingEvent | MeetingEvent, str] = {
    BookingEvent.CONFIRM: "booking.created",
    BookingEvent.REQUEST: "booking.requested",
    BookingEvent.APPROVE: "booking.approved",
    BookingEvent.DECLINE: "booking.declined",
    BookingEvent.EXPIRE: "booking.approval_expired",
    BookingEvent.CANCEL: "booking.cancelled",
    BookingEvent.RELEASE: "booking.released",
    BookingEvent.CLOSE: "booking.closed",
    BookingEvent.CHANGE: "booking.changed",
    MeetingEvent.CHECK_IN: "booking.checked_in",
}


def booking_after(status: BookingStatus | None, event: BookingEvent) -> BookingStatus | None:
    """The booking's state after the event, or None when the event is not allowed."""
    return BOOKING_TRANSITIONS.get((status, event))


def meeting_after(state: MeetingState, event: MeetingEvent) -> MeetingState | None:
    return MEETING_TRANSITIONS.get((state, event))
