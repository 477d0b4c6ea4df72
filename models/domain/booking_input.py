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
from models.domain.rules import MAX_OCCURRENCES, MAX_REQUEST_OCCURRENCES, check_window
from models.domain.states import ConflictPolicy, utcnow
from models.errors import ValidationFailed

# Characters that show nothing: a title made of them alone is as blank as an empty one.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


class AwareTime(fields.AwareDateTime):
    """An ISO 8601 time with an offset; one without says how to fix it."""

    default_error_messages = {  # noqa: RUF012 (marshmallow merges it with its parents')
        "invalid_awareness": "add an offset such as Z or +01:00 (a time without one is ambiguous)"
    }


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
    room_id = fields.UUID(required=True)
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

    @validates_schema
    def _window(self, data: dict[str, Any], **_: Any) -> None:
        try:
            check_window(data["start_time"], data["end_time"], now=utcnow())
        except ValidationFailed as exc:
            raise ValidationError(exc.details) from exc


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
    def _window(self, data: dict[str, Any], **_: Any) -> None:
        """Each occurrence's window is checked when the series is expanded."""
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
    def _window(self, data: dict[str, Any], **kw: Any) -> None:
        if "recurrence" in data:
            RecurringInSchema._window(self, data, **kw)
        else:
            BookingInSchema._window(self, data, **kw)


def booking_payload(body: dict[str, Any]) -> BookingPayload:
    """A loaded BookingInSchema body as a payload (times in UTC)."""
    return BookingPayload(
        room_id=body["room_id"],
        start=body["start_time"].astimezone(UTC),
        end=body["end_time"].astimezone(UTC),
        title=body["title"],
        description=body.get("description"),
        attendees=tuple(body.get("attendees") or ()),
        external_meeting_url=body.get("external_meeting_url"),
        waitlist=bool(body.get("waitlist")),
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
        booking=booking_payload(body),
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
) -> list[RoomPayload]:
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
    zones = room_zones({body["room_id"] for body in loaded if body is not None})
    payloads: list[RoomPayload] = []
    for index, body in enumerate(loaded):
        if body is None:
            continue
        zone = zones.get(body["room_id"])
        if zone is None:
            errors[str(index)] = {"room_id": ["no such room"]}
            continue
        try:
            payloads.append(
                series_payload(body, room_timezone=zone, now=now)
                if "recurrence" in body
                else booking_payload(body)
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


def occurrence_count(payload: RoomPayload) -> int:
    return len(payload.occurrences) if isinstance(payload, SeriesPayload) else 1


def check_request_size(payloads: list[RoomPayload]) -> None:
    """One request (a batch counts all its items) asks for at most 10,000 occurrences."""
    total = sum(occurrence_count(p) for p in payloads)
    if total > MAX_REQUEST_OCCURRENCES:
        raise ValidationFailed(
            f"a request may ask for at most {MAX_REQUEST_OCCURRENCES} occurrences in all; "
            f"this one asks for {total}",
            details={"items": [f"{total} occurrences in all, more than {MAX_REQUEST_OCCURRENCES}"]},
        )
