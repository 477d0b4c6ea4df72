from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.audit_event_action import AuditEventAction

if TYPE_CHECKING:
    from ..models.audit_event_data import AuditEventData


T = TypeVar("T", bound="AuditEvent")


@_attrs_define
class AuditEvent:
    """
    Attributes:
        id (UUID):
        at (datetime.datetime):
        actor_id (None | UUID):
        action (AuditEventAction):
        booking_id (None | UUID):
        room_id (None | UUID):
        data (AuditEventData):
    """

    id: UUID
    at: datetime.datetime
    actor_id: None | UUID
    action: AuditEventAction
    booking_id: None | UUID
    room_id: None | UUID
    data: AuditEventData

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        at = self.at.isoformat()

        actor_id: None | str
        if isinstance(self.actor_id, UUID):
            actor_id = str(self.actor_id)
        else:
            actor_id = self.actor_id

        action = self.action.value

        booking_id: None | str
        if isinstance(self.booking_id, UUID):
            booking_id = str(self.booking_id)
        else:
            booking_id = self.booking_id

        room_id: None | str
        if isinstance(self.room_id, UUID):
            room_id = str(self.room_id)
        else:
            room_id = self.room_id

        data = self.data.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "at": at,
                "actor_id": actor_id,
                "action": action,
                "booking_id": booking_id,
                "room_id": room_id,
                "data": data,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.audit_event_data import AuditEventData  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        at = datetime.datetime.fromisoformat(d.pop("at"))

        def _parse_actor_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                actor_id_type_0 = UUID(data)

                return actor_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        actor_id = _parse_actor_id(d.pop("actor_id"))

        action = AuditEventAction(d.pop("action"))

        def _parse_booking_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                booking_id_type_0 = UUID(data)

                return booking_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        booking_id = _parse_booking_id(d.pop("booking_id"))

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

        data = AuditEventData.from_dict(d.pop("data"))

        audit_event = cls(
            id=id,
            at=at,
            actor_id=actor_id,
            action=action,
            booking_id=booking_id,
            room_id=room_id,
            data=data,
        )

        return audit_event
