from enum import StrEnum


class BookingStatus(StrEnum):
    CANCELLED = "CANCELLED"
    CONFIRMED = "CONFIRMED"
    PENDING = "PENDING"

    def __str__(self) -> str:
        return str(self.value)
