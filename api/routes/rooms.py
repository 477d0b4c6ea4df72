"""Rooms: admins manage them, users find them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask_smorest import Blueprint

from api.auth import admin_only
from api.context import current_user, db, transaction
from api.schemas.common import page_of
from api.schemas.find_time import FindTimeQuery, FreeWindowsSchema
from api.schemas.rooms import (
    AvailabilityQuery,
    RoomInSchema,
    RoomPatchSchema,
    RoomQuery,
    RoomSchema,
    normalize_amenities,
)
from models.domain.free_windows import FreeWindow
from models.domain.states import utcnow
from models.pages import Page, page
from models.services import room_catalog
from models.services.find_time import free_windows
from models.tables.rooms import Room

blp = Blueprint("rooms", __name__, url_prefix="/v1/rooms", description="Rooms")


@blp.route("", methods=["POST"])
@admin_only
@blp.arguments(RoomInSchema)
@blp.response(201, RoomSchema)
def create_room(body: dict[str, Any]) -> Room:
    """Create a room (admins)."""
    with transaction() as session:
        return room_catalog.create_room(session, normalize_amenities(body))


@blp.route("", methods=["GET"])
@blp.arguments(RoomQuery, location="query")
@blp.response(200, page_of(RoomSchema))
def list_rooms(query: dict[str, Any]) -> Page[Room]:
    """Active rooms, filtered by capacity, amenities, location, building and floor."""
    stmt = room_catalog.room_search(
        capacity_min=query.get("capacity_min"),
        amenities=query.get("amenity"),
        location=query.get("location"),
        building=query.get("building"),
        floor=query.get("floor"),
        include_inactive=query["include_inactive"],
    )
    return page(db(), stmt, limit=query["limit"], offset=query["offset"])


@blp.route("/availability", methods=["GET"])
@blp.arguments(AvailabilityQuery, location="query")
@blp.response(200, page_of(RoomSchema))
def room_availability(query: dict[str, Any]) -> Page[Room]:
    """Active rooms free for all of [start_time, end_time): no confirmed or pending booking
    overlaps it (back to back is free), no closure does, and it lies inside the room's
    opening hours, when it has them."""
    stmt = room_catalog.room_search(
        capacity_min=query.get("capacity_min"),
        amenities=query.get("amenity"),
        building=query.get("building"),
        floor=query.get("floor"),
        available_between=(query["start_time"], query["end_time"]),
    )
    return page(db(), stmt, limit=query["limit"], offset=query["offset"])


@blp.route("/find-time", methods=["GET"])
@blp.arguments(FindTimeQuery, location="query")
@blp.response(200, FreeWindowsSchema)
def find_time(query: dict[str, Any]) -> dict[str, list[FreeWindow]]:
    """Find a time: the earliest free windows across the rooms that match.

    Windows of `duration_minutes` inside [from, to) (at most 31 days) in active rooms,
    earliest first, at most `limit`: each is free of PENDING and CONFIRMED bookings (kept
    apart by the room's buffer) and of closures, starts no earlier than now, lies inside
    the room's opening hours and meets its notice, horizon and duration rules for the
    caller (admins and the room's approvers are held to bookings, buffers and closures
    only). A room offers one window per free stretch, at the stretch's start."""
    return {
        "items": free_windows(
            db(),
            caller=current_user(),
            duration=timedelta(minutes=query["duration_minutes"]),
            start=query["from_"],
            end=query["to"],
            now=utcnow(),
            limit=query["limit"],
            capacity_min=query.get("capacity_min"),
            amenities=query.get("amenity"),
            building=query.get("building"),
            floor=query.get("floor"),
        )
    }


@blp.route("/<uuid:room_id>", methods=["GET"])
@blp.response(200, RoomSchema)
def get_room(room_id: uuid.UUID) -> Room:
    """One room."""
    return room_catalog.get_room(db(), room_id)


@blp.route("/<uuid:room_id>", methods=["PATCH"])
@admin_only
@blp.arguments(RoomPatchSchema(partial=True), required=False)  # no body: nothing changes
@blp.response(200, RoomSchema)
def patch_room(body: dict[str, Any], room_id: uuid.UUID) -> Room:
    """Change a room (admins)."""
    with transaction() as session:
        return room_catalog.update_room(session, room_id, normalize_amenities(body))


@blp.route("/<uuid:room_id>", methods=["DELETE"])
@admin_only
@blp.response(204)
def delete_room(room_id: uuid.UUID) -> None:
    """Retire a room (admins): it becomes inactive, its history stays."""
    with transaction() as session:
        room_catalog.deactivate_room(session, room_id)
