"""Calendar feeds: the window a feed covers, and the feed token's answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load

from api.schemas.common import Reply
from models.domain.booking_input import AwareTime
from models.domain.states import utcnow

CALENDAR_PAST = timedelta(days=30)
CALENDAR_AHEAD = timedelta(days=365)


class FeedTokenSchema(Reply):
    token = fields.Str(metadata={"description": "shown only here; only its SHA-256 is stored"})
    calendar_url = fields.Str(
        metadata={
            "description": "the caller's own bookings (root-relative: prefix the API's address)"
        }
    )
    rooms_url_template = fields.Str(
        metadata={"description": "a room's feed: put the room's id for {room_id}"}
    )


class CalendarQuery(Schema):
    """The feed's window: from now minus 30 days to 365 days ahead unless given."""

    from_ = AwareTime(
        data_key="from", format="iso", metadata={"description": "default: now minus 30 days"}
    )
    to = AwareTime(
        format="iso", metadata={"description": "default: 365 days after now (or after from)"}
    )

    @post_load
    def _window(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        now = utcnow()
        start = data.get("from_") or now - CALENDAR_PAST
        end = data.get("to") or _later(max(start, now), CALENDAR_AHEAD)
        if end <= start:
            raise ValidationError("must be after from (default: now minus 30 days)", "to")
        return {"start": start, "end": end}


def _later(when: datetime, delta: timedelta) -> datetime:
    """when + delta, or the last representable moment (from=9999-12-31 has no year after)."""
    try:
        return when + delta
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)
