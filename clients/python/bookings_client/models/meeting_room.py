from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="MeetingRoom")


@_attrs_define
class MeetingRoom:
    """
    Attributes:
        id (UUID):
        name (str):
        location (None | str):
        timezone (str):
    """

    id: UUID
    name: str
    location: None | str
    timezone: str

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        name = self.name

        location: None | str
        location = self.location

        timezone = self.timezone

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "name": name,
                "location": location,
                "timezone": timezone,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        name = d.pop("name")

        def _parse_location(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        location = _parse_location(d.pop("location"))

        timezone = d.pop("timezone")

        meeting_room = cls(
            id=id,
            name=name,
            location=location,
            timezone=timezone,
        )

        return meeting_room
