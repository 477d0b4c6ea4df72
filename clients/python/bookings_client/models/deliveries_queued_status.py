from enum import StrEnum


class DeliveriesQueuedStatus(StrEnum):
    QUEUED = "QUEUED"

    def __str__(self) -> str:
        return str(self.value)
