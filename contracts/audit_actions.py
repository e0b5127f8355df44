"""The audit actions of contracts and bookings (portal/audit_actions.py): each code once, with
its label and the detail keys its events carry."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.audit_actions import audit_action_declare

#: What a removal records, alone or as part of a contract cancellation.
REMOVAL_DETAILS = ("received", "effective_end", "last_billed_month", "contract_cancelled")

for code, label, details in (
    ("contract.opened", _("Rahmenvertrag angelegt"), ("start",)),
    ("contract.updated", _("Rahmenvertrag geändert"), ("isa_completed_on", "terms_version")),
    ("contract.cancelled", _("Rahmenvertrag gekündigt"), ("effective_end", "bookings_removed")),
    ("contract.terminated", _("Rahmenvertrag außerordentlich gekündigt"),
     ("effective_end", "reason")),
    ("contract.ended", _("Rahmenvertrag beendet"),
     ("effective_end", "purge_on", "sessions_ended")),
    ("booking.created", _("Leistung gebucht"),
     ("plan", "device", "price", "active_from", "on_behalf")),
    ("booking.upgrade", _("Leistung auf höhere Stufe gewechselt"), ("from", "to", "device")),
    ("booking.downgrade", _("Leistung auf niedrigere Stufe gewechselt"),
     ("from", "to", "device")),
    ("booking.removed", _("Leistung gekündigt"), REMOVAL_DETAILS),
    ("booking.removal_withdrawn", _("Kündigung einer Leistung zurückgenommen"),
     ("previous_end",)),
    ("booking.ended", _("Leistung beendet"), ("effective_end",)),
    ("plan.price_change_announced", _("Preisänderung angekündigt"),
     ("plan", "kind", "notice_kind", "old_price", "new_price", "effective_on", "deadline",
      "notices")),
    ("plan.price_change_applied", _("Preisänderung wirksam geworden"),
     ("plan", "bookings_repriced", "objections")),
    ("price_change.termination_offered", _("Sonderkündigungsrecht nach Widerspruch angeboten"),
     ("plan", "effective_on", "customer_may_terminate")),
    ("price_change.special_termination", _("Sonderkündigungsrecht ausgeübt"),
     ("plan", "effective_end", "bookings")),
):
    audit_action_declare(code, label, details=details)
