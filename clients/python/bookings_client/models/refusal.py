from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..models.refusal_code import RefusalCode
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.refusal_conflicts_item import RefusalConflictsItem
    from ..models.refusal_rule import RefusalRule


T = TypeVar("T", bound="Refusal")


@_attrs_define
class Refusal:
    """
    Attributes:
        code (RefusalCode):
        message (str):
        rule (RefusalRule | Unset): the policy key and its limit: {name, limit}
        conflicts (list[RefusalConflictsItem] | Unset): the bookings in the way: {booking_id, start_time, end_time}
    """

    code: RefusalCode
    message: str
    rule: RefusalRule | Unset = UNSET
    conflicts: list[RefusalConflictsItem] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        code = self.code.value

        message = self.message

        rule: dict[str, Any] | Unset = UNSET
        if not isinstance(self.rule, Unset):
            rule = self.rule.to_dict()

        conflicts: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.conflicts, Unset):
            conflicts = []
            for conflicts_item_data in self.conflicts:
                conflicts_item = conflicts_item_data.to_dict()
                conflicts.append(conflicts_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "code": code,
                "message": message,
            }
        )
        if rule is not UNSET:
            field_dict["rule"] = rule
        if conflicts is not UNSET:
            field_dict["conflicts"] = conflicts

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.refusal_conflicts_item import RefusalConflictsItem  # noqa: PLC0415
        from ..models.refusal_rule import RefusalRule  # noqa: PLC0415

        d = dict(src_dict)
        code = RefusalCode(d.pop("code"))

        message = d.pop("message")

        _rule = d.pop("rule", UNSET)
        rule: RefusalRule | Unset
        if isinstance(_rule, Unset):
            rule = UNSET
        else:
            rule = RefusalRule.from_dict(_rule)

        _conflicts = d.pop("conflicts", UNSET)
        conflicts: list[RefusalConflictsItem] | Unset = UNSET
        if _conflicts is not UNSET:
            conflicts = []
            for conflicts_item_data in _conflicts:
                conflicts_item = RefusalConflictsItem.from_dict(conflicts_item_data)

                conflicts.append(conflicts_item)

        refusal = cls(
            code=code,
            message=message,
            rule=rule,
            conflicts=conflicts,
        )

        return refusal
