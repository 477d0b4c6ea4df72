from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.task_kind import TaskKind
from ..models.task_status import TaskStatus

if TYPE_CHECKING:
    from ..models.progress import Progress
    from ..models.task_error import TaskError
    from ..models.task_result_type_0 import TaskResultType0


T = TypeVar("T", bound="Task")


@_attrs_define
class Task:
    """
    Attributes:
        task_id (UUID):
        kind (TaskKind):
        status (TaskStatus):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        result (None | TaskResultType0): what took effect: booking_id, series_id, occurrences, items…
        error (None | TaskError):
        progress (None | Progress):
    """

    task_id: UUID
    kind: TaskKind
    status: TaskStatus
    created_at: datetime.datetime
    updated_at: datetime.datetime
    result: None | TaskResultType0
    error: None | TaskError
    progress: None | Progress

    def to_dict(self) -> dict[str, Any]:
        from ..models.progress import Progress  # noqa: PLC0415
        from ..models.task_error import TaskError  # noqa: PLC0415
        from ..models.task_result_type_0 import TaskResultType0  # noqa: PLC0415

        task_id = str(self.task_id)

        kind = self.kind.value

        status = self.status.value

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        result: dict[str, Any] | None
        if isinstance(self.result, TaskResultType0):
            result = self.result.to_dict()
        else:
            result = self.result

        error: dict[str, Any] | None
        if isinstance(self.error, TaskError):
            error = self.error.to_dict()
        else:
            error = self.error

        progress: dict[str, Any] | None
        if isinstance(self.progress, Progress):
            progress = self.progress.to_dict()
        else:
            progress = self.progress

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "task_id": task_id,
                "kind": kind,
                "status": status,
                "created_at": created_at,
                "updated_at": updated_at,
                "result": result,
                "error": error,
                "progress": progress,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.progress import Progress  # noqa: PLC0415
        from ..models.task_error import TaskError  # noqa: PLC0415
        from ..models.task_result_type_0 import TaskResultType0  # noqa: PLC0415

        d = dict(src_dict)
        task_id = UUID(d.pop("task_id"))

        kind = TaskKind(d.pop("kind"))

        status = TaskStatus(d.pop("status"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_result(data: object) -> None | TaskResultType0:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                result_type_0 = TaskResultType0.from_dict(data)

                return result_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TaskResultType0, data)

        result = _parse_result(d.pop("result"))

        def _parse_error(data: object) -> None | TaskError:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                error_type_0 = TaskError.from_dict(data)

                return error_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TaskError, data)

        error = _parse_error(d.pop("error"))

        def _parse_progress(data: object) -> None | Progress:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                progress_type_0 = Progress.from_dict(data)

                return progress_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Progress, data)

        progress = _parse_progress(d.pop("progress"))

        task = cls(
            task_id=task_id,
            kind=kind,
            status=status,
            created_at=created_at,
            updated_at=updated_at,
            result=result,
            error=error,
            progress=progress,
        )

        return task
