"""The booking domain's closed sets: statuses, kinds, roles, task error codes. Plain
enums, no database.

The tables store them (models/tables/), the engine and the API speak them; they live
here so that the pure parts (models/domain/) import nothing from SQLAlchemy.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(enum.StrEnum):
    ADMIN = "ADMIN"
    USER = "USER"


class BookingStatus(enum.StrEnum):
    PENDING = "PENDING"  # waits for an approver; holds its slot
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


# The statuses that hold a slot: the exclusion constraint, the decider's calendar and
# availability all count both.
HOLDING = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


class MeetingState(enum.StrEnum):
    SCHEDULED = "SCHEDULED"
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"


class ConflictPolicy(enum.StrEnum):
    ALL_OR_NOTHING = "all_or_nothing"
    SKIP_CONFLICTS = "skip_conflicts"


class RequestKind(enum.StrEnum):
    BOOKING = "booking"  # one booking, in one room or in several at once
    SERIES = "series"
    BATCH = "batch"
    CANCEL = "cancel"  # a booking, a series from a time on, or a group
    CHANGE = "change"  # a booking's time, room or text, in place
    SERIES_CHANGE = "series_change"  # a series' occurrences from one on
    CLOSURE = "closure"  # close a room for a window
    APPROVAL = "approval"  # approve or decline a PENDING booking


class RequestStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    PROCESSING = "PROCESSING"
    WAITLISTED = "WAITLISTED"  # not final: decided again when the room frees a slot
    SUCCEEDED = "SUCCEEDED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"

    @property
    def finished(self) -> bool:
        return self in FINISHED

    @property
    def settled(self) -> bool:
        """Decided for now: finished, or WAITLISTED (what `?wait=` waits for)."""
        return self in FINISHED or self == RequestStatus.WAITLISTED


FINISHED = frozenset({RequestStatus.SUCCEEDED, RequestStatus.REJECTED, RequestStatus.FAILED})


class TaskErrorCode(enum.StrEnum):
    """A task's `error.code`: the rule that refused it (or keeps it waiting), or why it
    failed. The engine and housekeeping write them as plain strings;
    tests/unit/test_error_codes.py checks that each one they write is a member here."""

    CONFLICT = "CONFLICT"
    CAPACITY_EXCEEDED = "CAPACITY_EXCEEDED"
    ROOM_INACTIVE = "ROOM_INACTIVE"
    ROOM_CLOSED = "ROOM_CLOSED"
    DURATION_OUT_OF_POLICY = "DURATION_OUT_OF_POLICY"
    NOTICE_TOO_SHORT = "NOTICE_TOO_SHORT"
    BEYOND_HORIZON = "BEYOND_HORIZON"
    OUTSIDE_OPENING_HOURS = "OUTSIDE_OPENING_HOURS"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    NOT_FOUND = "NOT_FOUND"  # the booking went away before its request was decided
    NOT_CANCELLABLE = "NOT_CANCELLABLE"
    NOT_CHANGEABLE = "NOT_CHANGEABLE"
    NOT_PENDING = "NOT_PENDING"
    WAITLIST_EXPIRED = "WAITLIST_EXPIRED"
    WITHDRAWN = "WITHDRAWN"
    INTERNAL_ERROR = "INTERNAL_ERROR"  # FAILED: a fault, not a business outcome
