"""django-q2 jobs of the gdpr app; each takes an id (or nothing) and calls one service."""

from __future__ import annotations

from gdpr.services.exports import person_export_build, person_exports_expire


def person_export_run(export_id: int) -> str | None:
    """Build the ZIP of one person's data (queued by ``person_export_start``)."""
    export = person_export_build(export_id=export_id)
    return export.state if export else None


def exports_expire() -> int:
    """Daily: the files of exports past their 14 days are deleted (a person's and a
    customer's), the rows stay."""
    from gdpr.services.contract_end import customer_exports_expire

    return person_exports_expire() + customer_exports_expire()


def purge_run() -> dict:
    """Daily: purge every customer whose purge day has come (gdpr/services/purge.py)."""
    from gdpr.services.purge import purge_due

    report = purge_due()
    return {"purged": report.purged, "held": report.held, "failed": report.failed}


def pending_files_retry() -> dict[str, int]:
    """Hourly: delete the stored files whose deletion failed after a purge or an erasure."""
    from gdpr.services.pending_files import pending_files_delete

    return pending_files_delete()


def retained_records_expire() -> dict:
    """Daily: delete the records a purge retained once their legal period has ended."""
    from gdpr.services.retention import retained_records_expire as expire

    return expire()


def customer_export_run(export_id: int) -> str | None:
    """Build the ZIP of one customer's data (queued by ``customer_export_start``)."""
    from gdpr.services.contract_end import customer_export_build

    export = customer_export_build(export_id=export_id)
    return export.state if export else None


def contract_end_reminders() -> int:
    """Daily: the customer's admins are reminded 28 days before the end of the contract."""
    from gdpr.services.contract_end import contract_end_reminders_send

    return contract_end_reminders_send()
