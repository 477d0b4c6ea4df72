"""Resolving a write into the rows to store: who may, which rooms, which time zone, which
occurrences; every synchronous check (404, 403, 422) happens here, before anything is
stored.

A request that changes a booking, a series or a group (its *subject*) is queued in every
room its subject may be in when it is decided: the rooms its bookings are in now, and
those the subject's requests still queued may move them to. So it is decided after
each of those, in each room's order, whoever moves what first.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.domain.booking_input import batch_payloads, booking_payload, series_payload
from models.domain.identity import Viewer
from models.domain.payloads import (
    TEXT_FIELDS,
    ApprovalPayload,
    BatchPayload,
    BookingPayload,
    CancelPayload,
    ChangePayload,
    ClosurePayload,
    GroupCancelPayload,
    SeriesCancelPayload,
    SeriesChangePayload,
    SeriesPayload,
)
from models.domain.rules import HORIZON, MAX_DURATION, PAST_GRACE
from models.domain.states import HOLDING, ConflictPolicy, RequestStatus
from models.errors import NotFound, ValidationFailed
from models.services.accept.writes import (
    CancelBooking,
    CancelGroup,
    CancelSeries,
    ChangeBooking,
    ChangeSeries,
    DecideApproval,
    NewBatch,
    NewBooking,
    NewSeries,
    Plan,
    Row,
    Write,
)
from models.services.booking_queries import approvable_booking, visible_booking, visible_series
from models.services.delegates import check_on_behalf
from models.services.room_catalog import get_room, room_zones
from models.tables.bookings import Booking, BookingSeries
from models.tables.requests import BookingRequest
from models.tables.rooms import Room


def plan_write(session: Session, caller: Viewer, write: Write, now: datetime) -> Plan:
    """The rows a write stores; raises NotFound, Forbidden or ValidationFailed."""
    if isinstance(write, NewBooking | NewSeries):
        return Plan(new_row(session, caller, _payload(session, write, now)))
    if isinstance(write, NewBatch):
        return _batch(session, caller, write, now)
    if isinstance(write, ChangeBooking):
        return Plan(_change(session, caller, write, now))
    if isinstance(write, ChangeSeries):
        return Plan(_series_change(session, caller, write, now))
    if isinstance(write, CancelBooking):
        booking = visible_booking(session, write.booking_id, caller)
        payload = CancelPayload(booking.room_id, booking.id, write.reason)
        return Plan(subject_row(session, payload, booking.room_id, root_of(booking)))
    if isinstance(write, CancelSeries):
        series = visible_series(session, write.series_id, caller)
        cut = SeriesCancelPayload(series.room_id, series.id, write.start_from)
        return Plan(subject_row(session, cut, series.room_id, series.id))
    if isinstance(write, CancelGroup):
        first = _group(session, write.group_id, caller)
        group_payload = GroupCancelPayload(first.room_id, write.group_id, write.reason)
        return Plan(subject_row(session, group_payload, first.room_id, root_of(first)))
    if isinstance(write, DecideApproval):
        booking = approvable_booking(session, write.booking_id, caller)
        approval = ApprovalPayload(booking.room_id, booking.id, write.approve, write.reason)
        return Plan(subject_row(session, approval, booking.room_id, root_of(booking)))
    get_room(session, write.room_id)
    closure = ClosurePayload(write.room_id, write.start, write.end, write.reason)
    return Plan(Row(closure, write.room_id, frozenset({write.room_id})))


def dry_run_payload(
    session: Session, caller: Viewer, body: dict[str, Any], now: datetime
) -> BookingPayload | SeriesPayload:
    """The payload POST /v1/bookings/check asks about, resolved as a write would be."""
    write = NewSeries(body) if "recurrence" in body else NewBooking(body)
    payload = _payload(session, write, now)
    check_on_behalf(session, caller, [_organizer(payload)])
    _rooms_exist(session, _booking_of(payload).rooms)
    return payload


def _payload(
    session: Session, write: NewBooking | NewSeries, now: datetime
) -> BookingPayload | SeriesPayload:
    if isinstance(write, NewBooking):
        return booking_payload(write.body, now=now)
    rooms = write.body.get("room_ids") or [write.body["room_id"]]
    zone = get_room(session, rooms[0]).timezone
    return series_payload(write.body, room_timezone=zone, now=now)


def _booking_of(payload: BookingPayload | SeriesPayload) -> BookingPayload:
    return payload.booking if isinstance(payload, SeriesPayload) else payload


def _organizer(payload: BookingPayload | SeriesPayload) -> uuid.UUID | None:
    return _booking_of(payload).organizer_id


def new_row(session: Session, caller: Viewer, payload: BookingPayload | SeriesPayload) -> Row:
    """A new booking's or series' row; the organizer's rights checked, several rooms
    known to exist (one room is checked by its foreign key)."""
    check_on_behalf(session, caller, [_organizer(payload)])
    rooms = _booking_of(payload).rooms
    if len(rooms) > 1:
        _rooms_exist(session, rooms)
    return Row(payload, rooms[0], frozenset(rooms))


def _rooms_exist(session: Session, rooms: Iterable[uuid.UUID]) -> None:
    wanted = set(rooms)
    known = set(session.scalars(select(Room.id).where(Room.id.in_(wanted))))
    if wanted - known:
        missing = sorted(str(r) for r in wanted - known)
        raise NotFound("no such room", details={"room_id": missing})


def _batch(session: Session, caller: Viewer, write: NewBatch, now: datetime) -> Plan:
    zones = lambda ids: room_zones(session, ids)  # noqa: E731
    items = batch_payloads(write.items, zones, now=now)
    check_on_behalf(session, caller, [_organizer(p) for p in items])
    several = {r for p in items for r in _booking_of(p).rooms if len(_booking_of(p).rooms) > 1}
    if several:
        _rooms_exist(session, several)
    children = tuple(
        Row(p, _booking_of(p).rooms[0], frozenset(_booking_of(p).rooms)) for p in items
    )
    return Plan(Row(BatchPayload(len(items), write.file), None), children)


def root_of(booking: Booking) -> uuid.UUID:
    """The subject a booking's requests share: its series, or its group, or itself."""
    return booking.series_id or booking.group_id or booking.id


def subject_row(
    session: Session,
    payload: Any,
    room_id: uuid.UUID,
    subject_id: uuid.UUID,
    also: Iterable[uuid.UUID] = (),
) -> Row:
    """A row on a subject, queued where the subject may be (see the module's doc)."""
    rooms = footprint(session, subject_id) | {room_id, *also}
    return Row(payload, room_id, frozenset(rooms), subject_id)


def footprint(session: Session, subject_id: uuid.UUID) -> set[uuid.UUID]:
    """Every room the subject's bookings are in, and every room its QUEUED requests name."""
    booked = select(Booking.room_id).where(
        or_(
            Booking.id == subject_id,
            Booking.series_id == subject_id,
            Booking.group_id == subject_id,
        )
    )
    queued = select(BookingRequest.room_id, BookingRequest.rooms).where(
        BookingRequest.status == RequestStatus.QUEUED, BookingRequest.subject_id == subject_id
    )
    rooms: set[uuid.UUID | None] = set(session.scalars(booked))
    for room_id, named in session.execute(queued):
        rooms |= {room_id, *(named or ())}
    return {room for room in rooms if room is not None}


def _group(session: Session, group_id: uuid.UUID, caller: Viewer) -> Booking:
    """The group's first booking, if the caller may see the group; 404 otherwise."""
    found = session.scalars(
        select(Booking).where(Booking.group_id == group_id).order_by(Booking.room_id)
    ).first()
    if found is None:
        raise NotFound("no such group")
    visible_booking(session, found.id, caller)  # the same rights on each booking of a group
    return found


def _check_times(
    start: datetime | None, end: datetime | None, base: tuple[datetime, datetime], now: datetime
) -> None:
    """The window a change asks for makes sense on its own; ValidationFailed names each
    field it breaks (what the booking's state allows is the decider's to say)."""
    errors: dict[str, list[str]] = {}
    new_start, new_end = start or base[0], end or base[1]
    if start is not None and start < now - PAST_GRACE:
        errors["start_time"] = ["must not be in the past"]
    elif start is not None and start > now + HORIZON:
        errors["start_time"] = ["must be within 365 days from now"]
    if end is not None and end < now - PAST_GRACE:
        errors["end_time"] = ["must not be in the past"]
    elif new_end <= new_start:
        errors["end_time"] = ["must be after start_time"]
    elif new_end - new_start > MAX_DURATION:
        errors["end_time"] = ["a booking lasts at most 24 hours"]
    if errors:
        raise ValidationFailed("invalid booking window", details=errors)


def _text(body: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if k == "attendees" else v for k, v in body.items() if k in TEXT_FIELDS}


def _change(session: Session, caller: Viewer, write: ChangeBooking, now: datetime) -> Row:
    booking = visible_booking(session, write.booking_id, caller)
    body = write.body
    start = body["start_time"].astimezone(UTC) if "start_time" in body else None
    end = body["end_time"].astimezone(UTC) if "end_time" in body else None
    _check_times(start, end, (booking.start_time, booking.end_time), now)
    room_id = body.get("room_id")
    if room_id is not None and room_id != booking.room_id:
        get_room(session, room_id)
        if booking.group_id is not None:
            taken = session.scalar(
                select(Booking.id).where(
                    Booking.group_id == booking.group_id,
                    Booking.room_id == room_id,
                    Booking.status.in_(HOLDING),
                )
            )
            if taken is not None:
                raise ValidationFailed(
                    "the group already books that room",
                    details={"room_id": ["the group already books this room"]},
                )
    target = room_id or booking.room_id
    payload = ChangePayload(
        target,
        booking.id,
        start,
        end,
        room_id if room_id != booking.room_id else None,
        _text(body),
        booking.group_id,
    )
    return subject_row(session, payload, target, root_of(booking), also=[booking.room_id])


def _series_change(session: Session, caller: Viewer, write: ChangeSeries, now: datetime) -> Row:
    series = visible_series(session, write.series_id, caller)
    body = write.body
    starts = _occurrence_starts(session, series)
    start_from = body.get("from_")
    if start_from is not None:
        start_from = start_from.astimezone(UTC)
        if start_from not in starts:
            raise ValidationFailed(
                "from is not an occurrence of the series",
                details={"from": ["must be the start of one of the series' occurrences"]},
            )
    else:
        start_from = next((s for s in sorted(starts) if s >= now), None)
        if start_from is None:
            raise ValidationFailed(
                "the series has no occurrence left to change",
                details={"from": ["no occurrence of the series starts from now on"]},
            )
    room_id = body.get("room_id")
    if room_id is not None:
        get_room(session, room_id)
        grouped = session.scalar(
            select(Booking.id).where(Booking.series_id == series.id, Booking.group_id.is_not(None))
        )
        if grouped is not None:
            raise ValidationFailed(
                "a series that books several rooms at once cannot move to one room",
                details={"room_id": ["the series books several rooms at once"]},
            )
    payload = SeriesChangePayload(
        room_id or series.room_id,
        series.id,
        start_from,
        series.timezone,
        ConflictPolicy(body["conflict_policy"]),
        body.get("shift_minutes") or 0,
        body.get("duration_minutes"),
        room_id,
        _text(body),
    )
    home = room_id or series.room_id
    return subject_row(session, payload, home, series.id, also=[series.room_id])


def _occurrence_starts(session: Session, series: BookingSeries) -> set[datetime]:
    """Where the series' occurrences start now (a moved one where it went)."""
    starts = session.scalars(select(Booking.start_time).where(Booking.series_id == series.id))
    return {s.astimezone(UTC) for s in starts}
