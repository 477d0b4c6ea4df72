from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="Usage")


@_attrs_define
class Usage:
    """
    Attributes:
        booked_minutes (int): confirmed bookings' minutes inside the open time
        open_minutes (int): opening hours in the room's zone (all day without them)
        utilization (float | None): booked_minutes / open_minutes; null when never open
        bookings (int): confirmed bookings that start here
        checked_in (int): of those, checked in
        no_shows (int): released: cancelled as NO_SHOW
        cancelled (int): cancelled for any other reason
        room_id (UUID | Unset): group_by=room
        day (datetime.date | Unset): group_by=day: the rooms' local day
        week (datetime.date | Unset): group_by=week: the Monday of the ISO week
    """

    booked_minutes: int
    open_minutes: int
    utilization: float | None
    bookings: int
    checked_in: int
    no_shows: int
    cancelled: int
    room_id: UUID | Unset = UNSET
    day: datetime.date | Unset = UNSET
    week: datetime.date | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        booked_minutes = self.booked_minutes

        open_minutes = self.open_minutes

        utilization: float | None
        utilization = self.utilization

        bookings = self.bookings

        checked_in = self.checked_in

        no_shows = self.no_shows

        cancelled = self.cancelled

        room_id: str | Unset = UNSET
        if not isinstance(self.room_id, Unset):
            room_id = str(self.room_id)

        day: str | Unset = UNSET
        if not isinstance(self.day, Unset):
            day = self.day.isoformat()

        week: str | Unset = UNSET
        if not isinstance(self.week, Unset):
            week = self.week.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "booked_minutes": booked_minutes,
                "open_minutes": open_minutes,
                "utilization": utilization,
                "bookings": bookings,
                "checked_in": checked_in,
                "no_shows": no_shows,
                "cancelled": cancelled,
            }
        )
        if room_id is not UNSET:
            field_dict["room_id"] = room_id
        if day is not UNSET:
            field_dict["day"] = day
        if week is not UNSET:
            field_dict["week"] = week

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        booked_minutes = d.pop("booked_minutes")

        open_minutes = d.pop("open_minutes")

        def _parse_utilization(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        utilization = _parse_utilization(d.pop("utilization"))

        bookings = d.pop("bookings")

        checked_in = d.pop("checked_in")

        no_shows = d.pop("no_shows")

        cancelled = d.pop("cancelled")

        _room_id = d.pop("room_id", UNSET)
        room_id: UUID | Unset
        if isinstance(_room_id, Unset):
            room_id = UNSET
        else:
            room_id = UUID(_room_id)

        _day = d.pop("day", UNSET)
        day: datetime.date | Unset
        if isinstance(_day, Unset):
            day = UNSET
        else:
            day = datetime.date.fromisoformat(_day)

        _week = d.pop("week", UNSET)
        week: datetime.date | Unset
        if isinstance(_week, Unset):
            week = UNSET
        else:
            week = datetime.date.fromisoformat(_week)

        usage = cls(
            booked_minutes=booked_minutes,
            open_minutes=open_minutes,
            utilization=utilization,
            bookings=bookings,
            checked_in=checked_in,
            no_shows=no_shows,
            cancelled=cancelled,
            room_id=room_id,
            day=day,
            week=week,
        )

        return usage
