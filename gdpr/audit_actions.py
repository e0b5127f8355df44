"""The audit actions of the AVV (portal/audit_actions.py): each code once, with its label and
the detail keys its events carry."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.audit_actions import audit_action_declare

for code, label, details in (
    ("avv.published", _("AVV-Version veröffentlicht"), ("label", "sha256")),
    ("avv.accepted", _("AVV angenommen"), ("label", "sha256", "user_agent")),
):
    audit_action_declare(code, label, details=details)
