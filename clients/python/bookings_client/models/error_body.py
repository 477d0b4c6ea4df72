from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..models.error_body_code import ErrorBodyCode

if TYPE_CHECKING:
    from ..models.error_body_details import ErrorBodyDetails


T = TypeVar("T", bound="ErrorBody")


@_attrs_define
class ErrorBody:
    """
    Attributes:
        code (ErrorBodyCode): what went wrong
        message (str): the same, for people
        details (ErrorBodyDetails): per code: the fields a 422 refused, the service a 503 names
    """

    code: ErrorBodyCode
    message: str
    details: ErrorBodyDetails

    def to_dict(self) -> dict[str, Any]:
        code = self.code.value

        message = self.message

        details = self.details.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "code": code,
                "message": message,
                "details": details,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.error_body_details import ErrorBodyDetails  # noqa: PLC0415

        d = dict(src_dict)
        code = ErrorBodyCode(d.pop("code"))

        message = d.pop("message")

        details = ErrorBodyDetails.from_dict(d.pop("details"))

        error_body = cls(
            code=code,
            message=message,
            details=details,
        )

        return error_body
