from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.ticket_patch_status import TicketPatchStatus

T = TypeVar("T", bound="TicketPatch")


@_attrs_define
class TicketPatch:
    """
    Attributes:
        status (TicketPatchStatus):
    """

    status: TicketPatchStatus

    def to_dict(self) -> dict[str, Any]:
        status = self.status.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        status = TicketPatchStatus(d.pop("status"))

        ticket_patch = cls(
            status=status,
        )

        return ticket_patch
