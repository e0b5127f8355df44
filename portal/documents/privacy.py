"""The personal data in stored documents (registered in portal/privacy.py's registry;
imported by portal/plugins.py).

A document belongs to a customer. It concerns a person where that person created it, and its
content may name people (who booked). Erasure for a person clears the reference; the file
stays: a business letter is kept by law (Art. 17 Abs. 3 lit. b DSGVO) and the others go with the
customer's data. The purge deletes every document without a retention duty, with its file
after the commit, and keeps those whose ``retain_until`` has not passed.

Why § 257 HGB and not the eight years of INVOICE_RETENTION: a booking confirmation is a copy
of a sent business letter (§ 257 Abs. 1 Nr. 3 HGB, § 147 Abs. 1 Nr. 5 AO), which the law keeps
six years from the end of its calendar year; it is not an invoice or a booking voucher (those
come from billing/ with their own eight years). A contract summary is a copy made on request of
data the portal holds anyway: it has no retention of its own.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from portal.privacy import (
    Category,
    Outcome,
    PrivacyEntry,
    Retention,
    delete_in_batches,
    erase_mentions,
    register,
    years,
)

BUSINESS_LETTER_RETENTION = Retention(
    basis="§ 257 Abs. 1 Nr. 3, Abs. 4 HGB, § 147 Abs. 1 Nr. 5, Abs. 3 AO (Kopien versandter "
          "Handelsbriefe)",
    period=years(6), starts="Ende des Kalenderjahres des Dokuments", at_year_end=True)


def _stored_files(rows) -> list[str]:
    return [name for name in rows.values_list("file", flat=True) if name]


def _purge(entry: PrivacyEntry, rows, *, subject, actor) -> Outcome:
    """Delete what no law keeps; keep (and count) what must be retained, without its creator."""
    today = timezone.localdate()
    kept = rows.filter(retain_until__gte=today)
    retained = kept.update(created_by=None)
    gone = rows.exclude(pk__in=kept.values("pk"))
    files = tuple(_stored_files(gone))
    per_model = delete_in_batches(gone)
    return Outcome(entry.model, deleted=per_model.get(entry.model, 0), retained=retained,
                   retention=BUSINESS_LETTER_RETENTION if retained else None, files=files)


register(PrivacyEntry(
    model="portal.Document",
    fields={"created_by": Category.REFERENCE, "file": Category.CONTRACT},
    not_personal={"title": "the kind of document and its subject (contract, date), no names",
                  "filename": "made of the document kind, customer number and date"},
    export_fields=("pk", "kind", "title", "filename", "created_at", "created_by", "sha256"),
    person=lambda user: Q(created_by=user),
    customer=lambda customer: Q(customer=customer),
    erase=erase_mentions(references=("created_by",)),
    purge=_purge, files=_stored_files, retention=BUSINESS_LETTER_RETENTION, order=350,
    why="Booking confirmations are business letters (six years, § 257 HGB); contract "
        "summaries are copies on request and are deleted at the purge. Erasure clears who "
        "created a document; retained letters keep their content (Art. 17 Abs. 3 lit. b).",
))
