"""Booking bodies as clients send them, validated and turned into typed payloads.

The HTTP API (POST /v1/bookings, /recurring, /batch) and `bookings import` read the same
bodies, so both use these schemas and functions. A series is expanded here, at
acceptance, so a bad rule is a synchronous 422 and the decider reads stored occurrences.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from models.domain.payloads import BookingPayload, RoomPayload, SeriesPayload
from models.domain.recurrence import expand_occurrences
from models.domain.rules import (
    MAX_OCCURRENCES,
    MAX_REQUEST_OCCURRENCES,
    MAX_ROOMS,
    check_window,
)
from models.domain.states import ConflictPolicy
from models.errors import ValidationFailed

# A series change moves its occurrences by at most a year (the booking horizon).
MAX_SHIFT_MINUTES = 366 * 24 * 60

# Characters that show nothing: a title made of them alone is as blank as an empty one.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


# Every time the API reads lies in this range, so no arithmetic on it (a buffer, a day,
# a shift, a series' next occurrence, a time zone's offset) leaves Python's datetime.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 1, tzinfo=UTC)


class AwareTime(fields.AwareDateTime):
    """An ISO 8601 time with an offset, from 1970 to 9999; one without an offset says how
    to fix it, and one out of range says the range."""

    default_error_messages = {  # noqa: RUF012 (marshmallow merges it with its parents')
        "invalid_awareness": "add an offset such as Z or +01:00 (a time without one is ambiguous)",
        "out_of_range": "out of the supported range, 1970-01-01T00:00:00Z to 9999-12-01T00:00:00Z",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        parsed: datetime = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST <= parsed <= LATEST:
            raise self.make_error("out_of_range")
        return parsed


class Trimmed(fields.Str):
    """A string without surrounding whitespace or invisible characters, so a blank value
    (spaces, U+200B, U+FEFF, ...) fails Length(1, …)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = str(super()._deserialize(value, attr, data, **kwargs))
        while text != (trimmed := text.strip().strip(INVISIBLE)):
            text = trimmed
        return text


class OneLine(Trimmed):
    """A Trimmed string on one line: no control characters (a line break in an attendee
    would end the iCalendar line it is written on) nor line or paragraph separators."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if any(unicodedata.category(ch) in {"Cc", "Zl", "Zp"} for ch in text):
            raise ValidationError("must be one line, without control characters")
        return text


def iana_zone(name: str) -> None:
    if len(name) > 64:  # the longest IANA name has 32 characters; rooms keep 64
        raise ValidationError("not a known IANA time zone (e.g. Europe/Berlin)")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValidationError("not a known IANA time zone (e.g. Europe/Berlin)") from exc


class BookingInSchema(Schema):
    room_id = fields.UUID(metadata={"description": "the room (or room_ids: several at once)"})
    room_ids = fields.List(
        fields.UUID(),
        validate=validate.Length(2, MAX_ROOMS),
        metadata={"description": "2-10 rooms, each booked for the window, or none"},
    )
    organizer_id = fields.UUID(
        metadata={"description": "book for this user (an admin, or a delegate of theirs)"}
    )
    start_time = AwareTime(required=True, format="iso")
    end_time = AwareTime(required=True, format="iso")
    title = OneLine(required=True, validate=validate.Length(1, 200))
    description = fields.Str(allow_none=True, validate=validate.Length(max=5000))
    # Email addresses or names: the contract does not say, so both are taken.
    attendees = fields.List(
        OneLine(validate=validate.Length(1, 320)), validate=validate.Length(max=1000)
    )
    external_meeting_url = fields.Url(
        allow_none=True, schemes={"http", "https"}, validate=validate.Length(max=2000)
    )
    waitlist = fields.Bool(
        load_default=False,
        metadata={"description": "refused only because the slot is taken: wait for it"},
    )

    @validates_schema(skip_on_field_errors=False)
    def _rooms(self, data: dict[str, Any], **_: Any) -> None:
        """One room, or several (each once). The window is checked when the request is
        accepted (models/services/accept): a retried write answers as it did first."""
        if ("room_id" in data) == ("room_ids" in data):
            raise ValidationError("give room_id, or room_ids for several rooms", "room_id")
        rooms = data.get("room_ids") or []
        if len(set(rooms)) != len(rooms):
            raise ValidationError("each room once", "room_ids")


class RecurrenceSchema(Schema):
    freq = fields.Str(required=True, validate=validate.OneOf(["DAILY", "WEEKLY", "MONTHLY"]))
    interval = fields.Int(load_default=1, strict=True, validate=validate.Range(1, 366))
    count = fields.Int(strict=True, validate=validate.Range(1, MAX_OCCURRENCES))
    until = AwareTime(format="iso")
    by_weekday = fields.List(
        fields.Str(validate=validate.OneOf(["MO", "TU", "WE", "TH", "FR", "SA", "SU"])),
        validate=validate.Length(1, 7),
    )

    @validates_schema
    def _shape(self, data: dict[str, Any], **_: Any) -> None:
        if ("count" in data) == ("until" in data):
            raise ValidationError("give exactly one of count or until", "count")
        if data.get("by_weekday") and data["freq"] != "WEEKLY":
            # The issue that specified series asks for this refusal (weekly rules only).
            raise ValidationError("by_weekday goes with WEEKLY only", "by_weekday")


class RecurringInSchema(BookingInSchema):
    recurrence = fields.Nested(RecurrenceSchema, required=True)
    timezone = fields.Str(validate=iana_zone)
    conflict_policy = fields.Str(
        load_default="all_or_nothing", validate=validate.OneOf(["all_or_nothing", "skip_conflicts"])
    )

    @validates_schema
    def _no_waiting(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("waitlist"):
            raise ValidationError(
                "a series cannot wait: waitlist is for single bookings", "waitlist"
            )


class CheckInSchema(BookingInSchema):
    """The body of POST /v1/bookings or of POST /v1/bookings/recurring (with recurrence)."""

    recurrence = fields.Nested(RecurrenceSchema)
    timezone = fields.Str(validate=iana_zone)
    conflict_policy = fields.Str(
        load_default="all_or_nothing", validate=validate.OneOf(["all_or_nothing", "skip_conflicts"])
    )

    @validates_schema
    def _no_waiting(self, data: dict[str, Any], **kw: Any) -> None:
        if "recurrence" in data:
            RecurringInSchema._no_waiting(self, data, **kw)


class ChangeInSchema(Schema):
    """PATCH /v1/bookings/{id}: what changes (absent: unchanged)."""

    start_time = AwareTime(format="iso")
    end_time = AwareTime(format="iso")
    room_id = fields.UUID(metadata={"description": "move to this room"})
    title = OneLine(validate=validate.Length(1, 200))
    description = fields.Str(allow_none=True, validate=validate.Length(max=5000))
    attendees = fields.List(
        OneLine(validate=validate.Length(1, 320)), validate=validate.Length(max=1000)
    )
    external_meeting_url = fields.Url(
        allow_none=True, schemes={"http", "https"}, validate=validate.Length(max=2000)
    )

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("name at least one field to change", "_schema")


class SeriesChangeInSchema(Schema):
    """PATCH /v1/series/{id}: the occurrences from `from` on, at local wall-clock time."""

    from_ = AwareTime(
        data_key="from",
        format="iso",
        metadata={"description": "an occurrence's start (default: the next one)"},
    )
    shift_minutes = fields.Int(
        strict=True,
        validate=validate.Range(-MAX_SHIFT_MINUTES, MAX_SHIFT_MINUTES),
        metadata={"description": "move each occurrence by this much wall-clock time"},
    )
    duration_minutes = fields.Int(
        strict=True,
        validate=validate.Range(1, 24 * 60),
        metadata={"description": "each occurrence's new length"},
    )
    room_id = fields.UUID(metadata={"description": "move every occurrence to this room"})
    title = OneLine(validate=validate.Length(1, 200))
    description = fields.Str(allow_none=True, validate=validate.Length(max=5000))
    attendees = fields.List(
        OneLine(validate=validate.Length(1, 320)), validate=validate.Length(max=1000)
    )
    conflict_policy = fields.Str(
        load_default="all_or_nothing", validate=validate.OneOf(["all_or_nothing", "skip_conflicts"])
    )

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if not set(data) - {"from_", "conflict_policy"}:
            raise ValidationError("name at least one thing to change", "_schema")


def booking_payload(body: dict[str, Any], *, now: datetime) -> BookingPayload:
    """A loaded BookingInSchema body as a payload (times in UTC); ValidationFailed naming
    each field the window breaks."""
    check_window(body["start_time"], body["end_time"], now=now)
    rooms = tuple(body.get("room_ids") or ())
    return BookingPayload(
        room_id=rooms[0] if rooms else body["room_id"],
        start=body["start_time"].astimezone(UTC),
        end=body["end_time"].astimezone(UTC),
        title=body["title"],
        description=body.get("description"),
        attendees=tuple(body.get("attendees") or ()),
        external_meeting_url=body.get("external_meeting_url"),
        waitlist=bool(body.get("waitlist")),
        organizer_id=body.get("organizer_id"),
        room_ids=rooms,
    )


def series_payload(body: dict[str, Any], *, room_timezone: str, now: datetime) -> SeriesPayload:
    """A loaded RecurringInSchema body, expanded (ValidationFailed on a bad rule)."""
    timezone = body.get("timezone") or room_timezone
    rule = dict(body["recurrence"])
    occurrences = expand_occurrences(
        start=body["start_time"],
        end=body["end_time"],
        timezone=timezone,
        recurrence=rule,
        now=now,
    )
    if "until" in rule:
        rule["until"] = rule["until"].astimezone(UTC).isoformat()
    return SeriesPayload(
        booking=booking_payload(body, now=now),
        timezone=timezone,
        rule=rule,
        conflict_policy=ConflictPolicy(body["conflict_policy"]),
        occurrences=tuple(occurrences),
    )


def batch_payloads(
    items: list[dict[str, Any]],
    room_zones: Callable[[set[uuid.UUID]], Mapping[uuid.UUID, str]],
    *,
    now: datetime,
) -> list[BookingPayload | SeriesPayload]:
    """Every item validated before anything is queued; ValidationFailed names each bad item.

    room_zones(ids) answers the time zone of each room that exists among ids.
    """
    loaded: list[dict[str, Any] | None] = []
    errors: dict[str, Any] = {}
    for index, item in enumerate(items):
        schema = RecurringInSchema() if "recurrence" in item else BookingInSchema()
        try:
            loaded.append(schema.load(item))
        except ValidationError as exc:
            errors[str(index)] = exc.messages
            loaded.append(None)
    zones = room_zones({_first_room(body) for body in loaded if body is not None})
    payloads: list[BookingPayload | SeriesPayload] = []
    for index, body in enumerate(loaded):
        if body is None:
            continue
        zone = zones.get(_first_room(body))
        if zone is None:
            errors[str(index)] = {"room_id": ["no such room"]}
            continue
        try:
            payloads.append(
                series_payload(body, room_timezone=zone, now=now)
                if "recurrence" in body
                else booking_payload(body, now=now)
            )
        except ValidationFailed as exc:
            errors[str(index)] = exc.details
    if errors:
        raise ValidationFailed(
            f"{len(errors)} of {len(items)} items are invalid; nothing was queued",
            details={"items": errors},
        )
    check_request_size(payloads)
    return payloads


def _first_room(body: dict[str, Any]) -> uuid.UUID:
    rooms = body.get("room_ids")
    found: uuid.UUID = rooms[0] if rooms else body["room_id"]
    return found


def occurrence_count(payload: RoomPayload) -> int:
    return len(payload.occurrences) if isinstance(payload, SeriesPayload) else 1


def check_request_size(payloads: list[BookingPayload | SeriesPayload]) -> None:
    """One request (a batch counts all its items) asks for at most 10,000 occurrences."""
    total = sum(occurrence_count(p) for p in payloads)
    if total > MAX_REQUEST_OCCURRENCES:
        raise ValidationFailed(
            f"a request may ask for at most {MAX_REQUEST_OCCURRENCES} occurrences in all; "
            f"this one asks for {total}",
            details={"items": [f"{total} occurrences in all, more than {MAX_REQUEST_OCCURRENCES}"]},
        )
