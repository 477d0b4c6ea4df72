from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.recurring_in_conflict_policy import RecurringInConflictPolicy
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.recurrence import Recurrence


T = TypeVar("T", bound="RecurringIn")


@_attrs_define
class RecurringIn:
    """
    Attributes:
        start_time (datetime.datetime):
        end_time (datetime.datetime):
        title (str):
        recurrence (Recurrence):
        room_id (UUID | Unset): the room (or room_ids: several at once)
        room_ids (list[UUID] | Unset): 2-10 rooms, each booked for the window, or none
        organizer_id (UUID | Unset): book for this user (an admin, or a delegate of theirs)
        description (None | str | Unset):
        attendees (list[str] | Unset):
        external_meeting_url (None | str | Unset):
        waitlist (bool | Unset): refused only because the slot is taken: wait for it Default: False.
        timezone (str | Unset):
        conflict_policy (RecurringInConflictPolicy | Unset):  Default: RecurringInConflictPolicy.ALL_OR_NOTHING.
    """

    start_time: datetime.datetime
    end_time: datetime.datetime
    title: str
    recurrence: Recurrence
    room_id: UUID | Unset = UNSET
    room_ids: list[UUID] | Unset = UNSET
    organizer_id: UUID | Unset = UNSET
    description: None | str | Unset = UNSET
    attendees: list[str] | Unset = UNSET
    external_meeting_url: None | str | Unset = UNSET
    waitlist: bool | Unset = False
    timezone: str | Unset = UNSET
    conflict_policy: RecurringInConflictPolicy | Unset = RecurringInConflictPolicy.ALL_OR_NOTHING

    def to_dict(self) -> dict[str, Any]:
        start_time = self.start_time.isoformat()

        end_time = self.end_time.isoformat()

        title = self.title

        recurrence = self.recurrence.to_dict()

        room_id: str | Unset = UNSET
        if not isinstance(self.room_id, Unset):
            room_id = str(self.room_id)

        room_ids: list[str] | Unset = UNSET
        if not isinstance(self.room_ids, Unset):
            room_ids = []
            for room_ids_item_data in self.room_ids:
                room_ids_item = str(room_ids_item_data)
                room_ids.append(room_ids_item)

        organizer_id: str | Unset = UNSET
        if not isinstance(self.organizer_id, Unset):
            organizer_id = str(self.organizer_id)

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

        waitlist = self.waitlist

        timezone = self.timezone

        conflict_policy: str | Unset = UNSET
        if not isinstance(self.conflict_policy, Unset):
            conflict_policy = self.conflict_policy.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "start_time": start_time,
                "end_time": end_time,
                "title": title,
                "recurrence": recurrence,
            }
        )
        if room_id is not UNSET:
            field_dict["room_id"] = room_id
        if room_ids is not UNSET:
            field_dict["room_ids"] = room_ids
        if organizer_id is not UNSET:
            field_dict["organizer_id"] = organizer_id
        if description is not UNSET:
            field_dict["description"] = description
        if attendees is not UNSET:
            field_dict["attendees"] = attendees
        if external_meeting_url is not UNSET:
            field_dict["external_meeting_url"] = external_meeting_url
        if waitlist is not UNSET:
            field_dict["waitlist"] = waitlist
        if timezone is not UNSET:
            field_dict["timezone"] = timezone
        if conflict_policy is not UNSET:
            field_dict["conflict_policy"] = conflict_policy

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.recurrence import Recurrence  # noqa: PLC0415

        d = dict(src_dict)
        start_time = datetime.datetime.fromisoformat(d.pop("start_time"))

        end_time = datetime.datetime.fromisoformat(d.pop("end_time"))

        title = d.pop("title")

        recurrence = Recurrence.from_dict(d.pop("recurrence"))

        _room_id = d.pop("room_id", UNSET)
        room_id: UUID | Unset
        if isinstance(_room_id, Unset):
            room_id = UNSET
        else:
            room_id = UUID(_room_id)

        _room_ids = d.pop("room_ids", UNSET)
        room_ids: list[UUID] | Unset = UNSET
        if _room_ids is not UNSET:
            room_ids = []
            for room_ids_item_data in _room_ids:
                room_ids_item = UUID(room_ids_item_data)

                room_ids.append(room_ids_item)

        _organizer_id = d.pop("organizer_id", UNSET)
        organizer_id: UUID | Unset
        if isinstance(_organizer_id, Unset):
            organizer_id = UNSET
        else:
            organizer_id = UUID(_organizer_id)

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

        waitlist = d.pop("waitlist", UNSET)

        timezone = d.pop("timezone", UNSET)

        _conflict_policy = d.pop("conflict_policy", UNSET)
        conflict_policy: RecurringInConflictPolicy | Unset
        if isinstance(_conflict_policy, Unset):
            conflict_policy = UNSET
        else:
            conflict_policy = RecurringInConflictPolicy(_conflict_policy)

        recurring_in = cls(
            start_time=start_time,
            end_time=end_time,
            title=title,
            recurrence=recurrence,
            room_id=room_id,
            room_ids=room_ids,
            organizer_id=organizer_id,
            description=description,
            attendees=attendees,
            external_meeting_url=external_meeting_url,
            waitlist=waitlist,
            timezone=timezone,
            conflict_policy=conflict_policy,
        )

        return recurring_in
