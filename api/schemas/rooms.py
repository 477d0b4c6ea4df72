"""Rooms: what admins send and what everyone reads."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, validate

from api.schemas.common import PageQuery, Trimmed


def iana_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError("not a known IANA time zone (e.g. Europe/Berlin)") from exc


class RoomInSchema(Schema):
    name = Trimmed(required=True, validate=validate.Length(1, 200))
    capacity = fields.Int(required=True, strict=True, validate=validate.Range(1, 10_000))
    location = fields.Str(allow_none=True, validate=validate.Length(max=200))
    amenities = fields.List(
        fields.Str(validate=validate.Length(1, 100)), validate=validate.Length(max=50)
    )
    timezone = fields.Str(validate=iana_zone)
    auto_release_minutes = fields.Int(
        allow_none=True, strict=True, validate=validate.Range(1, 24 * 60)
    )


class RoomPatchSchema(RoomInSchema):
    """The same fields, each optional (used with partial=True)."""


class RoomSchema(Schema):
    id = fields.UUID()
    name = fields.Str()
    capacity = fields.Int()
    location = fields.Str(allow_none=True)
    amenities = fields.List(fields.Str())
    timezone = fields.Str()
    auto_release_minutes = fields.Int(allow_none=True)
    active = fields.Bool()
    created_at = fields.AwareDateTime(format="iso")
    updated_at = fields.AwareDateTime(format="iso")


class RoomQuery(PageQuery):
    capacity_min = fields.Int(validate=validate.Range(min=1))
    amenity = fields.List(fields.Str(validate=validate.Length(1, 100)))
    location = fields.Str(validate=validate.Length(1, 200))
    include_inactive = fields.Bool(load_default=False)


def normalize_amenities(data: dict[str, Any]) -> dict[str, Any]:
    """Amenities are compared case-insensitively and kept once each."""
    if "amenities" in data:
        data["amenities"] = sorted({a.strip().lower() for a in data["amenities"] if a.strip()})
    return data
