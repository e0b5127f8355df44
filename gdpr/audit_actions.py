"""The audit actions of the AVV (portal/audit_actions.py): each code once, with its label and
the detail keys its events carry."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.audit_actions import audit_action_declare

for code, label, details in (
    ("avv.published", _("AVV-Version veröffentlicht"), ("label", "sha256")),
    ("avv.accepted", _("AVV angenommen"), ("label", "sha256", "user_agent")),
    ("avv.drafted", _("AVV-Entwurf angelegt"), ("label", "from")),
):
    audit_action_declare(code, label, details=details)

for code, label, details in (
    ("processing_record.generated", _("Verarbeitungstätigkeit angelegt"), ("kind", "fields")),
    ("processing_record.updated", _("Verarbeitungstätigkeit aktualisiert"), ("kind", "fields")),
    ("processing_record.deactivated", _("Verarbeitungstätigkeit deaktiviert"), ("kind",)),
    ("processing_review.recorded", _("Prüfung einer Verarbeitungstätigkeit erfasst"),
     ("record", "outcome", "reviewed_on", "next_review_due")),
    ("processing_register.exported", _("Verzeichnis der Verarbeitungstätigkeiten exportiert"),
     ("format", "count")),
):
    audit_action_declare(code, label, details=details)

for code, label, details in (
    ("subprocessor.added", _("Unterauftragsverarbeiter hinzugefügt"),
     ("valid_from", "notices")),
    ("subprocessor.changed", _("Unterauftragsverarbeiter geändert"),
     ("valid_from", "predecessor", "fields", "notices")),
    ("subprocessor.replaced", _("Unterauftragsverarbeiter ersetzt"),
     ("valid_from", "predecessor", "notices")),
    ("subprocessor.ended", _("Unterauftragsverarbeiter beendet"), ("valid_to",)),
    ("objection_case.opened", _("Widerspruchsfall eröffnet"), ("notice", "deadline")),
    ("objection_case.resolved", _("Widerspruchsfall abgeschlossen"), ("resolution", "notice")),
):
    audit_action_declare(code, label, details=details)

for code, label, details in (
    ("person_export.requested", _("Datenexport einer Person angefordert"),
     ("request", "subject")),
    ("person_export.finished", _("Datenexport einer Person erstellt"),
     ("entries", "size", "sha256")),
    ("person_export.failed", _("Datenexport einer Person fehlgeschlagen"), ("error",)),
    ("person_export.downloaded", _("Datenexport einer Person heruntergeladen"), ("sha256",)),
    ("person_export.expired", _("Datei eines Datenexports nach Ablauf gelöscht"), ()),
):
    audit_action_declare(code, label, details=details)

for code, label, details in (
    ("dsr.created", _("Betroffenenanfrage erfasst"),
     ("kind", "channel", "received_on", "deadline", "subject_found")),
    ("dsr.identity_checked", _("Identität des Antragstellers geprüft"), ()),
    ("dsr.started", _("Bearbeitung einer Betroffenenanfrage begonnen"), ()),
    ("dsr.extended", _("Frist einer Betroffenenanfrage verlängert"),
     ("deadline", "extended_deadline")),
    ("dsr.closed", _("Betroffenenanfrage abgeschlossen"), ("subject_found",)),
    ("dsr.erased", _("Löschung auf Anfrage ausgeführt"), ("entries",)),
    ("dsr.refused", _("Betroffenenanfrage abgelehnt"), ()),
    ("dsr.reminded", _("An die Frist einer Betroffenenanfrage erinnert"), ("days", "due_on")),
    ("dsr.extension_mailed", _("Antragsteller über die Fristverlängerung informiert"), ()),
):
    audit_action_declare(code, label, details=details)

for code, label, details in (
    ("legal_hold.placed", _("Aufbewahrungssperre angeordnet"),
     ("scope", "model_label", "object_id")),
    ("legal_hold.released", _("Aufbewahrungssperre aufgehoben"),
     ("scope", "model_label", "object_id")),
):
    audit_action_declare(code, label, details=details)

for code, label, details in (
    ("purge.retention_ended", _("Aufbewahrte Daten nach Fristende gelöscht"),
     ("deleted", "certificate")),
):
    audit_action_declare(code, label, details=details)

for code, label, details in (
    ("contract_end.mailed", _("Mitteilung zum Vertragsende versandt"),
     ("kind", "contract_end", "recipients")),
    ("customer_export.requested", _("Datenexport eines Kunden angefordert"), ("parts",)),
    ("customer_export.finished", _("Datenexport eines Kunden erstellt"),
     ("parts", "size", "sha256")),
    ("customer_export.failed", _("Datenexport eines Kunden fehlgeschlagen"), ("error",)),
    ("customer_export.downloaded", _("Datenexport eines Kunden heruntergeladen"), ("sha256",)),
    ("customer_export.expired", _("Datei eines Kunden-Datenexports nach Ablauf gelöscht"), ()),
    ("provision_order.created", _("Datenbereitstellung beauftragt"),
     ("contract_end", "wanted_by")),
    ("provision_order.done", _("Datenbereitstellung erledigt"), ()),
):
    audit_action_declare(code, label, details=details)

for code, label, details in (
    ("purge.held_records_purged", _("Nach Aufhebung einer Sperre gelöscht"),
     ("model", "deleted", "pseudonymised", "retained", "files", "retention",
      "deleted_ids_sha256")),
):
    audit_action_declare(code, label, details=details)
