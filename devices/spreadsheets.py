"""Reading inventory spreadsheets (CSV, XLSX) into raw rows, and escaping formulae on export.

Reading is deliberately strict and bounded: a size limit, a row limit, no binary garbage, no
formulae, no unknown columns; padded empty rows are skipped without keeping them in memory.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

#: The columns of the inventory file, in the order the export writes them.
COLUMNS = ("hostname", "serial", "kind", "os", "location", "agent_id", "last_seen",
           "av_signature_date", "notes")
REQUIRED_COLUMNS = ("hostname", "serial", "kind")
#: Other spellings people use for the same columns (compared lower-case, spaces as "_").
COLUMN_ALIASES = {
    "serial_number": "serial", "seriennummer": "serial", "serien_nr": "serial",
    "art": "kind", "typ": "kind", "type": "kind", "geraeteart": "kind", "geräteart": "kind",
    "betriebssystem": "os", "operating_system": "os",
    "standort": "location", "raum": "location", "standort_/_raum": "location",
    "agent": "agent_id", "agent-id": "agent_id",
    "zuletzt_gesehen": "last_seen", "last_seen_at": "last_seen",
    "virensignatur": "av_signature_date", "av_signatur": "av_signature_date",
    "notizen": "notes", "bemerkung": "notes", "bemerkungen": "notes",
}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Stop reading an XLSX sheet after this many empty rows in a row (padding, not data).
MAX_EMPTY_ROWS_IN_A_ROW = 1000
#: An XLSX may unpack to at most this many times the upload limit (zip bombs).
MAX_XLSX_EXPANSION = 20


class SpreadsheetError(ValueError):
    """The file as a whole cannot be read; the message is for the person who uploaded it."""


@dataclass
class RawRow:
    line: int
    values: dict[str, object]


@dataclass
class Sheet:
    columns: list[str]
    rows: list[RawRow] = field(default_factory=list)


def escape_formula(value: object) -> object:
    """Make a cell safe to open in a spreadsheet program (CSV/formula injection).

    A value that already starts with apostrophes before a formula character ("'=x") gets one
    more, so that :func:`unescape_formula` gives it back unchanged.
    """
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def unescape_formula(value: str) -> str:
    """Undo :func:`escape_formula`, so that an exported file imports unchanged."""
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def _normalise_header(name: object) -> str:
    text = str(name or "").strip().lower().replace(" ", "_")
    return COLUMN_ALIASES.get(text, text)


def _check_columns(raw_headers: list[object]) -> list[str]:
    columns = [_normalise_header(name) for name in raw_headers]
    while columns and not columns[-1]:
        columns.pop()
    if not columns:
        raise SpreadsheetError(_("Die Datei ist leer."))
    if "customer" in columns or "kunde" in columns:
        raise SpreadsheetError(_("Die Spalte „customer“ ist nicht erlaubt: Geräte werden immer "
                                 "dem Kunden zugeordnet, für den Sie importieren."))
    unknown = [name or "?" for name in columns if name not in COLUMNS]
    if unknown:
        raise SpreadsheetError(
            _("Unbekannte Spalten: %(unknown)s. Erlaubt sind: %(allowed)s.")
            % {"unknown": ", ".join(unknown), "allowed": ", ".join(COLUMNS)})
    duplicates = sorted({name for name in columns if columns.count(name) > 1})
    if duplicates:
        raise SpreadsheetError(_("Spalten kommen doppelt vor: %(columns)s.")
                               % {"columns": ", ".join(duplicates)})
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise SpreadsheetError(_("Pflichtspalten fehlen: %(missing)s.")
                               % {"missing": ", ".join(missing)})
    return columns


def _limit_rows(count: int) -> None:
    if count > settings.DEVICE_IMPORT_MAX_ROWS:
        raise SpreadsheetError(_("Die Datei hat mehr als %(limit)s Zeilen. Bitte teilen Sie sie "
                                 "auf.") % {"limit": f"{settings.DEVICE_IMPORT_MAX_ROWS:,}"})


# --- CSV ---------------------------------------------------------------------------------------

def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252/Latin-1; binary data is refused."""
    if b"\x00" in data[:65536]:
        raise SpreadsheetError(_("Die Datei ist keine Textdatei (CSV). Bitte speichern Sie sie "
                                 "als CSV (UTF-8) oder XLSX."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    sample = text[:65536]
    controls = sum(1 for char in sample if ord(char) < 32 and char not in "\t\r\n")
    if sample and controls / len(sample) > 0.01:
        raise SpreadsheetError(_("Die Datei enthält Binärdaten und ist keine CSV-Datei."))
    return text


def read_csv(data: bytes) -> Sheet:
    text = decode_text(data)
    if not text.strip():
        raise SpreadsheetError(_("Die Datei ist leer."))
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
        columns = _check_columns(header)
        sheet = Sheet(columns=columns)
        for line, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            _limit_rows(len(sheet.rows) + 1)
            if len(cells) > len(columns) and any(cell.strip() for cell in cells[len(columns):]):
                raise SpreadsheetError(
                    _("Zeile %(line)s hat mehr Werte als die Kopfzeile Spalten hat.")
                    % {"line": line})
            sheet.rows.append(RawRow(line, {name: cells[index] if index < len(cells) else ""
                                            for index, name in enumerate(columns)}))
    except csv.Error as exc:
        raise SpreadsheetError(_("Die CSV-Datei ist beschädigt: %(error)s") % {"error": exc}) \
            from exc
    return sheet


# --- XLSX --------------------------------------------------------------------------------------

def _check_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise SpreadsheetError(_("Die Datei ist keine gültige XLSX-Datei.")) from exc
    if unpacked > settings.DEVICE_IMPORT_MAX_BYTES * MAX_XLSX_EXPANSION:
        raise SpreadsheetError(_("Die XLSX-Datei ist entpackt zu groß."))


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, tuple]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for broken files
        raise SpreadsheetError(_("Die Datei ist keine gültige XLSX-Datei.")) from exc
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        yield from enumerate(sheet.iter_rows(), start=1)
    finally:
        workbook.close()


def _cell_value(cell, line: int, column: str) -> object:
    if getattr(cell, "data_type", None) == "f" or (
            isinstance(cell.value, str) and cell.value.startswith("=")):
        raise SpreadsheetError(
            _("Zeile %(line)s, Spalte %(column)s enthält eine Formel. Bitte speichern Sie die "
              "Tabelle mit Werten statt Formeln.") % {"line": line, "column": column})
    return cell.value


def read_xlsx(data: bytes) -> Sheet:
    _check_zip(data)
    rows = _xlsx_rows(data)
    columns: list[str] | None = None
    sheet: Sheet | None = None
    empty_in_a_row = 0
    for line, cells in rows:
        values = [cell.value for cell in cells]
        if not any(value not in (None, "") for value in values):
            empty_in_a_row += 1
            if sheet is not None and empty_in_a_row > MAX_EMPTY_ROWS_IN_A_ROW:
                break
            continue
        empty_in_a_row = 0
        if columns is None:
            columns = _check_columns(values)
            sheet = Sheet(columns=columns)
            continue
        _limit_rows(len(sheet.rows) + 1)
        row = {}
        for index, name in enumerate(columns):
            value = _cell_value(cells[index], line, name) if index < len(cells) else None
            row[name] = "" if value is None else value
        for index in range(len(columns), len(cells)):
            if cells[index].value not in (None, ""):
                raise SpreadsheetError(
                    _("Zeile %(line)s hat mehr Werte als die Kopfzeile Spalten hat.")
                    % {"line": line})
        sheet.rows.append(RawRow(line, row))
    if sheet is None:
        raise SpreadsheetError(_("Die Datei ist leer."))
    return sheet


# --- Entry point -------------------------------------------------------------------------------

FORMATS = {"csv": read_csv, "xlsx": read_xlsx}


def file_format(file_name: str) -> str:
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if extension not in FORMATS:
        raise SpreadsheetError(_("Bitte laden Sie eine CSV- oder XLSX-Datei hoch."))
    return extension


def read_sheet(data: bytes, file_name: str) -> Sheet:
    """Read an uploaded inventory; raises :class:`SpreadsheetError` with a readable message."""
    if len(data) > settings.DEVICE_IMPORT_MAX_BYTES:
        raise SpreadsheetError(
            _("Die Datei ist größer als %(limit)s MB.")
            % {"limit": settings.DEVICE_IMPORT_MAX_BYTES // (1024 * 1024)})
    if not data:
        raise SpreadsheetError(_("Die Datei ist leer."))
    sheet = FORMATS[file_format(file_name)](data)
    if not sheet.rows:
        raise SpreadsheetError(_("Die Datei enthält keine Geräte, nur eine Kopfzeile."))
    return sheet
