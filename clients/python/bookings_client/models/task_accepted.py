from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..models.task_accepted_status import TaskAcceptedStatus

T = TypeVar("T", bound="TaskAccepted")


@_attrs_define
class TaskAccepted:
    """
    Attributes:
        task_id (UUID):
        status (TaskAcceptedStatus): QUEUED: accepted, undecided
        status_url (str): the task: GET it for the outcome
    """

    task_id: UUID
    status: TaskAcceptedStatus
    status_url: str

    def to_dict(self) -> dict[str, Any]:
        task_id = str(self.task_id)

        status = self.status.value

        status_url = self.status_url

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "task_id": task_id,
                "status": status,
                "status_url": status_url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        task_id = UUID(d.pop("task_id"))

        status = TaskAcceptedStatus(d.pop("status"))

        status_url = d.pop("status_url")

        task_accepted = cls(
            task_id=task_id,
            status=status,
            status_url=status_url,
        )

        return task_accepted
