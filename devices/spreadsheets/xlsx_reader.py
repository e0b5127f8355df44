"""Reading XLSX inventories: a bounded zip without any DTD (billion laughs, XXE) checked
before openpyxl parses a byte of XML, then the first sheet streamed to its real end. Anything
openpyxl raises on a broken file becomes one clear :class:`SpreadsheetError`."""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterator

from django.conf import settings
from django.utils.translation import gettext as _

from devices.spreadsheets.base import (
    Problem,
    RawRow,
    Sheet,
    SpreadsheetError,
    check_columns,
    extra_values,
    localised_number,
    too_many_rows,
)

logger = logging.getLogger(__name__)

#: An XLSX may unpack to at most this many times the upload limit (zip bombs) ...
MAX_XLSX_EXPANSION = 20
#: ... and to at most this many times its own size, once it unpacks to more than
#: ``RATIO_CHECKED_FROM`` bytes (real workbooks stay below 20x; a bomb is far above).
MAX_XLSX_RATIO = 100
RATIO_CHECKED_FROM = 1024 * 1024
#: Markup that declares a DTD or entities (billion laughs, XXE), in the encodings XML allows.
DTD_MARKERS = tuple(marker.encode(encoding) for marker in ("<!DOCTYPE", "<!ENTITY")
                    for encoding in ("utf-8", "utf-16-le", "utf-16-be"))
SCAN_CHUNK = 256 * 1024
#: An OLE compound file: Excel 97-2003 (.xls), or an XLSX encrypted with a password.
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _xlsx_broken() -> SpreadsheetError:
    return SpreadsheetError(_("Die Datei ist keine gültige XLSX-Datei."),
                            code=Problem.XLSX_BROKEN)


def _scan_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> int:
    """Unpack one part in chunks, refusing DTD markup; returns its real unpacked size."""
    unpacked, tail = 0, b""
    keep = max(len(marker) for marker in DTD_MARKERS) - 1
    with archive.open(info) as member:
        while chunk := member.read(SCAN_CHUNK):
            unpacked += len(chunk)
            if unpacked > budget:
                raise SpreadsheetError(_("Die XLSX-Datei ist entpackt zu groß."),
                                       code=Problem.XLSX_UNPACKED_TOO_LARGE)
            window = tail + chunk
            if any(marker in window for marker in DTD_MARKERS):
                raise SpreadsheetError(
                    _("Die XLSX-Datei enthält eine DTD oder Entity-Deklaration (Teil "
                      "„%(part)s“). Solche Dateien werden aus Sicherheitsgründen nicht "
                      "gelesen. Bitte speichern Sie die Tabelle in Excel oder LibreOffice neu "
                      "als XLSX.") % {"part": info.filename[:100]}, code=Problem.XLSX_DTD)
            tail = window[-keep:]
    return unpacked


def _check_zip(data: bytes) -> None:
    """A real zip within the expansion limits, and no part declares a DTD or entities
    (checked on the unpacked bytes before openpyxl parses any XML)."""
    if data.startswith(OLE_SIGNATURE):
        raise SpreadsheetError(_("Die Datei ist eine ältere Excel-Datei (.xls) oder mit einem "
                                 "Kennwort geschützt. Bitte speichern Sie sie ohne Kennwort "
                                 "als XLSX."), code=Problem.XLSX_LEGACY)
    budget = settings.DEVICE_IMPORT_MAX_BYTES * MAX_XLSX_EXPANSION
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
        declared = sum(info.file_size for info in members)
        if declared > budget:
            raise SpreadsheetError(_("Die XLSX-Datei ist entpackt zu groß."),
                                   code=Problem.XLSX_UNPACKED_TOO_LARGE)
        if declared > RATIO_CHECKED_FROM and declared > MAX_XLSX_RATIO * len(data):
            raise SpreadsheetError(
                _("Die XLSX-Datei ist ungewöhnlich stark komprimiert (entpackt mehr als das "
                  "%(ratio)s-Fache ihrer Größe) und wird aus Sicherheitsgründen nicht gelesen.")
                % {"ratio": localised_number(MAX_XLSX_RATIO)}, code=Problem.XLSX_COMPRESSION)
        for info in members:
            budget -= _scan_member(archive, info, budget)
    except SpreadsheetError:
        raise
    except Exception as exc:  # noqa: BLE001 - broken, truncated, encrypted, unknown method
        raise _xlsx_broken() from exc


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, tuple]]:
    """(line, values) of every row of the first sheet down to its last row in the file."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the stored used range may be wrong (A1:XFD1048576)
        yield from enumerate(sheet.iter_rows(values_only=True), start=1)
    finally:
        workbook.close()


def _is_formula(value: object) -> bool:
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    return (isinstance(value, str) and value.startswith("=")) or isinstance(
        value, ArrayFormula | DataTableFormula)


def _xlsx_sheet(rows: Iterator[tuple[int, tuple]]) -> Sheet:
    columns: list[str] | None = None
    sheet = Sheet(columns=[])
    limit = settings.DEVICE_IMPORT_MAX_ROWS
    for line, values in rows:
        if all(value is None or value == "" for value in values):
            continue  # padding costs no memory, and reading goes on to the sheet's end
        if columns is None:
            columns = sheet.columns = check_columns(values)
            continue
        if len(sheet.rows) >= limit:
            raise too_many_rows()
        if any(value not in (None, "") for value in values[len(columns):]):
            raise extra_values(line)
        row = {}
        for index, name in enumerate(columns):
            value = values[index] if index < len(values) else None
            if _is_formula(value):
                raise SpreadsheetError(
                    _("Zeile %(line)s, Spalte %(column)s enthält eine Formel. Bitte speichern "
                      "Sie die Tabelle mit Werten statt Formeln.")
                    % {"line": line, "column": name}, code=Problem.FORMULA)
            row[name] = "" if value is None else value
        sheet.rows.append(RawRow(line, row))
    if columns is None:
        raise SpreadsheetError(_("Die Datei ist leer."), code=Problem.EMPTY)
    return sheet


def read_xlsx(data: bytes) -> Sheet:
    _check_zip(data)
    try:
        return _xlsx_sheet(_xlsx_rows(data))
    except SpreadsheetError:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for broken files
        logger.info("Unreadable XLSX upload: %r", exc)
        raise _xlsx_broken() from exc
