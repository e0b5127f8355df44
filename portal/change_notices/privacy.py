"""The personal data in change notices (registered in portal/privacy.py's registry; imported
by portal/plugins.py).

A notice belongs to a customer; it concerns a person who issued it or decided about it, and the
reason of an objection is free text that may name people. The notice and the customer's
decision are the evidence of which prices and terms apply: a sent business letter and the
answer to it, kept like the documents (§ 257 HGB, six years from the end of the year). Erasure
clears the references to the person and redacts them from the reason; the decision stays.
"""

from __future__ import annotations

from django.db.models import Q

from portal.documents.privacy import BUSINESS_LETTER_RETENTION
from portal.privacy import RETAIN, Category, PrivacyEntry, erase_mentions, mentions, register

register(PrivacyEntry(
    model="portal.ChangeNotice",
    fields={"created_by": Category.REFERENCE, "decided_by": Category.REFERENCE,
            "reason": Category.FREE_TEXT},
    not_personal={"text": "the provider's text of the change (prices, terms, sub-processors), "
                          "the same for every customer; it names no person"},
    export_fields=("pk", "kind", "title", "received_on", "deadline", "decision", "decided_at",
                   "decided_by", "reason", "created_by"),
    person=lambda user: Q(created_by=user) | Q(decided_by=user) | mentions(user, "reason"),
    customer=lambda customer: Q(customer=customer),
    erase=erase_mentions(references=("created_by", "decided_by"), free_text=("reason",)),
    purge=RETAIN, retention=BUSINESS_LETTER_RETENTION, order=360,
    why="A change notice and the customer's objection or (deemed) acceptance prove which "
        "prices and terms apply: kept as a business letter (§ 257 HGB). Erasure clears who "
        "issued or decided it and redacts the person from the reason of an objection.",
))
