"""Turning validated request bodies into NewRequests: the payloads workers decide from."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.schemas.bookings import BookingInSchema, RecurringInSchema
from models.domain.recurrence import expand_occurrences
from models.errors import ValidationFailed
from models.services.accept import NewRequest
from models.tables.base import utcnow
from models.tables.requests import RequestKind
from models.tables.rooms import Room


def _common(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "room_id": str(body["room_id"]),
        "start_time": body["start_time"].astimezone(UTC).isoformat(),
        "end_time": body["end_time"].astimezone(UTC).isoformat(),
        "title": body["title"],
        "description": body.get("description"),
        "attendees": body.get("attendees") or [],
        "external_meeting_url": body.get("external_meeting_url"),
    }


def booking_request(body: dict[str, Any]) -> NewRequest:
    return NewRequest(RequestKind.BOOKING, body["room_id"], _common(body))


def series_request(body: dict[str, Any], room: Room) -> NewRequest:
    """Expand the series now (422 on a bad rule) so the worker decides stored occurrences."""
    timezone = body.get("timezone") or room.timezone
    recurrence = dict(body["recurrence"])
    occurrences = expand_occurrences(
        start=body["start_time"],
        end=body["end_time"],
        timezone=timezone,
        recurrence=recurrence,
        now=utcnow(),
    )
    if "until" in recurrence:
        recurrence["until"] = recurrence["until"].astimezone(UTC).isoformat()
    payload = {
        **_common(body),
        "timezone": timezone,
        "recurrence": recurrence,
        "conflict_policy": body["conflict_policy"],
        "occurrences": [o.as_json() for o in occurrences],
    }
    return NewRequest(RequestKind.SERIES, body["room_id"], payload)


def batch_requests(session: Session, items: list[dict[str, Any]]) -> list[NewRequest]:
    """Validate every item before anything is queued; 422 names each bad item by index."""
    loaded: list[dict[str, Any] | None] = []
    errors: dict[str, Any] = {}
    for index, item in enumerate(items):
        schema = RecurringInSchema() if "recurrence" in item else BookingInSchema()
        try:
            loaded.append(schema.load(item))
        except ValidationError as exc:
            errors[str(index)] = exc.messages
            loaded.append(None)
    room_ids = {body["room_id"] for body in loaded if body is not None}
    rooms = {r.id: r for r in session.scalars(select(Room).where(Room.id.in_(room_ids)))}
    requests: list[NewRequest] = []
    for index, body in enumerate(loaded):
        if body is None:
            continue
        room = rooms.get(body["room_id"])
        if room is None:
            errors[str(index)] = {"room_id": ["no such room"]}
            continue
        try:
            requests.append(
                series_request(body, room) if "recurrence" in body else booking_request(body)
            )
        except ValidationFailed as exc:
            errors[str(index)] = exc.details
    if errors:
        raise ValidationFailed(
            f"{len(errors)} of {len(items)} items are invalid; nothing was queued",
            details={"items": errors},
        )
    return requests
