from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="DelegateIn")


@_attrs_define
class DelegateIn:
    """
    Attributes:
        user_id (UUID): who may book for you
    """

    user_id: UUID

    def to_dict(self) -> dict[str, Any]:
        user_id = str(self.user_id)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "user_id": user_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        user_id = UUID(d.pop("user_id"))

        delegate_in = cls(
            user_id=user_id,
        )

        return delegate_in
