"""Examples in the OpenAPI document: Swagger's "Try it out" starts from a body the API
accepts (tests/integration/test_openapi.py sends them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import fields

EXAMPLE_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
SECOND_ID = "9b2e7c1a-4d3f-4e8a-b6c5-2f1d0e9a8b7c"


def booking_example() -> dict[str, Any]:
    """A whole booking body (one room, for the caller): the properties' examples name
    alternatives too (room_ids, organizer_id), which one body cannot hold at once."""
    examples = _examples()
    return {
        "room_id": EXAMPLE_ID,
        **{
            name: examples[name]
            for name in ("start_time", "end_time", "title", "description", "attendees")
        },
    }


def _day(days: int, hour: int) -> str:
    """A time this many days ahead: an example that is valid whenever the spec is read."""
    when = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return (when + timedelta(days=days)).isoformat().replace("+00:00", "Z")


def _examples() -> dict[str, Any]:
    return {
        "email": "ana@example.com",
        "name": "Orion",
        "password": "correct-horse-battery",
        "current_password": "correct-horse-battery",
        "new_password": "another-long-password",
        "title": "Planning",
        "description": "Quarterly numbers",
        "attendees": ["ana@example.com", "Li Wei"],
        "external_meeting_url": "https://meet.example.com/planning",
        "start_time": _day(7, 9),
        "end_time": _day(7, 10),
        "until": _day(60, 10),
        "from": _day(0, 0),
        "to": _day(7, 0),
        "capacity": 8,
        "capacity_min": 4,
        "location": "2nd floor, east",
        "building": "North",
        "floor": "2",
        "amenities": ["screen", "whiteboard"],
        "amenity": "screen",
        "timezone": "Europe/Berlin",
        "auto_release_minutes": 15,
        "freq": "WEEKLY",
        "interval": 1,
        "count": 10,
        "by_weekday": ["MO", "WE"],
        "conflict_policy": "skip_conflicts",
        "room_ids": [EXAMPLE_ID, SECOND_ID],
        "shift_minutes": 30,
        "duration_minutes": 45,
        "waitlist": False,
        "url": "https://hooks.example.com/bookings",
        "events": ["booking.confirmed", "task.finished"],
        "reason": "Moved online",
        "join_code": "K7QX2MPA",
        "created_at": _day(0, 8),
        "updated_at": _day(0, 8),
        "at": _day(0, 8),
        "total": 1,
        "limit": 50,
        "offset": 0,
        "role": "USER",
        "kind": "booking",
        "token_type": "Bearer",
        "expires_in": 3600,
        "status_url": f"/v1/tasks/{EXAMPLE_ID}",
        "active": True,
        "action": "booking.created",
        "cancel_reason": "Moved online",
        "code": "VALIDATION_ERROR",
        "message": "the request is invalid",
    }


def field_examples(self: Any, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    """An apispec attribute function: an example for every field a client fills in, by
    its name, so Swagger's "Try it out" starts from a body the API accepts."""
    ret: dict[str, Any] = kwargs["ret"]
    name = field.data_key or field.name
    if "example" in ret or name is None:
        return {}
    examples = _examples()
    if name in examples:
        return {"example": examples[name]}
    if ret.get("format") == "uuid":
        return {"example": EXAMPLE_ID}
    return {}
