"""Models of the portal package: tenancy, personal accounts, audit and access log, documents
and the notification outbox."""

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
    "Document",
    "Membership",
    "Notification",
    "NotificationState",
    "Organisation",
    "PersonSession",
    "User",
]
