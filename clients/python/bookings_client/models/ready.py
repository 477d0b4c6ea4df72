from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..models.ready_status import ReadyStatus

if TYPE_CHECKING:
    from ..models.ready_checks import ReadyChecks


T = TypeVar("T", bound="Ready")


@_attrs_define
class Ready:
    """
    Attributes:
        status (ReadyStatus):
        checks (ReadyChecks): "ok" for each of database, redis, broker and consumers
    """

    status: ReadyStatus
    checks: ReadyChecks

    def to_dict(self) -> dict[str, Any]:
        status = self.status.value

        checks = self.checks.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "status": status,
                "checks": checks,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ready_checks import ReadyChecks  # noqa: PLC0415

        d = dict(src_dict)
        status = ReadyStatus(d.pop("status"))

        checks = ReadyChecks.from_dict(d.pop("checks"))

        ready = cls(
            status=status,
            checks=checks,
        )

        return ready
