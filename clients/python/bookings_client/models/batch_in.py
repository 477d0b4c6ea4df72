from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.booking_in import BookingIn
    from ..models.recurring_in import RecurringIn


T = TypeVar("T", bound="BatchIn")


@_attrs_define
class BatchIn:
    """
    Attributes:
        items (list[BookingIn | RecurringIn]):
    """

    items: list[BookingIn | RecurringIn]

    def to_dict(self) -> dict[str, Any]:
        from ..models.booking_in import BookingIn  # noqa: PLC0415

        items = []
        for items_item_data in self.items:
            items_item: dict[str, Any]
            if isinstance(items_item_data, BookingIn):
                items_item = items_item_data.to_dict()
            else:
                items_item = items_item_data.to_dict()

            items.append(items_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "items": items,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.booking_in import BookingIn  # noqa: PLC0415
        from ..models.recurring_in import RecurringIn  # noqa: PLC0415

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:

            def _parse_items_item(data: object) -> BookingIn | RecurringIn:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    items_item_type_0 = BookingIn.from_dict(data)

                    return items_item_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                items_item_type_1 = RecurringIn.from_dict(data)

                return items_item_type_1

            items_item = _parse_items_item(items_item_data)

            items.append(items_item)

        batch_in = cls(
            items=items,
        )

        return batch_in
