"""Reading inventory spreadsheets (CSV, XLSX) into raw rows, and escaping formulae on export.

Reading is deliberately strict and bounded: a size limit, a row limit, no binary garbage, no
formulae, no unknown columns, no DTD in an XLSX. Every row of the file is either read or the
file is refused with a message naming the line (a CSV quote that would swallow the following
lines, an XLSX row far below padding); empty rows are skipped while streaming. Every refusal is
a :class:`SpreadsheetError` with a readable message and a stable :class:`Problem` code.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from devices.spreadsheets.base import (
    COLUMN_ALIASES,
    COLUMNS,
    FORMULA_PREFIXES,
    REQUIRED_COLUMNS,
    Problem,
    RawRow,
    Sheet,
    SpreadsheetError,
    escape_formula,
    unescape_formula,
)
from devices.spreadsheets.csv_reader import decode_text, read_csv
from devices.spreadsheets.xlsx_reader import read_xlsx

__all__ = ["COLUMNS", "COLUMN_ALIASES", "FORMATS", "FORMULA_PREFIXES", "REQUIRED_COLUMNS",
           "Problem", "RawRow", "Sheet", "SpreadsheetError", "decode_text", "escape_formula",
           "file_format", "read_sheet", "unescape_formula"]

# --- Entry point -------------------------------------------------------------------------------

FORMATS = {"csv": read_csv, "xlsx": read_xlsx}


def file_format(file_name: str) -> str:
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if extension not in FORMATS:
        raise SpreadsheetError(_("Bitte laden Sie eine CSV- oder XLSX-Datei hoch."),
                               code=Problem.FILE_TYPE)
    return extension


def read_sheet(data: bytes, file_name: str) -> Sheet:
    """Read an uploaded inventory; raises :class:`SpreadsheetError` with a readable message."""
    if len(data) > settings.DEVICE_IMPORT_MAX_BYTES:
        raise SpreadsheetError(
            _("Die Datei ist größer als %(limit)s MB.")
            % {"limit": settings.DEVICE_IMPORT_MAX_BYTES // (1024 * 1024)},
            code=Problem.TOO_LARGE)
    if not data:
        raise SpreadsheetError(_("Die Datei ist leer."), code=Problem.EMPTY)
    sheet = FORMATS[file_format(file_name)](data)
    if not sheet.rows:
        raise SpreadsheetError(_("Die Datei enthält keine Geräte, nur eine Kopfzeile."),
                               code=Problem.HEADER_ONLY)
    return sheet
