from enum import StrEnum


class DeliveryEventType(StrEnum):
    BOOKING_CANCELLED = "booking.cancelled"
    BOOKING_CHANGED = "booking.changed"
    BOOKING_CHECKED_IN = "booking.checked_in"
    BOOKING_CONFIRMED = "booking.confirmed"
    BOOKING_PENDING = "booking.pending"
    TASK_FINISHED = "task.finished"
    TASK_WAITLISTED = "task.waitlisted"
    WEBHOOK_PING = "webhook.ping"

    def __str__(self) -> str:
        return str(self.value)
