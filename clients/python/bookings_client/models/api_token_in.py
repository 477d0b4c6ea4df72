from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ApiTokenIn")


@_attrs_define
class ApiTokenIn:
    """
    Attributes:
        name (str): what it is for, e.g. the service using it
        expires_in_days (int | Unset): its lifetime; 90 when not given
    """

    name: str
    expires_in_days: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        expires_in_days = self.expires_in_days

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
            }
        )
        if expires_in_days is not UNSET:
            field_dict["expires_in_days"] = expires_in_days

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        expires_in_days = d.pop("expires_in_days", UNSET)

        api_token_in = cls(
            name=name,
            expires_in_days=expires_in_days,
        )

        return api_token_in
