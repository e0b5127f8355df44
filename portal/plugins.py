"""What the portal core itself registers: its scheduled jobs."""

from __future__ import annotations

from portal.registries import Job, schedules

schedules.register(Job(
    name="portal.purge_access_log",
    func="portal.tasks.purge_access_log",
    cron="17 3 * * *",
    description="Access-log entries older than ACCESS_LOG_RETENTION_DAYS are deleted daily.",
))
