"""Records a purge kept under a legal retention duty are deleted when the duty ends (DOMAIN
§5, issue 11 item 5): the daily job ``gdpr.retained_records_expire``.

The purge's certificate lists per data store the retained rows and the day their period ends
(``retained[].until``). Once that day has passed, the rows of that store still held for the
tombstone customer are deleted — in registry order (bookings before the devices and
contracts they protect), in batches, except rows another retained row still protects, rows
under a legal hold (and active holds themselves), and everything of a customer under a
customer-wide hold; a chain of rows protecting each other within one store (an upgraded
booking and its predecessor) goes in one run. Documents carry their own ``retain_until``.
The audit trail and the access log expire through their own jobs.
Each deletion is one transaction per customer with one audit event (counts only); one
customer's failure is logged and the others go on; running the job twice deletes nothing twice.
"""

from __future__ import annotations

import logging
from datetime import date

from django.db import transaction
from django.utils import timezone

from gdpr.models import CertificateKind, DeletionCertificate
from gdpr.selectors.holds import holds_for
from gdpr.services.deletion_evidence import OWN_EXPIRY
from gdpr.services.pending_files import files_delete_after_commit
from portal.models import Organisation
from portal.privacy import delete_in_batches, entries, protected_condition
from portal.services.audit import audit_event_record

log = logging.getLogger(__name__)


def _expired_stores(certificate: DeletionCertificate, today: date) -> set[str]:
    return {item["store"] for item in certificate.retained
            if item["store"] not in OWN_EXPIRY and date.fromisoformat(item["until"]) < today}


def _expirable(entry, customer: Organisation, holds, today: date):
    rows = entry.rows_of_customer(customer)
    if entry.model == "portal.Document":
        rows = rows.filter(retain_until__lt=today)
    if entry.model == "gdpr.LegalHold":
        rows = rows.filter(released_at__isnull=False)  # an active hold is never deleted
    if entry.model in holds.records:
        rows = rows.exclude(pk__in=holds.records[entry.model])
    return rows.exclude(protected_condition(rows))


def _expire_for(customer: Organisation, stores: set[str], today: date) -> dict[str, int]:
    holds = holds_for(customer)
    if holds.whole:
        return {}
    deleted: dict[str, int] = {}
    for entry in entries:
        if entry.model not in stores:
            continue
        # A row another row of the same store protects (an upgraded booking's predecessor)
        # becomes deletable once the protecting one is gone: repeat until nothing moves.
        while True:
            rows = _expirable(entry, customer, holds, today)
            if entry.files:
                files_delete_after_commit(list(entry.files(rows)))
            count = delete_in_batches(rows).get(entry.model, 0)
            if not count:
                break
            deleted[entry.model] = deleted.get(entry.model, 0) + count
    return deleted


def retained_records_expire(*, today: date | None = None) -> dict[str, dict[str, int]]:
    """Delete the retained records whose period has ended; returns the counts per customer
    reference."""
    today = today or timezone.localdate()
    result: dict[str, dict[str, int]] = {}
    certificates = (DeletionCertificate.objects.filter(kind=CertificateKind.PURGE,
                                                       customer__purged_at__isnull=False)
                    .order_by("pk"))
    for certificate in certificates.iterator():
        stores = _expired_stores(certificate, today)
        if not stores:
            continue
        try:
            with transaction.atomic():
                customer = Organisation.objects.select_for_update().get(
                    pk=certificate.customer_id)
                deleted = _expire_for(customer, stores, today)
                if deleted:
                    audit_event_record(actor=None, action="purge.retention_ended",
                                       target=customer, organisation=customer,
                                       details={"deleted": deleted,
                                                "certificate": certificate.pk})
                    result[certificate.reference] = deleted
        except Exception:  # noqa: BLE001 - one customer's failure must not stop the others
            log.exception("retention end of %s failed", certificate.reference)
    return result
