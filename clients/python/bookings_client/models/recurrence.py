from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.recurrence_by_weekday_item import RecurrenceByWeekdayItem
from ..models.recurrence_freq import RecurrenceFreq
from ..types import UNSET, Unset

T = TypeVar("T", bound="Recurrence")


@_attrs_define
class Recurrence:
    """
    Attributes:
        freq (RecurrenceFreq):
        interval (int | Unset):  Default: 1.
        count (int | Unset):
        until (datetime.datetime | Unset):
        by_weekday (list[RecurrenceByWeekdayItem] | Unset):
    """

    freq: RecurrenceFreq
    interval: int | Unset = 1
    count: int | Unset = UNSET
    until: datetime.datetime | Unset = UNSET
    by_weekday: list[RecurrenceByWeekdayItem] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        freq = self.freq.value

        interval = self.interval

        count = self.count

        until: str | Unset = UNSET
        if not isinstance(self.until, Unset):
            until = self.until.isoformat()

        by_weekday: list[str] | Unset = UNSET
        if not isinstance(self.by_weekday, Unset):
            by_weekday = []
            for by_weekday_item_data in self.by_weekday:
                by_weekday_item = by_weekday_item_data.value
                by_weekday.append(by_weekday_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "freq": freq,
            }
        )
        if interval is not UNSET:
            field_dict["interval"] = interval
        if count is not UNSET:
            field_dict["count"] = count
        if until is not UNSET:
            field_dict["until"] = until
        if by_weekday is not UNSET:
            field_dict["by_weekday"] = by_weekday

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        freq = RecurrenceFreq(d.pop("freq"))

        interval = d.pop("interval", UNSET)

        count = d.pop("count", UNSET)

        _until = d.pop("until", UNSET)
        until: datetime.datetime | Unset
        if isinstance(_until, Unset):
            until = UNSET
        else:
            until = datetime.datetime.fromisoformat(_until)

        _by_weekday = d.pop("by_weekday", UNSET)
        by_weekday: list[RecurrenceByWeekdayItem] | Unset = UNSET
        if _by_weekday is not UNSET:
            by_weekday = []
            for by_weekday_item_data in _by_weekday:
                by_weekday_item = RecurrenceByWeekdayItem(by_weekday_item_data)

                by_weekday.append(by_weekday_item)

        recurrence = cls(
            freq=freq,
            interval=interval,
            count=count,
            until=until,
            by_weekday=by_weekday,
        )

        return recurrence
