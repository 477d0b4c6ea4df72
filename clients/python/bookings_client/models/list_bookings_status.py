from enum import StrEnum


class ListBookingsStatus(StrEnum):
    CANCELLED = "CANCELLED"
    CONFIRMED = "CONFIRMED"
    PENDING = "PENDING"

    def __str__(self) -> str:
        return str(self.value)
