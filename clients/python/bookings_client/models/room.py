from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.room_policy import RoomPolicy


T = TypeVar("T", bound="Room")


@_attrs_define
class Room:
    """
    Attributes:
        id (UUID):
        name (str):
        capacity (int):
        location (None | str):
        building (None | str):
        floor (None | str):
        amenities (list[str]):
        timezone (str):
        auto_release_minutes (int | None):
        policy (RoomPolicy):
        active (bool):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
    """

    id: UUID
    name: str
    capacity: int
    location: None | str
    building: None | str
    floor: None | str
    amenities: list[str]
    timezone: str
    auto_release_minutes: int | None
    policy: RoomPolicy
    active: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        name = self.name

        capacity = self.capacity

        location: None | str
        location = self.location

        building: None | str
        building = self.building

        floor: None | str
        floor = self.floor

        amenities = self.amenities

        timezone = self.timezone

        auto_release_minutes: int | None
        auto_release_minutes = self.auto_release_minutes

        policy = self.policy.to_dict()

        active = self.active

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "name": name,
                "capacity": capacity,
                "location": location,
                "building": building,
                "floor": floor,
                "amenities": amenities,
                "timezone": timezone,
                "auto_release_minutes": auto_release_minutes,
                "policy": policy,
                "active": active,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.room_policy import RoomPolicy  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        name = d.pop("name")

        capacity = d.pop("capacity")

        def _parse_location(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        location = _parse_location(d.pop("location"))

        def _parse_building(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        building = _parse_building(d.pop("building"))

        def _parse_floor(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        floor = _parse_floor(d.pop("floor"))

        amenities = cast(list[str], d.pop("amenities"))

        timezone = d.pop("timezone")

        def _parse_auto_release_minutes(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        auto_release_minutes = _parse_auto_release_minutes(d.pop("auto_release_minutes"))

        policy = RoomPolicy.from_dict(d.pop("policy"))

        active = d.pop("active")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        room = cls(
            id=id,
            name=name,
            capacity=capacity,
            location=location,
            building=building,
            floor=floor,
            amenities=amenities,
            timezone=timezone,
            auto_release_minutes=auto_release_minutes,
            policy=policy,
            active=active,
            created_at=created_at,
            updated_at=updated_at,
        )

        return room
