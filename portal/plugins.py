"""What the portal core itself registers: its navigation entries and its scheduled jobs."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

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
