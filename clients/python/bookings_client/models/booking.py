from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.booking_status import BookingStatus

if TYPE_CHECKING:
    from ..models.meeting import Meeting


T = TypeVar("T", bound="Booking")


@_attrs_define
class Booking:
    """
    Attributes:
        id (UUID):
        room_id (UUID):
        organizer_id (None | UUID): null in a room's calendar when the booking is another's
        booked_by (None | UUID): who sent the request, when not the organizer
        group_id (None | UUID): the bookings one several-rooms request made
        series_id (None | UUID):
        start_time (datetime.datetime):
        end_time (datetime.datetime):
        title (None | str):
        description (None | str):
        attendees (list[str]):
        status (BookingStatus):
        cancel_reason (None | str):
        meeting (Meeting | None):
        version (int): 1, then +1 with each change
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
    """

    id: UUID
    room_id: UUID
    organizer_id: None | UUID
    booked_by: None | UUID
    group_id: None | UUID
    series_id: None | UUID
    start_time: datetime.datetime
    end_time: datetime.datetime
    title: None | str
    description: None | str
    attendees: list[str]
    status: BookingStatus
    cancel_reason: None | str
    meeting: Meeting | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        from ..models.meeting import Meeting  # noqa: PLC0415

        id = str(self.id)

        room_id = str(self.room_id)

        organizer_id: None | str
        if isinstance(self.organizer_id, UUID):
            organizer_id = str(self.organizer_id)
        else:
            organizer_id = self.organizer_id

        booked_by: None | str
        if isinstance(self.booked_by, UUID):
            booked_by = str(self.booked_by)
        else:
            booked_by = self.booked_by

        group_id: None | str
        if isinstance(self.group_id, UUID):
            group_id = str(self.group_id)
        else:
            group_id = self.group_id

        series_id: None | str
        if isinstance(self.series_id, UUID):
            series_id = str(self.series_id)
        else:
            series_id = self.series_id

        start_time = self.start_time.isoformat()

        end_time = self.end_time.isoformat()

        title: None | str
        title = self.title

        description: None | str
        description = self.description

        attendees = self.attendees

        status = self.status.value

        cancel_reason: None | str
        cancel_reason = self.cancel_reason

        meeting: dict[str, Any] | None
        if isinstance(self.meeting, Meeting):
            meeting = self.meeting.to_dict()
        else:
            meeting = self.meeting

        version = self.version

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "room_id": room_id,
                "organizer_id": organizer_id,
                "booked_by": booked_by,
                "group_id": group_id,
                "series_id": series_id,
                "start_time": start_time,
                "end_time": end_time,
                "title": title,
                "description": description,
                "attendees": attendees,
                "status": status,
                "cancel_reason": cancel_reason,
                "meeting": meeting,
                "version": version,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.meeting import Meeting  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        room_id = UUID(d.pop("room_id"))

        def _parse_organizer_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                organizer_id_type_0 = UUID(data)

                return organizer_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        organizer_id = _parse_organizer_id(d.pop("organizer_id"))

        def _parse_booked_by(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                booked_by_type_0 = UUID(data)

                return booked_by_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        booked_by = _parse_booked_by(d.pop("booked_by"))

        def _parse_group_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                group_id_type_0 = UUID(data)

                return group_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        group_id = _parse_group_id(d.pop("group_id"))

        def _parse_series_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                series_id_type_0 = UUID(data)

                return series_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        series_id = _parse_series_id(d.pop("series_id"))

        start_time = datetime.datetime.fromisoformat(d.pop("start_time"))

        end_time = datetime.datetime.fromisoformat(d.pop("end_time"))

        def _parse_title(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        title = _parse_title(d.pop("title"))

        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        attendees = cast(list[str], d.pop("attendees"))

        status = BookingStatus(d.pop("status"))

        def _parse_cancel_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        cancel_reason = _parse_cancel_reason(d.pop("cancel_reason"))

        def _parse_meeting(data: object) -> Meeting | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                meeting_type_0 = Meeting.from_dict(data)

                return meeting_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Meeting | None, data)

        meeting = _parse_meeting(d.pop("meeting"))

        version = d.pop("version")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        booking = cls(
            id=id,
            room_id=room_id,
            organizer_id=organizer_id,
            booked_by=booked_by,
            group_id=group_id,
            series_id=series_id,
            start_time=start_time,
            end_time=end_time,
            title=title,
            description=description,
            attendees=attendees,
            status=status,
            cancel_reason=cancel_reason,
            meeting=meeting,
            version=version,
            created_at=created_at,
            updated_at=updated_at,
        )

        return booking
