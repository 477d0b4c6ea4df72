from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="FreeWindow")


@_attrs_define
class FreeWindow:
    """
    Attributes:
        room_id (UUID):
        start_time (datetime.datetime):
        end_time (datetime.datetime):
    """

    room_id: UUID
    start_time: datetime.datetime
    end_time: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        room_id = str(self.room_id)

        start_time = self.start_time.isoformat()

        end_time = self.end_time.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "room_id": room_id,
                "start_time": start_time,
                "end_time": end_time,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        room_id = UUID(d.pop("room_id"))

        start_time = datetime.datetime.fromisoformat(d.pop("start_time"))

        end_time = datetime.datetime.fromisoformat(d.pop("end_time"))

        free_window = cls(
            room_id=room_id,
            start_time=start_time,
            end_time=end_time,
        )

        return free_window
