"""django-q2 jobs of the gdpr app; each takes an id (or nothing) and calls one service."""

from __future__ import annotations

from gdpr.services.exports import person_export_build, person_exports_expire


def person_export_run(export_id: int) -> str | None:
    """Build the ZIP of one person's data (queued by ``person_export_start``)."""
    export = person_export_build(export_id=export_id)
    return export.state if export else None


def exports_expire() -> int:
    """Daily: the files of exports past their 14 days are deleted, the rows stay."""
    return person_exports_expire()
