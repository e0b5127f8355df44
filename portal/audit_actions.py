"""The vocabulary of the audit trail: every action code is declared once, with a German label
(through gettext, so the admin and exports can show it in the reader's language) and the
detail keys its events carry.

Why a registry instead of free strings: a trail nobody can read, or whose codes drift
(``booking.remove`` here, ``booking.removed`` there), is no evidence. ``audit_event_record``
refuses a code or detail key that is not declared here, so a typo fails the first test that
runs the code instead of surfacing years later in an audit.

The core declares its own codes below; each feature app declares its codes in
``<app>/audit_actions.py``, which ``portal.registries.autodiscover`` imports (DESIGN "Layers and
registries"). Codes of retired actions stay readable: :func:`audit_action_label` falls back to
the raw code for stored events whose code is no longer declared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from portal.registries import Registry


class UndeclaredAuditAction(ValueError):
    """A programming error: an audit event with a code or detail key nobody declared."""


@dataclass(frozen=True)
class AuditAction:
    code: str
    label: Promise  # a lazy translation, German msgid
    details: frozenset[str] = frozenset()


audit_actions: Registry[AuditAction] = Registry(
    "audit_actions", key=lambda a: a.code, order=lambda a: a.code)


def audit_action_declare(code: str, label: Promise, *, details: Iterable[str] = ()
                         ) -> AuditAction:
    """Declare ``code`` with its label and the keys its events' details may carry."""
    return audit_actions.register(AuditAction(code=code, label=label, details=frozenset(details)))


#: What the job machinery (portal/jobs.py) records about a step a worker took over or the
#: sweep sent again.
JOB_STEP_DETAILS = ("state", "step", "worker", "attempts", "last_sign_of_life", "at")


def audit_job_flow_declare(prefix: str, subject: Promise) -> None:
    """Declare the codes ``portal.jobs`` writes for a ``JobFlow`` with ``audit_prefix``."""
    audit_action_declare(f"{prefix}.taken_over",
                         format_lazy("{}: {}", subject, _("Auftrag von einem anderen Prozess "
                                                          "übernommen")),
                         details=JOB_STEP_DETAILS)
    audit_action_declare(f"{prefix}.resent",
                         format_lazy("{}: {}", subject, _("Auftrag erneut gestartet")),
                         details=JOB_STEP_DETAILS)


def audit_action_check(code: str, details: Mapping[str, Any] | None) -> AuditAction:
    """The declared action of ``code``; raises when the code or a detail key is undeclared."""
    if code not in audit_actions:
        raise UndeclaredAuditAction(
            f"audit action {code!r} is not declared; declare it in <app>/audit_actions.py")
    action = audit_actions.get(code)
    unknown = set(details or ()) - action.details
    if unknown:
        raise UndeclaredAuditAction(
            f"audit action {code!r} does not declare the detail keys {sorted(unknown)}")
    return action


def audit_action_label(code: str) -> str:
    """The label of ``code`` in the active language (the raw code if it is not declared)."""
    return str(audit_actions.get(code).label) if code in audit_actions else code


def audit_action_choices() -> list[tuple[str, str]]:
    """(code, label) of every declared action, sorted by label, e.g. for a filter."""
    return sorted(((a.code, str(a.label)) for a in audit_actions), key=lambda c: c[1].lower())


# --- The core's own actions -------------------------------------------------------------------

#: The organisation fields whose values ``organisation_create`` records.
ORGANISATION_FIELDS = ("kind", "name", "partner", "street", "postal_code", "city", "country",
                       "vat_id", "customer_number", "is_active")

for _code, _label, _details in (
    ("admin.added", _("Im Admin angelegt"), ("message",)),
    ("admin.changed", _("Im Admin geändert"), ("message",)),
    ("admin.deleted", _("Im Admin gelöscht"), ("message",)),
    ("auth.login", _("Anmeldung"), ()),
    ("auth.logout", _("Abmeldung"), ()),
    ("auth.login_failed", _("Anmeldung fehlgeschlagen"), ("known_account", "rate_limited")),
    ("auth.reauthenticated", _("Identität erneut bestätigt"), ("method",)),
    ("auth.reauth_failed", _("Erneute Bestätigung fehlgeschlagen"), ("method",)),
    ("auth.session_timeout", _("Sitzung abgelaufen"),
     ("reason", "idle_seconds", "age_seconds")),
    ("mfa.enrolled", _("Zweiter Faktor eingerichtet"), ("device", "backup_codes_issued")),
    ("mfa.backup_codes_regenerated", _("Backup-Codes neu erzeugt"), ()),
    ("mfa.device_removed", _("Zweiter Faktor entfernt"), ("device",)),
    ("mfa.reset", _("Zweiter Faktor zurückgesetzt"),
     ("objects_removed", "sessions_ended", "identity_check")),
    ("mfa.verified", _("Zweiter Faktor bestätigt"), ("method",)),
    ("mfa.failed", _("Zweiter Faktor abgelehnt"), ("method",)),
    ("user.invited", _("Person eingeladen"), ("role", "email")),
    ("user.invitation_to_existing_account", _("Bestehendes Konto eingeladen"),
     ("role", "email")),
    ("user.invitation_resent", _("Einladung erneut gesendet"), ()),
    ("user.invitation_accepted", _("Einladung angenommen"), ()),
    ("user.deactivated", _("Person deaktiviert"), ("sessions_ended",)),
    ("user.reactivated", _("Person reaktiviert"), ()),
    ("user.updated", _("Personendaten geändert"), ("before", "after")),
    ("user.language_changed", _("Sprache geändert"), ("from", "to")),
    ("user.password_changed", _("Passwort geändert"), ()),
    ("user.password_reset", _("Passwort zurückgesetzt"), ()),
    ("user.email_changed", _("E-Mail-Adresse geändert"), ("old", "new")),
    ("user.email_removed", _("E-Mail-Adresse entfernt"), ("email",)),
    ("membership.role_changed", _("Rolle geändert"), ("from", "to")),
    ("organisation.created", _("Organisation angelegt"), ORGANISATION_FIELDS),
    ("organisation.updated", _("Organisation geändert"), ("before", "after")),
    ("access_log.purged", _("Zugriffsprotokoll bereinigt"),
     ("deleted", "cutoff", "retention_days", "held")),
    ("audit.purged", _("Audit-Protokoll nach Ablauf der Aufbewahrung bereinigt"),
     ("deleted", "cutoff", "retention_years", "held")),
    ("demo.seeded", _("Demodaten angelegt"), ("people",)),
    ("privacy.person_erased", _("Personenbezogene Daten einer Person gelöscht"), ("outcomes",)),
    ("privacy.customer_purged", _("Daten eines Kunden endgültig gelöscht"), ("outcomes", "held")),
    ("notification.sent", _("Benachrichtigung versendet"),
     ("event", "template", "attempts", "documents")),
    ("notification.failed", _("Benachrichtigung fehlgeschlagen"), ("event", "attempts", "why")),
    ("document.created", _("Dokument erstellt"), ("kind", "sha256", "size")),
    ("document.integrity_failed", _("Dokument beschädigt (Prüfsumme stimmt nicht)"),
     ("sha256",)),
    ("change_notice.issued", _("Änderungsmitteilung versendet"),
     ("kind", "window", "received_on", "effective_on", "deadline", "subject")),
    ("change_notice.delivered", _("Änderungsmitteilung per E-Mail zugestellt"),
     ("notification",)),
    ("change_notice.seen", _("Änderungsmitteilung im Portal geöffnet"), ()),
    ("change_notice.objected", _("Änderung widersprochen"), ("kind", "deadline")),
    ("change_notice.deemed_accepted", _("Änderung gilt als angenommen"), ("kind", "deadline")),
):
    audit_action_declare(_code, _label, details=_details)

audit_job_flow_declare("notification", _("Benachrichtigung"))
