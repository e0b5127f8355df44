"""The audit actions of the device inventory and its imports (portal/audit_actions.py): each
code once, with its label and the detail keys its events carry."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.audit_actions import audit_action_declare, audit_job_flow_declare

#: What the end of an import step records (previewed, applied or failed).
IMPORT_RESULT_DETAILS = ("status", "counts", "error")

for code, label, details in (
    ("device.created", _("Gerät angelegt"), ("serial", "hostname")),
    ("device.updated", _("Gerät geändert"), ("changes",)),
    ("device.retired", _("Gerät außer Betrieb genommen"), ()),
    ("device.exported", _("Geräteliste exportiert"), ("devices", "format")),
    ("device_import.uploaded", _("Geräteimport hochgeladen"), ("file", "bytes", "sha256")),
    ("device_import.previewed", _("Geräteimport geprüft"), IMPORT_RESULT_DETAILS),
    ("device_import.confirmed", _("Geräteimport bestätigt"), ()),
    ("device_import.applied", _("Geräteimport übernommen"), IMPORT_RESULT_DETAILS),
    ("device_import.failed", _("Geräteimport fehlgeschlagen"), IMPORT_RESULT_DETAILS),
    ("device_import.cancelled", _("Geräteimport abgebrochen"), ()),
    ("device_import.file_deleted", _("Importdatei gelöscht"), ()),
):
    audit_action_declare(code, label, details=details)

audit_job_flow_declare("device_import", _("Geräteimport"))
