from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="TicketIn")


@_attrs_define
class TicketIn:
    """
    Attributes:
        title (str):
        description (str):
        room_id (None | Unset | UUID):
    """

    title: str
    description: str
    room_id: None | Unset | UUID = UNSET

    def to_dict(self) -> dict[str, Any]:
        title = self.title

        description = self.description

        room_id: None | str | Unset
        if isinstance(self.room_id, Unset):
            room_id = UNSET
        elif isinstance(self.room_id, UUID):
            room_id = str(self.room_id)
        else:
            room_id = self.room_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "title": title,
                "description": description,
            }
        )
        if room_id is not UNSET:
            field_dict["room_id"] = room_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        title = d.pop("title")

        description = d.pop("description")

        def _parse_room_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                room_id_type_0 = UUID(data)

                return room_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        room_id = _parse_room_id(d.pop("room_id", UNSET))

        ticket_in = cls(
            title=title,
            description=description,
            room_id=room_id,
        )

        return ticket_in
