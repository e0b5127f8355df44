"""Every scheduled job of the project, in one list; ``setup_schedules`` writes them."""

from __future__ import annotations

from dataclasses import dataclass

from django_q.models import Schedule


@dataclass(frozen=True)
class Job:
    name: str
    func: str
    cron: str
    description: str


JOBS: tuple[Job, ...] = (
    Job(
        name="portal.purge_access_log",
        func="portal.tasks.purge_access_log",
        cron="17 3 * * *",
        description="Access-log entries older than ACCESS_LOG_RETENTION_DAYS are deleted daily.",
    ),
    Job(
        name="devices.cleanup_imports",
        func="devices.tasks.cleanup_imports",
        cron="41 * * * *",
        description="Stored import files are deleted DEVICE_IMPORT_KEEP_HOURS after upload, "
                    "whatever the import's state.",
    ),
    Job(
        name="devices.recover_imports",
        func="devices.tasks.recover_imports",
        cron="*/5 * * * *",
        description="Imports stuck in a job step (worker died, task lost) are sent again, or "
                    "failed with a message after PORTAL_JOB_MAX_ATTEMPTS (docs/adr/0008).",
    ),
    Job(
        name="contracts.end_due",
        func="contracts.tasks.end_due_contracts",
        cron="5 0 * * *",
        description="Bookings and contracts past their effective end become ended.",
    ),
)


def schedules_sync() -> dict[str, str]:
    """Create or update every schedule by name; remove none that others created. Idempotent."""
    result = {}
    for job in JOBS:
        schedule, created = Schedule.objects.update_or_create(
            name=job.name,
            defaults={"func": job.func, "schedule_type": Schedule.CRON, "cron": job.cron,
                      "repeats": -1},
        )
        result[job.name] = "created" if created else "updated"
    return result
