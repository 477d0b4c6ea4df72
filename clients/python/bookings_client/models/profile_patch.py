from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ProfilePatch")


@_attrs_define
class ProfilePatch:
    """
    Attributes:
        notify_email (bool | Unset): false stops every mail to you (invitations, changes, cancellations, approvals,
            reminders); true turns it on again
    """

    notify_email: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        notify_email = self.notify_email

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if notify_email is not UNSET:
            field_dict["notify_email"] = notify_email

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        notify_email = d.pop("notify_email", UNSET)

        profile_patch = cls(
            notify_email=notify_email,
        )

        return profile_patch
