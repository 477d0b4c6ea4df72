from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="DisplayToken")


@_attrs_define
class DisplayToken:
    """
    Attributes:
        token (str): shown only here; only its SHA-256 is stored
        display_url (str): the page for the screen beside the door (opens with the token)
    """

    token: str
    display_url: str

    def to_dict(self) -> dict[str, Any]:
        token = self.token

        display_url = self.display_url

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "token": token,
                "display_url": display_url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        token = d.pop("token")

        display_url = d.pop("display_url")

        display_token = cls(
            token=token,
            display_url=display_url,
        )

        return display_token
