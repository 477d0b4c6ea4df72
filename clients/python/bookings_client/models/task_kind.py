from enum import StrEnum


class TaskKind(StrEnum):
    APPROVAL = "approval"
    BATCH = "batch"
    BOOKING = "booking"
    CANCEL = "cancel"
    CHANGE = "change"
    CLOSURE = "closure"
    SERIES = "series"
    SERIES_CHANGE = "series_change"

    def __str__(self) -> str:
        return str(self.value)
