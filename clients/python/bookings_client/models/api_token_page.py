from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.api_token import ApiToken


T = TypeVar("T", bound="ApiTokenPage")


@_attrs_define
class ApiTokenPage:
    """
    Attributes:
        items (list[ApiToken]):
        total (int):
        limit (int):
        offset (int):
    """

    items: list[ApiToken]
    total: int
    limit: int
    offset: int

    def to_dict(self) -> dict[str, Any]:
        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        total = self.total

        limit = self.limit

        offset = self.offset

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "items": items,
                "total": total,
                "limit": limit,
                "offset": offset,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.api_token import ApiToken  # noqa: PLC0415

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = ApiToken.from_dict(items_item_data)

            items.append(items_item)

        total = d.pop("total")

        limit = d.pop("limit")

        offset = d.pop("offset")

        api_token_page = cls(
            items=items,
            total=total,
            limit=limit,
            offset=offset,
        )

        return api_token_page
