"""The audit actions of the support desk (portal/audit_actions.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.audit_actions import audit_action_declare

for code, label, details in (
    ("ticket.created", _("Ticket eröffnet"), ("priority", "critical", "level", "reaction_due")),
    ("ticket.escalated", _("Ticket an den 2nd Level eskaliert"), ("level",)),
    ("ticket.handed_back", _("Ticket an den 1st Level zurückgegeben"), ("level",)),
    ("ticket.replied", _("Auf ein Ticket geantwortet"), ("internal",)),
    ("ticket.waiting", _("Ticket wartet auf den Kunden"), ()),
    ("ticket.reclassified", _("Ticket neu eingestuft"), ("before", "after", "reaction_due")),
    ("ticket.resolved", _("Ticket gelöst"), ()),
):
    audit_action_declare(code, label, details=details)
