from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.token_token_type import TokenTokenType

T = TypeVar("T", bound="Token")


@_attrs_define
class Token:
    """
    Attributes:
        access_token (str): send it as `Authorization: Bearer <access_token>`
        token_type (TokenTokenType):
        expires_in (int): seconds until it stops working
    """

    access_token: str
    token_type: TokenTokenType
    expires_in: int

    def to_dict(self) -> dict[str, Any]:
        access_token = self.access_token

        token_type = self.token_type.value

        expires_in = self.expires_in

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "access_token": access_token,
                "token_type": token_type,
                "expires_in": expires_in,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        access_token = d.pop("access_token")

        token_type = TokenTokenType(d.pop("token_type"))

        expires_in = d.pop("expires_in")

        token = cls(
            access_token=access_token,
            token_type=token_type,
            expires_in=expires_in,
        )

        return token
