"""The writes of the records of processing activities (Art. 30 DSGVO): generating the
provider's own records and one record per customer, and the DPO's yearly review.

Decisions:
- A new record is due for review on the day it is created: nobody has reviewed it yet.
- Generating writes only what changed; a second run in a row writes nothing and records no
  audit event (the job is safe twice). A customer without running bookings keeps its record
  (the reviews refer to it) but it is deactivated; bookings again reactivate it.
- Records are never edited by hand: their text comes from gdpr/records.py, the bookings, the
  AVV in force and the sub-processor register, so the register cannot drift from the facts.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.models import Booking, BookingState
from gdpr.models import ProcessingRecord, ProcessingReview, RecordKind
from gdpr.records import CONTROLLER_DEFAULTS, controller_record_fields, processor_record_fields
from gdpr.services.avv import current_avv
from portal.models import Organisation
from portal.periods import Period
from portal.roles import OrganisationKind, Role
from portal.services.audit import audit_event_record
from portal.tenancy import role_of

#: The yearly review (002 AVV §4 h).
REVIEW_PERIOD = Period(months=12)
#: Who may record a review: the DPO, and the provider admin standing in.
REVIEWER_ROLES = frozenset({Role.DPO, Role.PROVIDER_ADMIN})
#: Who may download the register.
REGISTER_ROLES = frozenset({Role.DPO, Role.PROVIDER_ADMIN})
#: Who may generate the records (the DPO writes only reviews, issue 10 item 7).
GENERATOR_ROLES = frozenset({Role.PROVIDER_ADMIN})


def processing_review_may_record(user) -> bool:
    return role_of(user) in REVIEWER_ROLES or bool(getattr(user, "is_superuser", False))


def processing_register_may_export(user) -> bool:
    return role_of(user) in REGISTER_ROLES or bool(getattr(user, "is_superuser", False))


def processing_records_may_generate(user) -> bool:
    return role_of(user) in GENERATOR_ROLES or bool(getattr(user, "is_superuser", False))


def _require_register_role(actor) -> None:
    """``actor=None``: the system (the daily job, the demo seed)."""
    if actor is not None and not processing_records_may_generate(actor):
        raise PermissionDenied(_("Das Verzeichnis erzeugt nur ein Administrator des "
                                 "Anbieters."))


def _changed(record: ProcessingRecord, fields: dict) -> list[str]:
    return [name for name, value in fields.items()
            if (getattr(record, f"{name}_id") != (value.pk if value else None)
                if name == "tom_version" else getattr(record, name) != value)]


def _write(*, actor, record: ProcessingRecord | None, fields: dict, customer=None,
           today: date) -> ProcessingRecord:
    """Create ``record`` or update the fields that changed; audited when anything changed."""
    now = timezone.now()
    if record is None:
        record = ProcessingRecord(customer=customer, next_review_due=today, generated_at=now,
                                  **fields)
        record.full_clean()
        record.save()
        action, changed = "processing_record.generated", sorted(fields)
    else:
        changed = _changed(record, fields)
        if record.is_active:
            if not changed:
                return record
        else:
            changed.append("is_active")
        for name, value in fields.items():
            setattr(record, name, value)
        record.is_active, record.generated_at = True, now
        record.full_clean()
        record.save(update_fields=[*(n for n in changed if n != "is_active"), "is_active",
                                   "generated_at"])
        action = "processing_record.updated"
    audit_event_record(actor=actor, action=action, target=record, organisation=customer,
                       details={"kind": record.kind, "fields": changed})
    return record


def processing_record_generate(*, actor, customer: Organisation) -> ProcessingRecord | None:
    """Create or update ``customer``'s Art. 30(2) record from its running bookings, the AVV in
    force and the sub-processors in force; deactivate it when nothing runs any more. Refused
    while no AVV is published (its categories and TOMs are the record's content)."""
    _require_register_role(actor)
    if customer.kind != OrganisationKind.CUSTOMER:
        raise ValidationError(_("Ein Verzeichnis im Auftrag gibt es nur für Kunden."))
    avv = current_avv()
    if avv is None:
        raise ValidationError(_("Es ist keine AVV veröffentlicht; ohne sie gibt es kein "
                                "Verzeichnis im Auftrag."))
    today = timezone.localdate()
    with transaction.atomic():
        record = (ProcessingRecord.objects.select_for_update()
                  .filter(kind=RecordKind.PROCESSOR, customer=customer).first())
        fields = processor_record_fields(customer, avv=avv, today=today)
        if fields is None:
            if record is not None and record.is_active:
                record.is_active = False
                record.save(update_fields=["is_active"])
                audit_event_record(actor=actor, action="processing_record.deactivated",
                                   target=record, organisation=customer,
                                   details={"kind": record.kind})
            return record
        return _write(actor=actor, record=record, fields=fields, customer=customer,
                      today=today)


def processing_records_controller_write(*, actor) -> list[ProcessingRecord]:
    """Create or update the provider's own Art. 30(1) records (gdpr/records.py), by name."""
    _require_register_role(actor)
    avv, today = current_avv(), timezone.localdate()
    written = []
    with transaction.atomic():
        existing = {r.name: r for r in ProcessingRecord.objects.select_for_update()
                    .filter(kind=RecordKind.CONTROLLER)}
        for default in CONTROLLER_DEFAULTS:
            fields = controller_record_fields(default, avv=avv, today=today)
            if fields is not None:
                written.append(_write(actor=actor, record=existing.get(default.name),
                                      fields=fields, today=today))
    return written


def processing_records_generate_all(*, actor=None) -> dict[str, int]:
    """The whole register: the provider's records and every customer's (the daily job and the
    admin action; idempotent). Without a published AVV the customers' records wait."""
    _require_register_role(actor)
    controller = processing_records_controller_write(actor=actor)
    processor = 0
    if current_avv() is not None:
        with_record = set(ProcessingRecord.objects.filter(kind=RecordKind.PROCESSOR)
                          .values_list("customer_id", flat=True))
        customers = Organisation.objects.filter(
            kind=OrganisationKind.CUSTOMER,
            pk__in=_customers_with_running_bookings() | with_record).order_by("pk")
        for customer in customers:
            processing_record_generate(actor=actor, customer=customer)
            processor += 1
    return {"controller": len(controller), "processor": processor}


def _customers_with_running_bookings() -> set[int]:
    return set(Booking.objects.filter(state__in=BookingState.RUNNING)
               .values_list("customer_id", flat=True).distinct())


def processing_review_record(*, actor, record: ProcessingRecord, reviewed_on: date,
                             outcome: str, notes: str = "") -> ProcessingReview:
    """The DPO (or the provider admin) records a review of ``record``; the next one is due
    twelve months later (portal/periods.py)."""
    if not processing_review_may_record(actor):
        raise PermissionDenied(_("Prüfungen erfasst nur der Datenschutzbeauftragte."))
    if reviewed_on > timezone.localdate():
        raise ValidationError({"reviewed_on": _("Das Prüfdatum darf nicht in der Zukunft "
                                                "liegen.")})
    with transaction.atomic():
        record = ProcessingRecord.objects.select_for_update().get(pk=record.pk)
        review = ProcessingReview(record=record, reviewed_on=reviewed_on, outcome=outcome,
                                  notes=notes.strip(), reviewer=actor)
        review.full_clean()
        review.save()
        latest = (ProcessingReview.objects.filter(record=record)
                  .order_by("-reviewed_on", "-pk").values_list("reviewed_on", flat=True)[0])
        record.next_review_due = REVIEW_PERIOD.after(latest)
        record.full_clean()
        record.save(update_fields=["next_review_due"])
        audit_event_record(actor=actor, action="processing_review.recorded", target=review,
                           organisation=record.customer,
                           details={"record": record.name, "outcome": outcome,
                                    "reviewed_on": reviewed_on.isoformat(),
                                    "next_review_due": record.next_review_due.isoformat()})
    return review


def processing_register_export_record(*, actor, file_format: str, count: int,
                                      ip: str | None = None) -> None:
    """Audit a download of the whole register (PDF, XLSX or CSV)."""
    if not processing_register_may_export(actor):
        raise PermissionDenied(_("Das Verzeichnis laden nur der Datenschutzbeauftragte und ein "
                                 "Administrator des Anbieters herunter."))
    with transaction.atomic():
        audit_event_record(actor=actor, action="processing_register.exported", ip=ip,
                           details={"format": file_format, "count": count})
