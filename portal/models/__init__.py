"""Models of the portal package: tenancy, personal accounts, audit and access log, documents,
the notification outbox and change notices."""

from portal.change_notices.models import ChangeNotice, NoticeDecision
from portal.documents.models import Document
from portal.models.audit import AccessLogEntry, AppendOnlyError, AuditEvent
from portal.models.organisations import Membership, Organisation
from portal.models.sessions import PersonSession
from portal.models.users import User
from portal.notifications.models import Notification, NotificationState

__all__ = [
    "AccessLogEntry",
    "AppendOnlyError",
    "AuditEvent",
    "ChangeNotice",
    "Document",
    "Membership",
    "Notification",
    "NoticeDecision",
    "NotificationState",
    "Organisation",
    "PersonSession",
    "User",
]
