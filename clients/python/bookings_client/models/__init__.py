"""Contains all the data models used in inputs/outputs"""

from .api_token import ApiToken
from .api_token_created import ApiTokenCreated
from .api_token_in import ApiTokenIn
from .api_token_page import ApiTokenPage
from .audit_event import AuditEvent
from .audit_event_action import AuditEventAction
from .audit_event_data import AuditEventData
from .audit_event_page import AuditEventPage
from .batch_in import BatchIn
from .booking import Booking
from .booking_in import BookingIn
from .booking_page import BookingPage
from .booking_status import BookingStatus
from .cancel_in import CancelIn
from .change_in import ChangeIn
from .check_in import CheckIn
from .check_in_conflict_policy import CheckInConflictPolicy
from .check_in_form import CheckInForm
from .check_result import CheckResult
from .check_result_occurrences_item import CheckResultOccurrencesItem
from .closure import Closure
from .closure_in import ClosureIn
from .closure_page import ClosurePage
from .delegate import Delegate
from .delegate_in import DelegateIn
from .delegate_page import DelegatePage
from .deliveries_queued import DeliveriesQueued
from .deliveries_queued_status import DeliveriesQueuedStatus
from .delivery import Delivery
from .delivery_event_type import DeliveryEventType
from .delivery_page import DeliveryPage
from .delivery_status import DeliveryStatus
from .display_token import DisplayToken
from .error import Error
from .error_body import ErrorBody
from .error_body_code import ErrorBodyCode
from .error_body_details import ErrorBodyDetails
from .feed_token import FeedToken
from .free_window import FreeWindow
from .free_windows import FreeWindows
from .get_utilization_report_group_by import GetUtilizationReportGroupBy
from .health import Health
from .health_status import HealthStatus
from .list_bookings_status import ListBookingsStatus
from .list_tickets_status import ListTicketsStatus
from .meeting import Meeting
from .meeting_room import MeetingRoom
from .meeting_state import MeetingState
from .meeting_view import MeetingView
from .meeting_view_state import MeetingViewState
from .pagination_metadata import PaginationMetadata
from .password_change import PasswordChange
from .profile import Profile
from .profile_patch import ProfilePatch
from .profile_role import ProfileRole
from .progress import Progress
from .ready import Ready
from .ready_checks import ReadyChecks
from .ready_status import ReadyStatus
from .recurrence import Recurrence
from .recurrence_by_weekday_item import RecurrenceByWeekdayItem
from .recurrence_freq import RecurrenceFreq
from .recurring_in import RecurringIn
from .recurring_in_conflict_policy import RecurringInConflictPolicy
from .refusal import Refusal
from .refusal_code import RefusalCode
from .refusal_conflicts_item import RefusalConflictsItem
from .refusal_rule import RefusalRule
from .register import Register
from .room import Room
from .room_in import RoomIn
from .room_in_policy_type_0 import RoomInPolicyType0
from .room_page import RoomPage
from .room_patch import RoomPatch
from .room_patch_policy_type_0 import RoomPatchPolicyType0
from .room_policy import RoomPolicy
from .room_policy_opening_hours_type_0 import RoomPolicyOpeningHoursType0
from .series_cancel_in import SeriesCancelIn
from .series_change_in import SeriesChangeIn
from .series_change_in_conflict_policy import SeriesChangeInConflictPolicy
from .task import Task
from .task_accepted import TaskAccepted
from .task_accepted_status import TaskAcceptedStatus
from .task_error import TaskError
from .task_error_code import TaskErrorCode
from .task_error_conflicts_item import TaskErrorConflictsItem
from .task_error_occurrences_item import TaskErrorOccurrencesItem
from .task_error_rule import TaskErrorRule
from .task_kind import TaskKind
from .task_result_type_0 import TaskResultType0
from .task_status import TaskStatus
from .ticket import Ticket
from .ticket_in import TicketIn
from .ticket_page import TicketPage
from .ticket_patch import TicketPatch
from .ticket_patch_status import TicketPatchStatus
from .ticket_status import TicketStatus
from .token import Token
from .token_request import TokenRequest
from .token_token_type import TokenTokenType
from .usage import Usage
from .user import User
from .user_role import UserRole
from .utilization import Utilization
from .webhook import Webhook
from .webhook_created import WebhookCreated
from .webhook_created_events_item import WebhookCreatedEventsItem
from .webhook_events_item import WebhookEventsItem
from .webhook_in import WebhookIn
from .webhook_in_events_item import WebhookInEventsItem
from .webhook_page import WebhookPage

__all__ = (
    "ApiToken",
    "ApiTokenCreated",
    "ApiTokenIn",
    "ApiTokenPage",
    "AuditEvent",
    "AuditEventAction",
    "AuditEventData",
    "AuditEventPage",
    "BatchIn",
    "Booking",
    "BookingIn",
    "BookingPage",
    "BookingStatus",
    "CancelIn",
    "ChangeIn",
    "CheckIn",
    "CheckInConflictPolicy",
    "CheckInForm",
    "CheckResult",
    "CheckResultOccurrencesItem",
    "Closure",
    "ClosureIn",
    "ClosurePage",
    "Delegate",
    "DelegateIn",
    "DelegatePage",
    "DeliveriesQueued",
    "DeliveriesQueuedStatus",
    "Delivery",
    "DeliveryEventType",
    "DeliveryPage",
    "DeliveryStatus",
    "DisplayToken",
    "Error",
    "ErrorBody",
    "ErrorBodyCode",
    "ErrorBodyDetails",
    "FeedToken",
    "FreeWindow",
    "FreeWindows",
    "GetUtilizationReportGroupBy",
    "Health",
    "HealthStatus",
    "ListBookingsStatus",
    "ListTicketsStatus",
    "Meeting",
    "MeetingRoom",
    "MeetingState",
    "MeetingView",
    "MeetingViewState",
    "PaginationMetadata",
    "PasswordChange",
    "Profile",
    "ProfilePatch",
    "ProfileRole",
    "Progress",
    "Ready",
    "ReadyChecks",
    "ReadyStatus",
    "Recurrence",
    "RecurrenceByWeekdayItem",
    "RecurrenceFreq",
    "RecurringIn",
    "RecurringInConflictPolicy",
    "Refusal",
    "RefusalCode",
    "RefusalConflictsItem",
    "RefusalRule",
    "Register",
    "Room",
    "RoomIn",
    "RoomInPolicyType0",
    "RoomPage",
    "RoomPatch",
    "RoomPatchPolicyType0",
    "RoomPolicy",
    "RoomPolicyOpeningHoursType0",
    "SeriesCancelIn",
    "SeriesChangeIn",
    "SeriesChangeInConflictPolicy",
    "Task",
    "TaskAccepted",
    "TaskAcceptedStatus",
    "TaskError",
    "TaskErrorCode",
    "TaskErrorConflictsItem",
    "TaskErrorOccurrencesItem",
    "TaskErrorRule",
    "TaskKind",
    "TaskResultType0",
    "TaskStatus",
    "Ticket",
    "TicketIn",
    "TicketPage",
    "TicketPatch",
    "TicketPatchStatus",
    "TicketStatus",
    "Token",
    "TokenRequest",
    "TokenTokenType",
    "Usage",
    "User",
    "UserRole",
    "Utilization",
    "Webhook",
    "WebhookCreated",
    "WebhookCreatedEventsItem",
    "WebhookEventsItem",
    "WebhookIn",
    "WebhookInEventsItem",
    "WebhookPage",
)
