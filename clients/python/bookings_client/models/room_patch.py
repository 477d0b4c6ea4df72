from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.room_patch_policy_type_0 import RoomPatchPolicyType0


T = TypeVar("T", bound="RoomPatch")


@_attrs_define
class RoomPatch:
    """
    Attributes:
        name (str | Unset):
        capacity (int | Unset):
        location (None | str | Unset):
        building (None | str | Unset):
        floor (None | str | Unset):
        amenities (list[str] | Unset):
        timezone (str | Unset):
        auto_release_minutes (int | None | Unset):
        policy (None | RoomPatchPolicyType0 | Unset): the room's rules (every key optional, null: no limit); a PATCH
            replaces the keys it names. Checked by models/domain/policy.py: 422 names each bad key as policy.<key>
    """

    name: str | Unset = UNSET
    capacity: int | Unset = UNSET
    location: None | str | Unset = UNSET
    building: None | str | Unset = UNSET
    floor: None | str | Unset = UNSET
    amenities: list[str] | Unset = UNSET
    timezone: str | Unset = UNSET
    auto_release_minutes: int | None | Unset = UNSET
    policy: None | RoomPatchPolicyType0 | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.room_patch_policy_type_0 import RoomPatchPolicyType0  # noqa: PLC0415

        name = self.name

        capacity = self.capacity

        location: None | str | Unset
        if isinstance(self.location, Unset):
            location = UNSET
        else:
            location = self.location

        building: None | str | Unset
        if isinstance(self.building, Unset):
            building = UNSET
        else:
            building = self.building

        floor: None | str | Unset
        if isinstance(self.floor, Unset):
            floor = UNSET
        else:
            floor = self.floor

        amenities: list[str] | Unset = UNSET
        if not isinstance(self.amenities, Unset):
            amenities = self.amenities

        timezone = self.timezone

        auto_release_minutes: int | None | Unset
        if isinstance(self.auto_release_minutes, Unset):
            auto_release_minutes = UNSET
        else:
            auto_release_minutes = self.auto_release_minutes

        policy: dict[str, Any] | None | Unset
        if isinstance(self.policy, Unset):
            policy = UNSET
        elif isinstance(self.policy, RoomPatchPolicyType0):
            policy = self.policy.to_dict()
        else:
            policy = self.policy

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if capacity is not UNSET:
            field_dict["capacity"] = capacity
        if location is not UNSET:
            field_dict["location"] = location
        if building is not UNSET:
            field_dict["building"] = building
        if floor is not UNSET:
            field_dict["floor"] = floor
        if amenities is not UNSET:
            field_dict["amenities"] = amenities
        if timezone is not UNSET:
            field_dict["timezone"] = timezone
        if auto_release_minutes is not UNSET:
            field_dict["auto_release_minutes"] = auto_release_minutes
        if policy is not UNSET:
            field_dict["policy"] = policy

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.room_patch_policy_type_0 import RoomPatchPolicyType0  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name", UNSET)

        capacity = d.pop("capacity", UNSET)

        def _parse_location(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        location = _parse_location(d.pop("location", UNSET))

        def _parse_building(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        building = _parse_building(d.pop("building", UNSET))

        def _parse_floor(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        floor = _parse_floor(d.pop("floor", UNSET))

        amenities = cast(list[str], d.pop("amenities", UNSET))

        timezone = d.pop("timezone", UNSET)

        def _parse_auto_release_minutes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        auto_release_minutes = _parse_auto_release_minutes(d.pop("auto_release_minutes", UNSET))

        def _parse_policy(data: object) -> None | RoomPatchPolicyType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                policy_type_0 = RoomPatchPolicyType0.from_dict(data)

                return policy_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RoomPatchPolicyType0 | Unset, data)

        policy = _parse_policy(d.pop("policy", UNSET))

        room_patch = cls(
            name=name,
            capacity=capacity,
            location=location,
            building=building,
            floor=floor,
            amenities=amenities,
            timezone=timezone,
            auto_release_minutes=auto_release_minutes,
            policy=policy,
        )

        return room_patch
