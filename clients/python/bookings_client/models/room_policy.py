from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.room_policy_opening_hours_type_0 import RoomPolicyOpeningHoursType0


T = TypeVar("T", bound="RoomPolicy")


@_attrs_define
class RoomPolicy:
    """
    Attributes:
        min_duration_minutes (int | None):
        max_duration_minutes (int | None):
        min_notice_minutes (int | None):
        horizon_days (int | None):
        buffer_minutes (int | None):
        opening_hours (None | RoomPolicyOpeningHoursType0): weekday (MO…SU) -> [[HH:MM, HH:MM], …] local times
        max_minutes_per_user_per_day (int | None):
        max_minutes_per_user_per_week (int | None):
        requires_approval (bool):
        approvers (list[UUID]):
    """

    min_duration_minutes: int | None
    max_duration_minutes: int | None
    min_notice_minutes: int | None
    horizon_days: int | None
    buffer_minutes: int | None
    opening_hours: None | RoomPolicyOpeningHoursType0
    max_minutes_per_user_per_day: int | None
    max_minutes_per_user_per_week: int | None
    requires_approval: bool
    approvers: list[UUID]

    def to_dict(self) -> dict[str, Any]:
        from ..models.room_policy_opening_hours_type_0 import RoomPolicyOpeningHoursType0  # noqa: PLC0415

        min_duration_minutes: int | None
        min_duration_minutes = self.min_duration_minutes

        max_duration_minutes: int | None
        max_duration_minutes = self.max_duration_minutes

        min_notice_minutes: int | None
        min_notice_minutes = self.min_notice_minutes

        horizon_days: int | None
        horizon_days = self.horizon_days

        buffer_minutes: int | None
        buffer_minutes = self.buffer_minutes

        opening_hours: dict[str, Any] | None
        if isinstance(self.opening_hours, RoomPolicyOpeningHoursType0):
            opening_hours = self.opening_hours.to_dict()
        else:
            opening_hours = self.opening_hours

        max_minutes_per_user_per_day: int | None
        max_minutes_per_user_per_day = self.max_minutes_per_user_per_day

        max_minutes_per_user_per_week: int | None
        max_minutes_per_user_per_week = self.max_minutes_per_user_per_week

        requires_approval = self.requires_approval

        approvers = []
        for approvers_item_data in self.approvers:
            approvers_item = str(approvers_item_data)
            approvers.append(approvers_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "min_duration_minutes": min_duration_minutes,
                "max_duration_minutes": max_duration_minutes,
                "min_notice_minutes": min_notice_minutes,
                "horizon_days": horizon_days,
                "buffer_minutes": buffer_minutes,
                "opening_hours": opening_hours,
                "max_minutes_per_user_per_day": max_minutes_per_user_per_day,
                "max_minutes_per_user_per_week": max_minutes_per_user_per_week,
                "requires_approval": requires_approval,
                "approvers": approvers,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.room_policy_opening_hours_type_0 import RoomPolicyOpeningHoursType0  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_min_duration_minutes(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        min_duration_minutes = _parse_min_duration_minutes(d.pop("min_duration_minutes"))

        def _parse_max_duration_minutes(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        max_duration_minutes = _parse_max_duration_minutes(d.pop("max_duration_minutes"))

        def _parse_min_notice_minutes(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        min_notice_minutes = _parse_min_notice_minutes(d.pop("min_notice_minutes"))

        def _parse_horizon_days(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        horizon_days = _parse_horizon_days(d.pop("horizon_days"))

        def _parse_buffer_minutes(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        buffer_minutes = _parse_buffer_minutes(d.pop("buffer_minutes"))

        def _parse_opening_hours(data: object) -> None | RoomPolicyOpeningHoursType0:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                opening_hours_type_0 = RoomPolicyOpeningHoursType0.from_dict(data)

                return opening_hours_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RoomPolicyOpeningHoursType0, data)

        opening_hours = _parse_opening_hours(d.pop("opening_hours"))

        def _parse_max_minutes_per_user_per_day(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        max_minutes_per_user_per_day = _parse_max_minutes_per_user_per_day(d.pop("max_minutes_per_user_per_day"))

        def _parse_max_minutes_per_user_per_week(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        max_minutes_per_user_per_week = _parse_max_minutes_per_user_per_week(d.pop("max_minutes_per_user_per_week"))

        requires_approval = d.pop("requires_approval")

        approvers = []
        _approvers = d.pop("approvers")
        for approvers_item_data in _approvers:
            approvers_item = UUID(approvers_item_data)

            approvers.append(approvers_item)

        room_policy = cls(
            min_duration_minutes=min_duration_minutes,
            max_duration_minutes=max_duration_minutes,
            min_notice_minutes=min_notice_minutes,
            horizon_days=horizon_days,
            buffer_minutes=buffer_minutes,
            opening_hours=opening_hours,
            max_minutes_per_user_per_day=max_minutes_per_user_per_day,
            max_minutes_per_user_per_week=max_minutes_per_user_per_week,
            requires_approval=requires_approval,
            approvers=approvers,
        )

        return room_policy
