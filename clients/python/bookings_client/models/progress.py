from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="Progress")


@_attrs_define
class Progress:
    """
    Attributes:
        total (int):
        done (int):
        confirmed (int):
        rejected (int):
    """

    total: int
    done: int
    confirmed: int
    rejected: int

    def to_dict(self) -> dict[str, Any]:
        total = self.total

        done = self.done

        confirmed = self.confirmed

        rejected = self.rejected

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "total": total,
                "done": done,
                "confirmed": confirmed,
                "rejected": rejected,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        total = d.pop("total")

        done = d.pop("done")

        confirmed = d.pop("confirmed")

        rejected = d.pop("rejected")

        progress = cls(
            total=total,
            done=done,
            confirmed=confirmed,
            rejected=rejected,
        )

        return progress
