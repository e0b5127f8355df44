"""Writes every scheduled job the apps registered (``portal.registries.schedules``) as a
django-q2 schedule; ``setup_schedules`` and ``make run`` call it."""

from __future__ import annotations

from django_q.models import Schedule

from portal.registries import schedules


def schedules_sync() -> dict[str, str]:
    """Create or update every schedule by name; remove none that others created. Idempotent."""
    result = {}
    for job in schedules:
        schedule, created = Schedule.objects.update_or_create(
            name=job.name,
            defaults={"func": job.func, "schedule_type": Schedule.CRON, "cron": job.cron,
                      "repeats": -1},
        )
        result[job.name] = "created" if created else "updated"
    return result
