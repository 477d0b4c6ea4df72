from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="FeedToken")


@_attrs_define
class FeedToken:
    """
    Attributes:
        token (str): shown only here; only its SHA-256 is stored
        calendar_url (str): the caller's own bookings (root-relative: prefix the API's address)
        rooms_url_template (str): a room's feed: put the room's id for {room_id}
    """

    token: str
    calendar_url: str
    rooms_url_template: str

    def to_dict(self) -> dict[str, Any]:
        token = self.token

        calendar_url = self.calendar_url

        rooms_url_template = self.rooms_url_template

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "token": token,
                "calendar_url": calendar_url,
                "rooms_url_template": rooms_url_template,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        token = d.pop("token")

        calendar_url = d.pop("calendar_url")

        rooms_url_template = d.pop("rooms_url_template")

        feed_token = cls(
            token=token,
            calendar_url=calendar_url,
            rooms_url_template=rooms_url_template,
        )

        return feed_token
