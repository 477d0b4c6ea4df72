from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.ticket_status import TicketStatus

T = TypeVar("T", bound="Ticket")


@_attrs_define
class Ticket:
    """
    Attributes:
        id (UUID):
        created_by (UUID):
        room_id (None | UUID):
        title (str):
        description (str):
        status (TicketStatus):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
    """

    id: UUID
    created_by: UUID
    room_id: None | UUID
    title: str
    description: str
    status: TicketStatus
    created_at: datetime.datetime
    updated_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        created_by = str(self.created_by)

        room_id: None | str
        if isinstance(self.room_id, UUID):
            room_id = str(self.room_id)
        else:
            room_id = self.room_id

        title = self.title

        description = self.description

        status = self.status.value

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "created_by": created_by,
                "room_id": room_id,
                "title": title,
                "description": description,
                "status": status,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        created_by = UUID(d.pop("created_by"))

        def _parse_room_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                room_id_type_0 = UUID(data)

                return room_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        room_id = _parse_room_id(d.pop("room_id"))

        title = d.pop("title")

        description = d.pop("description")

        status = TicketStatus(d.pop("status"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        ticket = cls(
            id=id,
            created_by=created_by,
            room_id=room_id,
            title=title,
            description=description,
            status=status,
            created_at=created_at,
            updated_at=updated_at,
        )

        return ticket
