from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..models.profile_role import ProfileRole

T = TypeVar("T", bound="Profile")


@_attrs_define
class Profile:
    """
    Attributes:
        id (UUID):
        email (str):
        name (str):
        role (ProfileRole):
        created_at (datetime.datetime):
        notify_email (bool): false: no mail is sent to this user
    """

    id: UUID
    email: str
    name: str
    role: ProfileRole
    created_at: datetime.datetime
    notify_email: bool

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        email = self.email

        name = self.name

        role = self.role.value

        created_at = self.created_at.isoformat()

        notify_email = self.notify_email

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "email": email,
                "name": name,
                "role": role,
                "created_at": created_at,
                "notify_email": notify_email,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        email = d.pop("email")

        name = d.pop("name")

        role = ProfileRole(d.pop("role"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        notify_email = d.pop("notify_email")

        profile = cls(
            id=id,
            email=email,
            name=name,
            role=role,
            created_at=created_at,
            notify_email=notify_email,
        )

        return profile
