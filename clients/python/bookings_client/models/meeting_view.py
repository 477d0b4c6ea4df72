from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.meeting_view_state import MeetingViewState

if TYPE_CHECKING:
    from ..models.meeting_room import MeetingRoom


T = TypeVar("T", bound="MeetingView")


@_attrs_define
class MeetingView:
    """
    Attributes:
        id (UUID):
        booking_id (UUID):
        join_code (str):
        external_meeting_url (None | str):
        state (MeetingViewState):
        room (MeetingRoom):
        start_time (datetime.datetime):
        end_time (datetime.datetime):
    """

    id: UUID
    booking_id: UUID
    join_code: str
    external_meeting_url: None | str
    state: MeetingViewState
    room: MeetingRoom
    start_time: datetime.datetime
    end_time: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        booking_id = str(self.booking_id)

        join_code = self.join_code

        external_meeting_url: None | str
        external_meeting_url = self.external_meeting_url

        state = self.state.value

        room = self.room.to_dict()

        start_time = self.start_time.isoformat()

        end_time = self.end_time.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "booking_id": booking_id,
                "join_code": join_code,
                "external_meeting_url": external_meeting_url,
                "state": state,
                "room": room,
                "start_time": start_time,
                "end_time": end_time,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.meeting_room import MeetingRoom  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        booking_id = UUID(d.pop("booking_id"))

        join_code = d.pop("join_code")

        def _parse_external_meeting_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        external_meeting_url = _parse_external_meeting_url(d.pop("external_meeting_url"))

        state = MeetingViewState(d.pop("state"))

        room = MeetingRoom.from_dict(d.pop("room"))

        start_time = datetime.datetime.fromisoformat(d.pop("start_time"))

        end_time = datetime.datetime.fromisoformat(d.pop("end_time"))

        meeting_view = cls(
            id=id,
            booking_id=booking_id,
            join_code=join_code,
            external_meeting_url=external_meeting_url,
            state=state,
            room=room,
            start_time=start_time,
            end_time=end_time,
        )

        return meeting_view
