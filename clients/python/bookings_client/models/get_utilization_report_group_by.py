from enum import StrEnum


class GetUtilizationReportGroupBy(StrEnum):
    DAY = "day"
    ROOM = "room"
    WEEK = "week"

    def __str__(self) -> str:
        return str(self.value)
