"""What a caller asks for, as the accept service takes it: one command per kind of write.

The bodies are the API's, as its schemas loaded them (models/domain/booking_input.py),
so the HTTP views and `bookings import` hand over the same thing. Resolving a command
(whose booking, which rooms, which time zone) is the service's work, not the caller's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class NewBooking:
    """POST /v1/bookings: one room, or several at once (room_ids)."""

    body: dict[str, Any]


@dataclass(frozen=True)
class NewSeries:
    """POST /v1/bookings/recurring."""

    body: dict[str, Any]


@dataclass(frozen=True)
class NewBatch:
    """POST /v1/bookings/batch and `bookings import`: items as the API takes them
    (validated here, item by item)."""

    items: list[dict[str, Any]]
    file: str | None = None


@dataclass(frozen=True)
class ChangeBooking:
    """PATCH /v1/bookings/{id}."""

    booking_id: uuid.UUID
    body: dict[str, Any]


@dataclass(frozen=True)
class ChangeSeries:
    """PATCH /v1/series/{id}."""

    series_id: uuid.UUID
    body: dict[str, Any]


@dataclass(frozen=True)
class CancelBooking:
    booking_id: uuid.UUID
    reason: str | None = None


@dataclass(frozen=True)
class CancelSeries:
    series_id: uuid.UUID
    start_from: datetime | None = None


@dataclass(frozen=True)
class CancelGroup:
    """POST /v1/groups/{id}/cancel: every booking one several-rooms request made."""

    group_id: uuid.UUID
    reason: str | None = None


@dataclass(frozen=True)
class DecideApproval:
    booking_id: uuid.UUID
    approve: bool
    reason: str | None = None


@dataclass(frozen=True)
class CloseRoom:
    room_id: uuid.UUID
    start: datetime
    end: datetime
    reason: str | None = None


Write = (
    NewBooking
    | NewSeries
    | NewBatch
    | ChangeBooking
    | ChangeSeries
    | CancelBooking
    | CancelSeries
    | CancelGroup
    | DecideApproval
    | CloseRoom
)


@dataclass(frozen=True)
class Row:
    """One booking_requests row to store: its payload, its home room (where it is woken),
    every room it may touch, and the booking, series or group it changes."""

    payload: Any
    room_id: uuid.UUID | None
    rooms: frozenset[uuid.UUID] = field(default_factory=frozenset)
    subject_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Plan:
    """A write resolved: its task's row, and a batch's items."""

    parent: Row
    children: tuple[Row, ...] = ()
