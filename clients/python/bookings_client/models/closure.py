from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="Closure")


@_attrs_define
class Closure:
    """
    Attributes:
        id (UUID):
        room_id (UUID):
        start_time (datetime.datetime):
        end_time (datetime.datetime):
        reason (None | str):
        created_by (None | UUID):
        created_at (datetime.datetime):
    """

    id: UUID
    room_id: UUID
    start_time: datetime.datetime
    end_time: datetime.datetime
    reason: None | str
    created_by: None | UUID
    created_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        room_id = str(self.room_id)

        start_time = self.start_time.isoformat()

        end_time = self.end_time.isoformat()

        reason: None | str
        reason = self.reason

        created_by: None | str
        if isinstance(self.created_by, UUID):
            created_by = str(self.created_by)
        else:
            created_by = self.created_by

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "room_id": room_id,
                "start_time": start_time,
                "end_time": end_time,
                "reason": reason,
                "created_by": created_by,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        room_id = UUID(d.pop("room_id"))

        start_time = datetime.datetime.fromisoformat(d.pop("start_time"))

        end_time = datetime.datetime.fromisoformat(d.pop("end_time"))

        def _parse_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reason = _parse_reason(d.pop("reason"))

        def _parse_created_by(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                created_by_type_0 = UUID(data)

                return created_by_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        created_by = _parse_created_by(d.pop("created_by"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        closure = cls(
            id=id,
            room_id=room_id,
            start_time=start_time,
            end_time=end_time,
            reason=reason,
            created_by=created_by,
            created_at=created_at,
        )

        return closure
