"""The personal data of the device inventory (registered in portal/privacy.py's registry).

A device belongs to the customer, not to a person; it concerns a person where someone created
or changed it, or where its notes or location name them ("Laptop von Frau Weber, Raum 2.14").
Erasure therefore removes the person from the device and leaves the device; the purge at the
end of the contract deletes it, unless a retained booking still refers to it (then only its
descriptive fields are cleared).
"""

from __future__ import annotations

from django.db.models import Q

from portal.privacy import (
    DELETE,
    INVOICE_RETENTION,
    Category,
    PrivacyEntry,
    delete_unless_protected,
    erase_mentions,
    mentions,
    register,
)

register(PrivacyEntry(
    model="devices.Device",
    fields={"notes": Category.FREE_TEXT, "location": Category.FREE_TEXT,
            "created_by": Category.REFERENCE, "updated_by": Category.REFERENCE},
    export_fields=("pk", "hostname", "serial_number", "location", "notes", "created_at",
                   "created_by", "updated_at", "updated_by"),
    person=lambda user: (Q(created_by=user) | Q(updated_by=user)
                         | mentions(user, "notes", "location")),
    customer=lambda customer: Q(customer=customer),
    erase=erase_mentions(references=("created_by", "updated_by"),
                         free_text=("notes", "location")),
    purge=delete_unless_protected({"notes": "", "location": "", "agent_id": "",
                                   "created_by": None, "updated_by": None}),
    retention=INVOICE_RETENTION, order=400,
    why="Erasure: the person's name and address are redacted from notes and location, the "
        "references to them cleared. Purge: deleted, except devices that retained bookings "
        "refer to (hostname and serial are part of the booking data behind the invoices); "
        "those keep no notes, location, agent id or people.",
))


def _stored_files(rows) -> list[str]:
    return list(rows.exclude(storage_path="").values_list("storage_path", flat=True))


register(PrivacyEntry(
    model="devices.DeviceImport",
    fields={"created_by": Category.REFERENCE, "confirmed_by": Category.REFERENCE,
            "file_name": Category.FREE_TEXT, "messages": Category.FREE_TEXT,
            "error": Category.FREE_TEXT},
    not_personal={"counts": "numbers of rows created, changed and refused"},
    export_fields=("pk", "created_at", "file_name", "status", "created_by", "confirmed_by",
                   "finished_at", "messages", "error"),
    person=lambda user: (Q(created_by=user) | Q(confirmed_by=user)
                         | mentions(user, "file_name", "messages", "error")),
    customer=lambda customer: Q(customer=customer),
    erase=erase_mentions(references=("created_by", "confirmed_by"),
                         free_text=("file_name", "messages", "error")),
    purge=DELETE, files=_stored_files, order=300,
    why="The uploaded file (kept DEVICE_IMPORT_KEEP_HOURS, then deleted by the cleanup job) "
        "may hold names in its notes and location columns; at the purge the rows go and the "
        "stored files are deleted after the commit.",
))
