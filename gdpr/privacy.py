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

from portal.privacy import RETAIN, Category, PrivacyEntry, Retention, exempt, register, years

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

exempt("gdpr.TomMeasure", "the provider's security measures (AVV section 4), no people")
