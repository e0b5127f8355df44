"""The personal data of the AVV (registered in portal/privacy.py's registry).

An acceptance is the evidence that the customer agreed to the processing terms (Art. 28
Abs. 9, Art. 5 Abs. 2 DSGVO): who, when, from which IP and browser. It is retained on erasure
and at the customer purge, for three years after the end of the calendar year in which the
contract ended (the regular limitation period, §§ 195, 199 BGB, in which claims about the
processing can be raised). A published version names who published it, the provider's own
record of the terms in force, kept on the same basis.
"""

from __future__ import annotations

from django.db.models import Q

from portal.privacy import (
    DELETE,
    RETAIN,
    Category,
    PrivacyEntry,
    Retention,
    erase_mentions,
    exempt,
    mentions,
    register,
    years,
)

AVV_EVIDENCE_RETENTION = Retention(
    basis="Art. 28 Abs. 9, Art. 5 Abs. 2 DSGVO (Nachweis der Auftragsverarbeitung); §§ 195, "
          "199 BGB (Verjährung)",
    period=years(3), starts="Ende des Kalenderjahres des Vertragsendes", at_year_end=True)

register(PrivacyEntry(
    model="gdpr.AvvAcceptance",
    fields={"person": Category.REFERENCE, "ip": Category.ONLINE_ID,
            "user_agent": Category.ONLINE_ID},
    export_fields=("pk", "customer__name", "version__label", "accepted_at", "ip", "user_agent",
                   "sha256"),
    person=lambda user: Q(person=user),
    customer=lambda customer: Q(customer=customer),
    erase=RETAIN, purge=RETAIN, retention=AVV_EVIDENCE_RETENTION, order=940,
    why="The evidence of who accepted which AVV text; the database refuses changes and "
        "deletion (insert-only). The account behind ``person`` is pseudonymised on erasure.",
))

register(PrivacyEntry(
    model="gdpr.AvvVersion",
    fields={"published_by": Category.REFERENCE},
    export_fields=("pk", "label", "published_at"),
    not_personal={"text_de": "the contract text and the provider's DPO contact, no customer's "
                             "data", "toms": "the security measures, no people"},
    person=lambda user: Q(published_by=user),
    erase=RETAIN, purge=RETAIN, retention=AVV_EVIDENCE_RETENTION, order=945,
    why="A published version is frozen (the database refuses changes); who published it "
        "stays with it, the account is pseudonymised on erasure.",
))

register(PrivacyEntry(
    model="gdpr.ObjectionCase",
    fields={"resolved_by": Category.REFERENCE, "resolution_note": Category.FREE_TEXT},
    export_fields=("pk", "customer__name", "notice__title", "opened_at", "resolution",
                   "resolution_note", "resolved_at", "resolved_by"),
    person=lambda user: Q(resolved_by=user) | mentions(user, "resolution_note"),
    customer=lambda customer: Q(customer=customer),
    erase=erase_mentions(references=("resolved_by",), free_text=("resolution_note",)),
    purge=RETAIN, retention=AVV_EVIDENCE_RETENTION, order=930,
    why="How an objection to a sub-processor change ended is evidence of the processing "
        "terms, kept as the acceptances are. Erasure clears who resolved it and redacts the "
        "person from the note.",
))

register(PrivacyEntry(
    model="gdpr.ProcessingReview",
    fields={"reviewer": Category.REFERENCE, "notes": Category.FREE_TEXT},
    export_fields=("pk", "record__name", "reviewed_on", "outcome", "notes", "reviewer"),
    person=lambda user: Q(reviewer=user) | mentions(user, "notes"),
    customer=lambda customer: Q(record__customer=customer),
    erase=erase_mentions(references=("reviewer",), free_text=("notes",)),
    purge=RETAIN, retention=AVV_EVIDENCE_RETENTION, order=920,
    why="The DPO's reviews prove that the records were kept up to date (Art. 5 Abs. 2, "
        "Art. 30 DSGVO). Erasure clears the reviewer and redacts the person from the notes.",
))

exempt("gdpr.ProcessingRecord", "describes processing (purposes, categories, recipients), "
                                "names no person")
register(PrivacyEntry(
    model="gdpr.SubProcessor",
    fields={"created_by": Category.REFERENCE},
    not_personal={"name": "a company the provider engages",
                  "location": "the company's place of processing",
                  "data_categories": "categories, no people"},
    export_fields=("pk", "name", "valid_from", "valid_to", "created_by"),
    person=lambda user: Q(created_by=user),
    erase=erase_mentions(references=("created_by",)),
    purge=RETAIN, retention=AVV_EVIDENCE_RETENTION, order=950,
    why="The register is part of the AVV text customers accepted; who entered a row is "
        "cleared on erasure.",
))
exempt("gdpr.TomMeasure", "the provider's security measures (AVV section 4), no people")

#: Requests are the evidence that the rights were answered in time (Art. 5 Abs. 2, Art. 12
#: DSGVO): kept three years after the end of the year in which the request was closed.
REQUEST_EVIDENCE_RETENTION = Retention(
    basis="Art. 5 Abs. 2, Art. 12 DSGVO (Nachweis der Bearbeitung); §§ 195, 199 BGB "
          "(Verjährung)",
    period=years(3), starts="Ende des Kalenderjahres des Abschlusses", at_year_end=True)

register(PrivacyEntry(
    model="gdpr.DataSubjectRequest",
    fields={"subject": Category.REFERENCE, "requester_name": Category.IDENTITY,
            "requester_email": Category.CONTACT, "details": Category.FREE_TEXT,
            "identity_check": Category.FREE_TEXT, "extension_reason": Category.FREE_TEXT,
            "outcome": Category.FREE_TEXT, "created_by": Category.REFERENCE},
    export_fields=("pk", "kind", "channel", "received_on", "deadline", "extended_deadline",
                   "state", "requester_name", "requester_email", "details", "outcome",
                   "closed_at"),
    person=lambda user: Q(subject=user) | Q(created_by=user),
    customer=lambda customer: Q(customer=customer),
    erase=RETAIN, purge=RETAIN, retention=REQUEST_EVIDENCE_RETENTION, order=910,
    why="A request and how it was answered prove that the person's rights were kept; the "
        "account behind ``subject`` is pseudonymised on erasure, the request stays.",
))


def _export_files(rows) -> list[str]:
    return [name for name in rows.exclude(file="").values_list("file", flat=True) if name]


register(PrivacyEntry(
    model="gdpr.PersonExport",
    fields={"subject": Category.REFERENCE, "requested_by": Category.REFERENCE,
            "file": Category.FREE_TEXT, "error": Category.FREE_TEXT},
    not_personal={"sha256": "checksum of the file", "size": "bytes"},
    export_fields=("pk", "state", "created_at", "finished_at", "expires_at"),
    person=lambda user: Q(subject=user) | Q(requested_by=user),
    customer=lambda customer: Q(customer=customer),
    erase=DELETE, purge=DELETE, files=_export_files, order=905,
    # A copy keyed to the person that expires on its own (gdpr.exports_expire): a hold of one
    # row would not keep it; the hold of the whole customer does.
    holdable=False,
    why="The ZIP holds a copy of everything about the person; it expires after 14 days and "
        "goes with the person or the customer, the stored file after the commit.",
))


register(PrivacyEntry(
    model="gdpr.CustomerExport",
    fields={"requested_by": Category.REFERENCE, "file": Category.FREE_TEXT,
            "error": Category.FREE_TEXT},
    not_personal={"sha256": "checksum of the file", "size": "bytes"},
    export_fields=("pk", "state", "created_at", "finished_at", "expires_at"),
    person=lambda user: Q(requested_by=user),
    customer=lambda customer: Q(customer=customer),
    erase=erase_mentions(references=["requested_by"]), purge=DELETE, files=_export_files,
    order=905,
    why="The customer's own export (all its data, 002 AVV § 3.11); it belongs to the customer, "
        "so erasure only clears who started it; it goes at the purge, the file after the "
        "commit.",
))

register(PrivacyEntry(
    model="gdpr.DataProvisionOrder",
    fields={"ordered_by": Category.REFERENCE, "handled_by": Category.REFERENCE,
            "scope": Category.FREE_TEXT, "delivery": Category.FREE_TEXT,
            "note": Category.FREE_TEXT},
    export_fields=("pk", "ordered_on", "contract_end", "wanted_by", "scope", "delivery",
                   "state", "handled_at"),
    person=lambda user: (Q(ordered_by=user) | Q(handled_by=user)
                         | mentions(user, "scope", "delivery", "note")),
    customer=lambda customer: Q(customer=customer),
    erase=erase_mentions(references=["ordered_by", "handled_by"],
                         free_text=["scope", "delivery", "note"]),
    purge=DELETE, order=905,
    why="The customer's order to hand over its data before the end (003 § 24.3); it goes "
        "with the customer's data at the purge.",
))

register(PrivacyEntry(
    model="gdpr.LegalHold",
    fields={"placed_by": Category.REFERENCE, "released_by": Category.REFERENCE,
            "reason": Category.FREE_TEXT, "release_reason": Category.FREE_TEXT},
    export_fields=("pk", "model_label", "object_id", "placed_at", "released_at"),
    person=lambda user: (Q(placed_by=user) | Q(released_by=user)
                         | mentions(user, "reason", "release_reason")),
    customer=lambda customer: Q(customer=customer),
    erase=erase_mentions(references=["placed_by", "released_by"],
                         free_text=["reason", "release_reason"]),
    purge=RETAIN, retention=AVV_EVIDENCE_RETENTION, order=930,
    why="Why a purge was paused is part of the evidence that the data was deleted in time; "
        "kept with the deletion certificate.",
))

exempt("gdpr.DeletionCertificate", "the deletion certificate holds references (customer "
       "number, request number), counts per data store and a hash over row ids, no personal "
       "data (tests/gdpr/test_certificates.py searches it for the people's data); insert-only "
       "evidence (ISO 27001 A.8.10)")
