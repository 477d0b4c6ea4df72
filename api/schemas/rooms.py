"""Rooms: what admins send and what everyone reads."""

from __future__ import annotations

from typing import Any

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    pre_dump,
    validate,
    validates_schema,
)

from api.schemas.common import OneLine, PageQuery, Reply
from models.domain.booking_input import AwareTime, iana_zone
from models.domain.policy import stored_policy


class RoomInSchema(Schema):
    name = OneLine(required=True, validate=validate.Length(1, 200))
    capacity = fields.Int(required=True, strict=True, validate=validate.Range(1, 10_000))
    location = fields.Str(allow_none=True, validate=validate.Length(max=200))
    building = OneLine(allow_none=True, validate=validate.Length(1, 100))
    floor = OneLine(allow_none=True, validate=validate.Length(1, 100))
    amenities = fields.List(
        fields.Str(validate=validate.Length(1, 100)), validate=validate.Length(max=50)
    )
    timezone = fields.Str(validate=iana_zone)
    auto_release_minutes = fields.Int(
        allow_none=True, strict=True, validate=validate.Range(1, 24 * 60)
    )
    policy = fields.Dict(
        allow_none=True,
        metadata={
            "description": "the room's rules (every key optional, null: no limit); "
            "a PATCH replaces the keys it names. Checked by models/domain/policy.py: "
            "422 names each bad key as policy.<key>",
            "example": {
                "max_duration_minutes": 240,
                "buffer_minutes": 10,
                "opening_hours": {"MO": [["08:00", "12:00"], ["13:00", "18:00"]]},
                "max_minutes_per_user_per_week": 600,
            },
        },
    )


class RoomPatchSchema(RoomInSchema):
    """The same fields, each optional (used with partial=True)."""


class RoomPolicySchema(Reply):
    min_duration_minutes = fields.Int(allow_none=True)
    max_duration_minutes = fields.Int(allow_none=True)
    min_notice_minutes = fields.Int(allow_none=True)
    horizon_days = fields.Int(allow_none=True)
    buffer_minutes = fields.Int(allow_none=True)
    opening_hours = fields.Dict(
        keys=fields.Str(),
        values=fields.List(fields.List(fields.Str())),
        allow_none=True,
        metadata={"description": "weekday (MO…SU) -> [[HH:MM, HH:MM], …] local times"},
    )
    max_minutes_per_user_per_day = fields.Int(allow_none=True)
    max_minutes_per_user_per_week = fields.Int(allow_none=True)
    requires_approval = fields.Bool()
    approvers = fields.List(fields.UUID())

    @pre_dump
    def _every_key(self, stored: dict[str, Any], **_: Any) -> dict[str, Any]:
        """The stored policy with every key (a room without rules stores {})."""
        return stored_policy(stored).as_dict()


class RoomSchema(Reply):
    id = fields.UUID()
    name = fields.Str()
    capacity = fields.Int()
    location = fields.Str(allow_none=True)
    building = fields.Str(allow_none=True)
    floor = fields.Str(allow_none=True)
    amenities = fields.List(fields.Str())
    timezone = fields.Str()
    auto_release_minutes = fields.Int(allow_none=True)
    policy = fields.Nested(RoomPolicySchema)
    active = fields.Bool()
    created_at = AwareTime(format="iso")
    updated_at = AwareTime(format="iso")


class RoomQuery(PageQuery):
    capacity_min = fields.Int(validate=validate.Range(1, 10_000))
    amenity = fields.List(fields.Str(validate=validate.Length(1, 100)))
    location = fields.Str(validate=validate.Length(1, 200))
    building = fields.Str(validate=validate.Length(1, 100))
    floor = fields.Str(validate=validate.Length(1, 100))
    include_inactive = fields.Bool(load_default=False)


class AvailabilityQuery(PageQuery):
    start_time = AwareTime(required=True, format="iso")
    end_time = AwareTime(required=True, format="iso")
    capacity_min = fields.Int(validate=validate.Range(1, 10_000))
    amenity = fields.List(fields.Str(validate=validate.Length(1, 100)))
    building = fields.Str(validate=validate.Length(1, 100))
    floor = fields.Str(validate=validate.Length(1, 100))

    @validates_schema
    def _window(self, data: dict[str, Any], **_: Any) -> None:
        if data["end_time"] <= data["start_time"]:
            raise ValidationError("must be after start_time", "end_time")


def normalize_amenities(data: dict[str, Any]) -> dict[str, Any]:
    """Amenities are kept as written, once each (compared case-insensitively)."""
    if "amenities" in data:
        seen: dict[str, str] = {}
        for amenity in (a.strip() for a in data["amenities"]):
            if amenity:
                seen.setdefault(amenity.lower(), amenity)
        data["amenities"] = list(seen.values())
    return data
