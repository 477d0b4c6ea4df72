from enum import StrEnum


class MeetingViewState(StrEnum):
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"
    SCHEDULED = "SCHEDULED"

    def __str__(self) -> str:
        return str(self.value)
