from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.series_change_in_conflict_policy import SeriesChangeInConflictPolicy
from ..types import UNSET, Unset

T = TypeVar("T", bound="SeriesChangeIn")


@_attrs_define
class SeriesChangeIn:
    """
    Attributes:
        from_ (datetime.datetime | Unset): an occurrence's start (default: the next one)
        shift_minutes (int | Unset): move each occurrence by this much wall-clock time
        duration_minutes (int | Unset): each occurrence's new length
        room_id (UUID | Unset): move every occurrence to this room
        title (str | Unset):
        description (None | str | Unset):
        attendees (list[str] | Unset):
        conflict_policy (SeriesChangeInConflictPolicy | Unset):  Default: SeriesChangeInConflictPolicy.ALL_OR_NOTHING.
    """

    from_: datetime.datetime | Unset = UNSET
    shift_minutes: int | Unset = UNSET
    duration_minutes: int | Unset = UNSET
    room_id: UUID | Unset = UNSET
    title: str | Unset = UNSET
    description: None | str | Unset = UNSET
    attendees: list[str] | Unset = UNSET
    conflict_policy: SeriesChangeInConflictPolicy | Unset = SeriesChangeInConflictPolicy.ALL_OR_NOTHING

    def to_dict(self) -> dict[str, Any]:
        from_: str | Unset = UNSET
        if not isinstance(self.from_, Unset):
            from_ = self.from_.isoformat()

        shift_minutes = self.shift_minutes

        duration_minutes = self.duration_minutes

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

        conflict_policy: str | Unset = UNSET
        if not isinstance(self.conflict_policy, Unset):
            conflict_policy = self.conflict_policy.value

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if from_ is not UNSET:
            field_dict["from"] = from_
        if shift_minutes is not UNSET:
            field_dict["shift_minutes"] = shift_minutes
        if duration_minutes is not UNSET:
            field_dict["duration_minutes"] = duration_minutes
        if room_id is not UNSET:
            field_dict["room_id"] = room_id
        if title is not UNSET:
            field_dict["title"] = title
        if description is not UNSET:
            field_dict["description"] = description
        if attendees is not UNSET:
            field_dict["attendees"] = attendees
        if conflict_policy is not UNSET:
            field_dict["conflict_policy"] = conflict_policy

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _from_ = d.pop("from", UNSET)
        from_: datetime.datetime | Unset
        if isinstance(_from_, Unset):
            from_ = UNSET
        else:
            from_ = datetime.datetime.fromisoformat(_from_)

        shift_minutes = d.pop("shift_minutes", UNSET)

        duration_minutes = d.pop("duration_minutes", UNSET)

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

        _conflict_policy = d.pop("conflict_policy", UNSET)
        conflict_policy: SeriesChangeInConflictPolicy | Unset
        if isinstance(_conflict_policy, Unset):
            conflict_policy = UNSET
        else:
            conflict_policy = SeriesChangeInConflictPolicy(_conflict_policy)

        series_change_in = cls(
            from_=from_,
            shift_minutes=shift_minutes,
            duration_minutes=duration_minutes,
            room_id=room_id,
            title=title,
            description=description,
            attendees=attendees,
            conflict_policy=conflict_policy,
        )

        return series_change_in
