from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.check_result_occurrences_item import CheckResultOccurrencesItem
    from ..models.refusal import Refusal


T = TypeVar("T", bound="CheckResult")


@_attrs_define
class CheckResult:
    """
    Attributes:
        ok (bool): the worker would decide SUCCEEDED now
        refusals (list[Refusal]):
        occurrences (list[CheckResultOccurrencesItem] | Unset): a series' occurrences
        waitlisted (bool | Unset): with waitlist: it would wait (only then)
    """

    ok: bool
    refusals: list[Refusal]
    occurrences: list[CheckResultOccurrencesItem] | Unset = UNSET
    waitlisted: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        ok = self.ok

        refusals = []
        for refusals_item_data in self.refusals:
            refusals_item = refusals_item_data.to_dict()
            refusals.append(refusals_item)

        occurrences: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.occurrences, Unset):
            occurrences = []
            for occurrences_item_data in self.occurrences:
                occurrences_item = occurrences_item_data.to_dict()
                occurrences.append(occurrences_item)

        waitlisted = self.waitlisted

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "ok": ok,
                "refusals": refusals,
            }
        )
        if occurrences is not UNSET:
            field_dict["occurrences"] = occurrences
        if waitlisted is not UNSET:
            field_dict["waitlisted"] = waitlisted

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.check_result_occurrences_item import CheckResultOccurrencesItem  # noqa: PLC0415
        from ..models.refusal import Refusal  # noqa: PLC0415

        d = dict(src_dict)
        ok = d.pop("ok")

        refusals = []
        _refusals = d.pop("refusals")
        for refusals_item_data in _refusals:
            refusals_item = Refusal.from_dict(refusals_item_data)

            refusals.append(refusals_item)

        _occurrences = d.pop("occurrences", UNSET)
        occurrences: list[CheckResultOccurrencesItem] | Unset = UNSET
        if _occurrences is not UNSET:
            occurrences = []
            for occurrences_item_data in _occurrences:
                occurrences_item = CheckResultOccurrencesItem.from_dict(occurrences_item_data)

                occurrences.append(occurrences_item)

        waitlisted = d.pop("waitlisted", UNSET)

        check_result = cls(
            ok=ok,
            refusals=refusals,
            occurrences=occurrences,
            waitlisted=waitlisted,
        )

        return check_result
