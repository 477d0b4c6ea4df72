from enum import StrEnum


class TaskStatus(StrEnum):
    FAILED = "FAILED"
    PROCESSING = "PROCESSING"
    QUEUED = "QUEUED"
    REJECTED = "REJECTED"
    SUCCEEDED = "SUCCEEDED"
    WAITLISTED = "WAITLISTED"

    def __str__(self) -> str:
        return str(self.value)
