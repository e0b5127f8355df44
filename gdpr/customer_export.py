"""The ZIP of a customer's data at the end of its contract (003 § 24.2, 002 AVV § 3.11 "common
formats"): its devices, bookings, contract, people and documents, each table as CSV, as a
sheet of one XLSX workbook and as JSON, the stored PDFs themselves, and a README.

Formats, decided for the people who open them:

* CSV for German Excel: UTF-8 with BOM (Excel then reads the umlauts), ``;`` as separator
  and a decimal comma (what Excel expects in a German locale), dates ISO 8601, yes/no as
  ``ja``/``nein``;
* XLSX with real dates and numbers (openpyxl, write-only: rows are streamed to disk);
* JSON for machines: UTF-8, one array of objects per table with the English field names,
  dates ISO 8601, amounts as strings (no rounding by a float).

Rows are read with ``iterator()`` and written as they come, to temporary files, so memory does
not grow with the rows; each document is copied in chunks and checked against its stored
SHA-256 (a mismatch fails the export rather than hand over a file that is not the one stored).
No secrets: people are name, e-mail, role and whether they are active.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

README_NAME = "README.txt"
WORKBOOK_NAME = "kundendaten.xlsx"
DOCUMENTS_FOLDER = "dokumente"
CSV_DIALECT = {"delimiter": ";", "quoting": csv.QUOTE_MINIMAL, "lineterminator": "\r\n"}
LANGUAGE = "de"
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Column:
    key: str  # the JSON name (the model field)
    label: Any  # the CSV and XLSX heading, a lazy translation


@dataclass(frozen=True)
class Table:
    name: str  # file stem and sheet name
    title: Any
    columns: tuple[Column, ...]
    rows: Callable[[Any], Iterable[tuple]]  # customer -> rows in column order


def _role_label(value: str) -> str:
    from portal.roles import Role

    return str(Role(value).label) if value in Role.values else value


def _devices(customer):
    from devices.models import Device

    return Device.objects.filter(customer=customer).order_by("hostname", "pk").values_list(
        "hostname", "serial_number", "kind", "operating_system", "location", "agent_id",
        "last_seen", "av_signature_date", "pending_critical_updates", "notes", "retired_at",
        "created_at").iterator(chunk_size=2000)


def _bookings(customer):
    from contracts.models import Booking

    return Booking.objects.filter(customer=customer).order_by(
        "device__hostname", "active_from", "pk").values_list(
        "device__hostname", "device__serial_number", "plan_name", "family", "monthly_price",
        "state", "active_from", "term_start", "min_term_end", "removal_received",
        "effective_end").iterator(chunk_size=2000)


def _contracts(customer):
    from contracts.models import Contract

    return Contract.objects.filter(customer=customer).order_by("pk").values_list(
        "start", "terms_version", "status", "isa_completed_on", "cancellation_received",
        "effective_end", "extraordinary", "purge_on").iterator()


def _people(customer):
    from portal.models import Membership

    for first, last, email, role, active in (
            Membership.objects.filter(organisation=customer).order_by(
                "user__last_name", "user__first_name", "pk").values_list(
                "user__first_name", "user__last_name", "user__email", "role",
                "user__is_active").iterator(chunk_size=2000)):
        yield first, last, email, _role_label(role), active


def _document_rows(customer):
    from portal.documents.models import Document

    return Document.objects.filter(customer=customer).order_by("created_at", "pk").values_list(
        "pk", "title", "kind", "filename", "created_at", "size", "sha256",
        "retain_until").iterator(chunk_size=2000)


def document_path(pk: int, filename: str) -> str:
    """Where a stored document lies in the ZIP: ``dokumente/<id>-<file name>``."""
    return f"{DOCUMENTS_FOLDER}/{pk}-{filename}"


def _documents(customer):
    for row in _document_rows(customer):
        yield (*row, document_path(row[0], row[3]))


#: The labels are translated when the archive is written (German).
TABLES = (
    Table("geraete", gettext_lazy("Geräte"), (
        Column("hostname", gettext_lazy("Hostname")),
        Column("serial_number", gettext_lazy("Seriennummer")),
        Column("kind", gettext_lazy("Art")),
        Column("operating_system", gettext_lazy("Betriebssystem")),
        Column("location", gettext_lazy("Standort / Raum")),
        Column("agent_id", gettext_lazy("Agent-ID")),
        Column("last_seen", gettext_lazy("zuletzt gesehen")),
        Column("av_signature_date", gettext_lazy("Virensignatur vom")),
        Column("pending_critical_updates", gettext_lazy("ausstehende kritische Updates")),
        Column("notes", gettext_lazy("Notizen")),
        Column("retired_at", gettext_lazy("ausgemustert am")),
        Column("created_at", gettext_lazy("angelegt am"))), _devices),
    Table("buchungen", gettext_lazy("Buchungen"), (
        Column("device", gettext_lazy("Gerät")),
        Column("serial_number", gettext_lazy("Seriennummer")),
        Column("plan", gettext_lazy("Leistung")),
        Column("family", gettext_lazy("Produktfamilie")),
        Column("monthly_price", gettext_lazy("Nettopreis pro Monat (EUR)")),
        Column("state", gettext_lazy("Status")),
        Column("active_from", gettext_lazy("aktiv ab")),
        Column("term_start", gettext_lazy("Laufzeitbeginn")),
        Column("min_term_end", gettext_lazy("Mindestlaufzeit bis")),
        Column("removal_received", gettext_lazy("Kündigung eingegangen")),
        Column("effective_end", gettext_lazy("endet am"))), _bookings),
    Table("vertraege", gettext_lazy("Rahmenvertrag"), (
        Column("start", gettext_lazy("Beginn")),
        Column("terms_version", gettext_lazy("AGB-Version")),
        Column("status", gettext_lazy("Status")),
        Column("isa_completed_on", gettext_lazy("Infrastrukturanalyse am")),
        Column("cancellation_received", gettext_lazy("Kündigung eingegangen")),
        Column("effective_end", gettext_lazy("Vertragsende")),
        Column("extraordinary", gettext_lazy("außerordentlich")),
        Column("purge_on", gettext_lazy("Löschung der Daten am"))), _contracts),
    Table("personen", gettext_lazy("Personen"), (
        Column("first_name", gettext_lazy("Vorname")),
        Column("last_name", gettext_lazy("Nachname")),
        Column("email", gettext_lazy("E-Mail-Adresse")),
        Column("role", gettext_lazy("Rolle")),
        Column("is_active", gettext_lazy("aktiv"))), _people),
    Table("dokumente", gettext_lazy("Dokumente"), (
        Column("id", gettext_lazy("Nr.")),
        Column("title", gettext_lazy("Titel")),
        Column("kind", gettext_lazy("Art")),
        Column("filename", gettext_lazy("Dateiname")),
        Column("created_at", gettext_lazy("erstellt am")),
        Column("size", gettext_lazy("Größe (Bytes)")),
        Column("sha256", gettext_lazy("SHA-256")),
        Column("retain_until", gettext_lazy("aufzubewahren bis")),
        Column("path", gettext_lazy("Datei im ZIP"))), _documents),
)

#: The job's progress: one part per table, one for the stored documents.
PARTS = (*(table.name for table in TABLES), DOCUMENTS_FOLDER)


def _local(value: datetime) -> datetime:
    """XLSX knows no time zones: the wall clock in the portal's zone."""
    return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value


def csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("ja") if value else _("nein")
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _xlsx_value(value):
    if isinstance(value, datetime):
        return _local(value)
    if isinstance(value, bool):
        return _("ja") if value else _("nein")
    return value


def _write_table(table: Table, customer, archive: zipfile.ZipFile, sheet) -> int:
    """One pass over the rows into the CSV, the JSON and the sheet; returns the row count."""
    keys = [column.key for column in table.columns]
    labels = [str(column.label) for column in table.columns]
    sheet.append(labels)
    count = 0
    with tempfile.TemporaryFile("w+", encoding="utf-8-sig", newline="") as csv_file, \
            tempfile.TemporaryFile("w+", encoding="utf-8") as json_file:
        writer = csv.writer(csv_file, **CSV_DIALECT)
        writer.writerow(labels)
        json_file.write("[")
        for row in table.rows(customer):
            writer.writerow([csv_value(value) for value in row])
            sheet.append([_xlsx_value(value) for value in row])
            json_file.write(("," if count else "") + "\n  " + json.dumps(
                dict(zip(keys, row, strict=True)), cls=DjangoJSONEncoder, ensure_ascii=False))
            count += 1
        json_file.write("\n]\n" if count else "]\n")
        for handle, name in ((csv_file, f"csv/{table.name}.csv"),
                             (json_file, f"json/{table.name}.json")):
            handle.flush()
            handle.seek(0)
            with archive.open(name, "w") as target:
                shutil.copyfileobj(_bytes(handle), target, CHUNK)
    return count


def _bytes(handle: IO[str]):
    """The temporary text file's bytes (its encoding already written them, BOM included)."""
    return handle.buffer if hasattr(handle, "buffer") else io.BytesIO(handle.read().encode())


def _copy_documents(customer, archive: zipfile.ZipFile) -> int:
    from portal.documents.models import Document

    count = 0
    for document in Document.objects.filter(customer=customer).order_by("created_at", "pk") \
            .only("pk", "filename", "file", "sha256").iterator(chunk_size=200):
        digest = hashlib.sha256()
        with document.file.open("rb") as source, \
                archive.open(document_path(document.pk, document.filename), "w") as target:
            for chunk in iter(lambda source=source: source.read(CHUNK), b""):
                digest.update(chunk)
                target.write(chunk)
        if digest.hexdigest() != document.sha256:
            raise ValueError(f"document {document.pk}: SHA-256 differs from the stored one")
        count += 1
    return count


def _readme(customer, issued: datetime, counts: dict[str, int], documents: int) -> str:
    lines = [
        _("Datenexport zum Vertragsende"),
        _("Kunde: %(name)s (Kundennummer %(number)s)") % {
            "name": customer.name, "number": customer.customer_number or "–"},
        _("Erstellt am: %(when)s") % {"when": timezone.localtime(issued).isoformat(
            timespec="seconds")},
        "",
        _("Jede Tabelle liegt dreifach vor:"),
        "  " + _("csv/<Tabelle>.csv – für Excel: UTF-8 mit BOM, Trennzeichen Semikolon, "
                 "Dezimalkomma, Datumsangaben nach ISO 8601 (JJJJ-MM-TT)."),
        "  " + _("%(workbook)s – alle Tabellen als Arbeitsblätter, mit echten Datums- und "
                 "Zahlenwerten.") % {"workbook": WORKBOOK_NAME},
        "  " + _("json/<Tabelle>.json – maschinenlesbar: UTF-8, Feldnamen auf Englisch, "
                 "Datumsangaben nach ISO 8601, Beträge als Text."),
        "",
    ]
    for table in TABLES:
        lines.append(f"{table.name}: {table.title} ({counts[table.name]})")
    lines += [
        "",
        _("%(folder)s/: die im Portal gespeicherten Dokumente (%(count)s), je als "
          "<Nr.>-<Dateiname>; jede Datei wurde beim Export mit ihrer gespeicherten "
          "SHA-256-Prüfsumme verglichen (Spalte SHA-256 in der Tabelle dokumente).")
        % {"folder": DOCUMENTS_FOLDER, "count": documents},
        "",
        _("Personen enthalten Name, E-Mail-Adresse, Rolle und ob das Konto aktiv ist; "
          "Passwörter und zweite Faktoren werden nicht exportiert."),
    ]
    return "\r\n".join(lines) + "\r\n"


def customer_archive(customer, out: IO[bytes], *, issued: datetime,
                     on_part: Callable[[int], None] = lambda done: None) -> dict[str, int]:
    """Write the ZIP of ``customer`` to ``out``; ``on_part(done)`` after each part (the job's
    progress). Returns the row count per table and the number of documents."""
    from openpyxl import Workbook

    counts: dict[str, int] = {}
    with translation.override(LANGUAGE), \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        workbook = Workbook(write_only=True)
        for done, table in enumerate(TABLES, start=1):
            sheet = workbook.create_sheet(title=str(table.title)[:31])
            counts[table.name] = _write_table(table, customer, archive, sheet)
            on_part(done)
        with archive.open(WORKBOOK_NAME, "w") as target:
            workbook.save(target)
        documents = _copy_documents(customer, archive)
        on_part(len(PARTS))
        archive.writestr(README_NAME, _readme(customer, issued, counts, documents))
    return {**counts, DOCUMENTS_FOLDER: documents}
