"""The personal data of the support desk (registered in portal/privacy.py's registry).

A ticket belongs to its customer; it names who opened it (account and address), and its free
text and messages may name people. Erasure for a person clears the references to them and
redacts their name and address from the text; the ticket stays with the customer. At the
purge tickets and messages are deleted: support records are neither invoices nor business
letters.
"""

from __future__ import annotations

from django.db.models import Q

from portal.privacy import DELETE, Category, PrivacyEntry, erase_mentions, mentions, register

register(PrivacyEntry(
    model="support.Ticket",
    fields={"created_by": Category.REFERENCE, "requester_email": Category.CONTACT,
            "location": Category.FREE_TEXT, "description": Category.FREE_TEXT,
            "escalation_summary": Category.FREE_TEXT, "function": Category.FREE_TEXT},
    export_fields=("pk", "received_at", "priority", "critical", "state", "level", "location",
                   "description", "function", "requester_email"),
    person=lambda user: (Q(created_by=user) | Q(requester_email__iexact=user.email)
                         | mentions(user, "location", "description", "escalation_summary")),
    customer=lambda customer: Q(customer=customer),
    erase=erase_mentions(references=("created_by",),
                         free_text=("location", "description", "escalation_summary",
                                    "requester_email")),
    purge=DELETE, order=320,
    why="The customer's ticket; erasure removes the person from it, the purge deletes it with "
        "its messages.",
))

register(PrivacyEntry(
    model="support.TicketMessage",
    fields={"author": Category.REFERENCE, "body": Category.FREE_TEXT},
    export_fields=("pk", "ticket_id", "created_at", "internal", "body"),
    person=lambda user: Q(author=user) | mentions(user, "body"),
    customer=lambda customer: Q(customer=customer),
    erase=erase_mentions(references=("author",), free_text=("body",)),
    purge=DELETE, order=310,
    why="Replies and internal notes; erasure clears the author and redacts the person from the "
        "text, the purge deletes them (before their tickets).",
))
