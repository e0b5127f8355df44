"""The personal data of contracts and bookings (registered in portal/privacy.py's registry).

Bookings are the booking data behind the invoices and stay for eight years after the end of
the calendar year of the invoice (§ 147 AO, § 14b UStG, DOMAIN §5); who booked or cancelled
is not part of that, so erasure for a person clears those references and keeps the booking.
"""

from __future__ import annotations

from django.db.models import Q

from portal.privacy import (
    INVOICE_RETENTION,
    RETAIN,
    Category,
    PrivacyEntry,
    delete_unless_protected,
    erase_mentions,
    exempt,
    mentions,
    register,
)

register(PrivacyEntry(
    model="contracts.Booking",
    fields={"booked_by": Category.REFERENCE, "removed_by": Category.REFERENCE},
    export_fields=("pk", "plan_name", "device__hostname", "active_from", "state",
                   "booked_by", "removed_by", "removal_received", "effective_end"),
    person=lambda user: Q(booked_by=user) | Q(removed_by=user),
    customer=lambda customer: Q(customer=customer),
    erase=erase_mentions(references=("booked_by", "removed_by")),
    purge=RETAIN, retention=INVOICE_RETENTION, order=200,
    why="Retained at the purge (booking data behind invoices); erasure clears who booked and "
        "who cancelled.",
))

register(PrivacyEntry(
    model="contracts.Contract",
    fields={"cancelled_by": Category.REFERENCE, "cancellation_reason": Category.FREE_TEXT},
    export_fields=("pk", "customer__name", "start", "status", "cancellation_received",
                   "effective_end", "cancelled_by", "cancellation_reason"),
    person=lambda user: Q(cancelled_by=user) | mentions(user, "cancellation_reason"),
    customer=lambda customer: Q(customer=customer),
    erase=erase_mentions(references=("cancelled_by",), free_text=("cancellation_reason",)),
    purge=delete_unless_protected({"cancelled_by": None}),
    retention=INVOICE_RETENTION, order=500,
    why="The framework contract is kept while retained bookings refer to it (without who "
        "cancelled it); one without bookings is deleted. Erasure redacts the person from the "
        "cancellation reason.",
))

exempt("contracts.Plan", "the service catalogue: product names and features, no people")

register(PrivacyEntry(
    model="contracts.PlanPriceChange",
    fields={"announced_by": Category.REFERENCE},
    not_personal={"note": "the provider's note on a catalogue price, the same for every "
                          "customer"},
    export_fields=("pk", "plan__code", "kind", "new_price", "effective_on", "announced_on",
                   "announced_by"),
    person=lambda user: Q(announced_by=user),
    erase=erase_mentions(references=("announced_by",)),
    purge=RETAIN, retention=INVOICE_RETENTION, order=190,
    why="A catalogue price change is the basis of the dated booking prices that invoices bill: "
        "kept like them; erasure clears who announced it.",
))

register(PrivacyEntry(
    model="contracts.SpecialTerminationOffer",
    fields={"exercised_by": Category.REFERENCE},
    export_fields=("pk", "price_change_id", "offered_on", "exercised_at", "exercised_by",
                   "end"),
    person=lambda user: Q(exercised_by=user),
    customer=lambda customer: Q(customer=customer),
    erase=erase_mentions(references=("exercised_by",)),
    purge=RETAIN, retention=INVOICE_RETENTION, order=180,
    why="Why bookings kept their old price or ended early is part of the booking data behind "
        "invoices; erasure clears who declared the termination.",
))

register(PrivacyEntry(
    model="contracts.BookingPrice",
    fields={},
    person=lambda user: Q(pk__in=[]),
    customer=lambda customer: Q(customer=customer),
    erase=RETAIN, purge=RETAIN, retention=INVOICE_RETENTION, order=175,
    why="A booking's dated net price: amounts and dates, no people. Registered so that it is "
        "retained with its booking and deleted before it when the retention ends (it protects "
        "the booking).",
))
