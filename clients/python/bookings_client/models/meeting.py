from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.meeting_state import MeetingState

T = TypeVar("T", bound="Meeting")


@_attrs_define
class Meeting:
    """
    Attributes:
        id (UUID):
        booking_id (UUID):
        join_code (str):
        external_meeting_url (None | str):
        state (MeetingState):
    """

    id: UUID
    booking_id: UUID
    join_code: str
    external_meeting_url: None | str
    state: MeetingState

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        booking_id = str(self.booking_id)

        join_code = self.join_code

        external_meeting_url: None | str
        external_meeting_url = self.external_meeting_url

        state = self.state.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "booking_id": booking_id,
                "join_code": join_code,
                "external_meeting_url": external_meeting_url,
                "state": state,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        booking_id = UUID(d.pop("booking_id"))

        join_code = d.pop("join_code")

        def _parse_external_meeting_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        external_meeting_url = _parse_external_meeting_url(d.pop("external_meeting_url"))

        state = MeetingState(d.pop("state"))

        meeting = cls(
            id=id,
            booking_id=booking_id,
            join_code=join_code,
            external_meeting_url=external_meeting_url,
            state=state,
        )

        return meeting
