from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..models.task_error_code import TaskErrorCode
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.task_error_conflicts_item import TaskErrorConflictsItem
    from ..models.task_error_occurrences_item import TaskErrorOccurrencesItem
    from ..models.task_error_rule import TaskErrorRule


T = TypeVar("T", bound="TaskError")


@_attrs_define
class TaskError:
    """
    Attributes:
        code (TaskErrorCode):
        message (str):
        conflicts (list[TaskErrorConflictsItem] | Unset): the bookings in the way: {booking_id, start_time, end_time}
        rule (TaskErrorRule | Unset): a policy's refusal: {name, limit}
        room_id (UUID | Unset): the room that refused, of several
        occurrences (list[TaskErrorOccurrencesItem] | Unset): a series' refused occurrences
    """

    code: TaskErrorCode
    message: str
    conflicts: list[TaskErrorConflictsItem] | Unset = UNSET
    rule: TaskErrorRule | Unset = UNSET
    room_id: UUID | Unset = UNSET
    occurrences: list[TaskErrorOccurrencesItem] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        code = self.code.value

        message = self.message

        conflicts: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.conflicts, Unset):
            conflicts = []
            for conflicts_item_data in self.conflicts:
                conflicts_item = conflicts_item_data.to_dict()
                conflicts.append(conflicts_item)

        rule: dict[str, Any] | Unset = UNSET
        if not isinstance(self.rule, Unset):
            rule = self.rule.to_dict()

        room_id: str | Unset = UNSET
        if not isinstance(self.room_id, Unset):
            room_id = str(self.room_id)

        occurrences: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.occurrences, Unset):
            occurrences = []
            for occurrences_item_data in self.occurrences:
                occurrences_item = occurrences_item_data.to_dict()
                occurrences.append(occurrences_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "code": code,
                "message": message,
            }
        )
        if conflicts is not UNSET:
            field_dict["conflicts"] = conflicts
        if rule is not UNSET:
            field_dict["rule"] = rule
        if room_id is not UNSET:
            field_dict["room_id"] = room_id
        if occurrences is not UNSET:
            field_dict["occurrences"] = occurrences

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.task_error_conflicts_item import TaskErrorConflictsItem  # noqa: PLC0415
        from ..models.task_error_occurrences_item import TaskErrorOccurrencesItem  # noqa: PLC0415
        from ..models.task_error_rule import TaskErrorRule  # noqa: PLC0415

        d = dict(src_dict)
        code = TaskErrorCode(d.pop("code"))

        message = d.pop("message")

        _conflicts = d.pop("conflicts", UNSET)
        conflicts: list[TaskErrorConflictsItem] | Unset = UNSET
        if _conflicts is not UNSET:
            conflicts = []
            for conflicts_item_data in _conflicts:
                conflicts_item = TaskErrorConflictsItem.from_dict(conflicts_item_data)

                conflicts.append(conflicts_item)

        _rule = d.pop("rule", UNSET)
        rule: TaskErrorRule | Unset
        if isinstance(_rule, Unset):
            rule = UNSET
        else:
            rule = TaskErrorRule.from_dict(_rule)

        _room_id = d.pop("room_id", UNSET)
        room_id: UUID | Unset
        if isinstance(_room_id, Unset):
            room_id = UNSET
        else:
            room_id = UUID(_room_id)

        _occurrences = d.pop("occurrences", UNSET)
        occurrences: list[TaskErrorOccurrencesItem] | Unset = UNSET
        if _occurrences is not UNSET:
            occurrences = []
            for occurrences_item_data in _occurrences:
                occurrences_item = TaskErrorOccurrencesItem.from_dict(occurrences_item_data)

                occurrences.append(occurrences_item)

        task_error = cls(
            code=code,
            message=message,
            conflicts=conflicts,
            rule=rule,
            room_id=room_id,
            occurrences=occurrences,
        )

        return task_error
