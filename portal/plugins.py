"""What the portal core itself registers: its navigation entries, its scheduled jobs, the
notification rules of its own events and (in portal/privacy_entries.py) its personal data."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal import privacy_entries  # noqa: F401 - the core's entries of the privacy registry
from portal.change_notices import privacy as _change_notices_privacy  # noqa: F401 - notices
from portal.change_notices.notifications import RULE as CHANGE_NOTICE_RULE
from portal.documents import privacy as _documents_privacy  # noqa: F401 - stored documents
from portal.notifications.registry import NotificationRule, rules, the_person
from portal.registries import Job, NavItem, navigation, schedules

navigation.register(NavItem(key="dashboard", label=_("Übersicht"), url_name="portal:dashboard",
                            order=10))
navigation.register(NavItem(key="team", label=_("Team"), url_name="portal:team", order=20))
navigation.register(NavItem(key="security", label=_("Sicherheit"), url_name="portal:security",
                            order=90))

schedules.register(Job(
    name="portal.purge_access_log",
    func="portal.tasks.purge_access_log",
    cron="17 3 * * *",
    description="Access-log entries older than ACCESS_LOG_RETENTION_DAYS are deleted daily.",
))

schedules.register(Job(
    name="portal.purge_audit_trail",
    func="portal.tasks.purge_audit_trail",
    cron="27 3 * * *",
    description="Audit events are deleted daily once PORTAL_AUDIT_RETENTION_YEARS have passed "
                "since the end of the calendar year in which they happened.",
))

schedules.register(Job(
    name="portal.recover_notifications",
    func="portal.notifications.tasks.recover_notifications",
    cron="*/5 * * * *",
    description="E-mails whose task was lost or whose sending failed are sent again, or "
                "marked failed after the last attempt.",
))

schedules.register(Job(
    name="portal.deem_accepted_change_notices",
    func="portal.change_notices.tasks.deem_accepted_change_notices",
    cron="10 0 * * *",
    description="Change notices without objection are deemed accepted the day after their "
                "objection deadline.",
))


def _mfa_reset_context(notification) -> dict:
    from portal.services.security import security_notice_context

    return security_notice_context(user=notification.recipient, action="mfa.reset",
                                   when=notification.created_at)


rules.register(NotificationRule(event="mfa.reset", template="security_notice",
                                recipients=the_person, context=_mfa_reset_context))
rules.register(CHANGE_NOTICE_RULE)
