from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.deliveries_queued_status import DeliveriesQueuedStatus

T = TypeVar("T", bound="DeliveriesQueued")


@_attrs_define
class DeliveriesQueued:
    """
    Attributes:
        status (DeliveriesQueuedStatus):
        deliveries_url (str): the webhook's deliveries
    """

    status: DeliveriesQueuedStatus
    deliveries_url: str

    def to_dict(self) -> dict[str, Any]:
        status = self.status.value

        deliveries_url = self.deliveries_url

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "status": status,
                "deliveries_url": deliveries_url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        status = DeliveriesQueuedStatus(d.pop("status"))

        deliveries_url = d.pop("deliveries_url")

        deliveries_queued = cls(
            status=status,
            deliveries_url=deliveries_url,
        )

        return deliveries_queued
