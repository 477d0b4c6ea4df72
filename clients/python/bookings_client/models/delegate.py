from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="Delegate")


@_attrs_define
class Delegate:
    """
    Attributes:
        user_id (UUID):
        name (str):
        email (str):
        created_at (datetime.datetime):
    """

    user_id: UUID
    name: str
    email: str
    created_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        user_id = str(self.user_id)

        name = self.name

        email = self.email

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "user_id": user_id,
                "name": name,
                "email": email,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        user_id = UUID(d.pop("user_id"))

        name = d.pop("name")

        email = d.pop("email")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        delegate = cls(
            user_id=user_id,
            name=name,
            email=email,
            created_at=created_at,
        )

        return delegate
