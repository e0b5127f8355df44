"""Reads of the records of processing activities: each with its last review and whether its
yearly review is overdue, computed in the database (no query per row)."""

from __future__ import annotations

from datetime import date

from django.db.models import BooleanField, Case, Max, QuerySet, Value, When

from gdpr.models import ProcessingRecord
from gdpr.records import retention_text


def records_visible(user, today: date) -> QuerySet[ProcessingRecord]:
    """The records ``user`` may see (customers and partners: only the Art. 30(2) records of
    their customers; the provider's own records have no customer), each annotated with
    ``last_reviewed_on`` and ``review_overdue`` (active and ``next_review_due`` before
    ``today``)."""
    return (ProcessingRecord.objects.visible_to(user)
            .select_related("customer", "tom_version")
            .annotate(last_reviewed_on=Max("reviews__reviewed_on"),
                      review_overdue=Case(
                          When(is_active=True, next_review_due__lt=today, then=Value(True)),
                          default=Value(False), output_field=BooleanField())))


def records_review_overdue(user, today: date) -> QuerySet[ProcessingRecord]:
    """Active records whose yearly review was due before ``today``, the longest overdue first
    (the DPO's start page)."""
    return (records_visible(user, today).filter(review_overdue=True)
            .order_by("next_review_due", "kind", "name", "pk"))


def register_rows(user, today: date) -> list[ProcessingRecord]:
    """The active register for an export, the retention written from the privacy registry's
    current rules (``retention_now``), the record's stored text where it names none."""
    records = list(records_visible(user, today).filter(is_active=True)
                   .order_by("kind", "name", "pk"))
    for record in records:
        record.retention_now = (retention_text(record.retention_entries)
                                if record.retention_entries else record.retention)
    return records
