"""The whole register of processing activities as a file for a supervisory authority: PDF
(A4, page numbers, PDF/A-3b, in German), XLSX and CSV (UTF-8 with BOM, ``;``-separated, as
German Excel opens it).

The PDF is rendered on request and not stored: the document store keeps documents of one
customer (``Document.customer`` is required) and the register belongs to the provider. Each
download is audited (``processing_register_export_record``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gdpr.avv import dpo_contact_lines
from gdpr.models import ProcessingRecord, RecordKind
from gdpr.selectors.records import register_rows
from portal.documents.render import PDF_A, render_pdf

REGISTER_DOCUMENT = "processing_register"
TEMPLATE = "gdpr/pdf/records.html"
FORMATS = ("pdf", "xlsx", "csv")

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True)
class RegisterFile:
    content: bytes
    content_type: str
    file_name: str
    count: int


def _date(value) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


#: The columns of the XLSX and CSV files: header (German) and the value of a record.
COLUMNS: tuple[tuple[str, Callable[[ProcessingRecord], str]], ...] = (
    (gettext_lazy("Art"), lambda r: str(r.get_kind_display())),
    (gettext_lazy("Bezeichnung"), lambda r: r.name),
    (gettext_lazy("Verantwortlicher (Kunde)"), lambda r: r.customer.name if r.customer else ""),
    (gettext_lazy("Kundennummer"), lambda r: (r.customer.customer_number or "")
     if r.customer else ""),
    (gettext_lazy("Zwecke"), lambda r: r.purposes),
    (gettext_lazy("Rechtsgrundlage"), lambda r: r.legal_basis),
    (gettext_lazy("Kategorien personenbezogener Daten"), lambda r: r.data_categories),
    (gettext_lazy("Kategorien betroffener Personen"), lambda r: r.subject_categories),
    (gettext_lazy("Empfänger"), lambda r: r.recipients),
    (gettext_lazy("Übermittlungen in Drittländer"), lambda r: r.third_country_transfers),
    (gettext_lazy("Löschfristen"), lambda r: r.retention_now),
    (gettext_lazy("TOMs (AVV-Version)"), lambda r: r.tom_version.label if r.tom_version else ""),
    (gettext_lazy("Letzte Prüfung"), lambda r: _date(r.last_reviewed_on)),
    (gettext_lazy("Nächste Prüfung fällig"), lambda r: _date(r.next_review_due)),
)


def _table(records: list[ProcessingRecord]) -> list[list[str]]:
    return [[str(header) for header, _value in COLUMNS],
            *([value(record) for _header, value in COLUMNS] for record in records)]


def register_csv(records: list[ProcessingRecord]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows(_table(records))
    return buffer.getvalue().encode("utf-8-sig")


def register_xlsx(records: list[ProcessingRecord]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Verzeichnis")[:31]
    for row in _table(records):
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def register_pdf(records: list[ProcessingRecord], *, issued: datetime) -> bytes:
    title = _("Verzeichnis der Verarbeitungstätigkeiten (Art. 30 DSGVO)")
    return render_pdf(TEMPLATE, {
        "title": title, "records": records, "dpo_contact": dpo_contact_lines(),
        "controller_count": sum(r.kind == RecordKind.CONTROLLER for r in records),
        "processor_count": sum(r.kind == RecordKind.PROCESSOR for r in records),
    }, lang="de", issued=issued, variant=PDF_A)


def register_export(user, file_format: str) -> RegisterFile:
    """The active records ``user`` sees as ``file_format`` (``pdf``, ``xlsx``, ``csv``); the
    caller checked the permission (``processing_register_may_export``)."""
    if file_format not in FORMATS:
        raise ValueError(f"Unknown export format {file_format!r}.")
    issued = timezone.now()
    today = timezone.localdate(issued)
    with translation.override("de"):
        records = register_rows(user, today)
        if file_format == "pdf":
            content = register_pdf(records, issued=issued)
        elif file_format == "xlsx":
            content = register_xlsx(records)
        else:
            content = register_csv(records)
        name = _("Verzeichnis-Verarbeitungstaetigkeiten")
    return RegisterFile(content=content, content_type=CONTENT_TYPES[file_format],
                        file_name=f"{name}-{today.isoformat()}.{file_format}",
                        count=len(records))
