from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ChangeIn")


@_attrs_define
class ChangeIn:
    """
    Attributes:
        start_time (datetime.datetime | Unset):
        end_time (datetime.datetime | Unset):
        room_id (UUID | Unset): move to this room
        title (str | Unset):
        description (None | str | Unset):
        attendees (list[str] | Unset):
        external_meeting_url (None | str | Unset):
    """

    start_time: datetime.datetime | Unset = UNSET
    end_time: datetime.datetime | Unset = UNSET
    room_id: UUID | Unset = UNSET
    title: str | Unset = UNSET
    description: None | str | Unset = UNSET
    attendees: list[str] | Unset = UNSET
    external_meeting_url: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        start_time: str | Unset = UNSET
        if not isinstance(self.start_time, Unset):
            start_time = self.start_time.isoformat()

        end_time: str | Unset = UNSET
        if not isinstance(self.end_time, Unset):
            end_time = self.end_time.isoformat()

        room_id: str | Unset = UNSET
        if not isinstance(self.room_id, Unset):
            room_id = str(self.room_id)

        title = self.title

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        attendees: list[str] | Unset = UNSET
        if not isinstance(self.attendees, Unset):
            attendees = self.attendees

        external_meeting_url: None | str | Unset
        if isinstance(self.external_meeting_url, Unset):
            external_meeting_url = UNSET
        else:
            external_meeting_url = self.external_meeting_url

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if start_time is not UNSET:
            field_dict["start_time"] = start_time
        if end_time is not UNSET:
            field_dict["end_time"] = end_time
        if room_id is not UNSET:
            field_dict["room_id"] = room_id
        if title is not UNSET:
            field_dict["title"] = title
        if description is not UNSET:
            field_dict["description"] = description
        if attendees is not UNSET:
            field_dict["attendees"] = attendees
        if external_meeting_url is not UNSET:
            field_dict["external_meeting_url"] = external_meeting_url

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _start_time = d.pop("start_time", UNSET)
        start_time: datetime.datetime | Unset
        if isinstance(_start_time, Unset):
            start_time = UNSET
        else:
            start_time = datetime.datetime.fromisoformat(_start_time)

        _end_time = d.pop("end_time", UNSET)
        end_time: datetime.datetime | Unset
        if isinstance(_end_time, Unset):
            end_time = UNSET
        else:
            end_time = datetime.datetime.fromisoformat(_end_time)

        _room_id = d.pop("room_id", UNSET)
        room_id: UUID | Unset
        if isinstance(_room_id, Unset):
            room_id = UNSET
        else:
            room_id = UUID(_room_id)

        title = d.pop("title", UNSET)

        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))

        attendees = cast(list[str], d.pop("attendees", UNSET))

        def _parse_external_meeting_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        external_meeting_url = _parse_external_meeting_url(d.pop("external_meeting_url", UNSET))

        change_in = cls(
            start_time=start_time,
            end_time=end_time,
            room_id=room_id,
            title=title,
            description=description,
            attendees=attendees,
            external_meeting_url=external_meeting_url,
        )

        return change_in
