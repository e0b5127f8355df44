"""What every inventory file reader shares: the columns, the header check, the error with its
stable code, the row limit, and formula escaping for exports."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.formats import number_format
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


class Problem(enum.StrEnum):
    """Stable codes of what is wrong with a file as a whole (tests and callers use these)."""

    EMPTY = "empty"
    HEADER_ONLY = "header_only"
    TOO_LARGE = "too_large"
    TOO_MANY_ROWS = "too_many_rows"
    FILE_TYPE = "file_type"
    NOT_TEXT = "not_text"
    ENCODING = "encoding"
    DELIMITER = "delimiter"
    CUSTOMER_COLUMN = "customer_column"
    UNKNOWN_COLUMNS = "unknown_columns"
    DUPLICATE_COLUMNS = "duplicate_columns"
    MISSING_COLUMNS = "missing_columns"
    EXTRA_VALUES = "extra_values"
    QUOTE = "quote"
    TEXT_AFTER_QUOTE = "text_after_quote"
    FIELD_TOO_LARGE = "field_too_large"
    CSV_BROKEN = "csv_broken"
    XLSX_BROKEN = "xlsx_broken"
    XLSX_LEGACY = "xlsx_legacy"
    XLSX_UNPACKED_TOO_LARGE = "xlsx_unpacked_too_large"
    XLSX_COMPRESSION = "xlsx_compression"
    XLSX_DTD = "xlsx_dtd"
    FORMULA = "formula"


class SpreadsheetError(ValueError):
    """The file as a whole cannot be read; the message is for the person who uploaded it,
    ``code`` (a :class:`Problem`) says which rule refused it."""

    def __init__(self, message: str, *, code: Problem):
        super().__init__(message)
        self.code = code


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


def localised_number(value: int) -> str:
    """A count as the reader's language writes it (100.000 in German, 100,000 in English)."""
    return number_format(value, force_grouping=True)


def _normalise_header(name: object) -> str:
    text = str(name or "").replace("\ufeff", "").strip().lower().replace(" ", "_")
    return COLUMN_ALIASES.get(text, text)


def check_columns(raw_headers: list[object] | tuple) -> list[str]:
    columns = [_normalise_header(name) for name in raw_headers]
    while columns and not columns[-1]:
        columns.pop()
    if not columns:
        raise SpreadsheetError(_("Die Datei ist leer."), code=Problem.EMPTY)
    if "customer" in columns or "kunde" in columns:
        raise SpreadsheetError(_("Die Spalte „customer“ ist nicht erlaubt: Geräte werden immer "
                                 "dem Kunden zugeordnet, für den Sie importieren."),
                               code=Problem.CUSTOMER_COLUMN)
    unknown = [str(raw or "").replace("\ufeff", "").strip() or _("(ohne Namen)")
               for raw, name in zip(raw_headers, columns, strict=False) if name not in COLUMNS]
    if unknown:
        raise SpreadsheetError(
            _("Unbekannte Spalten: %(unknown)s. Erlaubt sind: %(allowed)s.")
            % {"unknown": ", ".join(unknown), "allowed": ", ".join(COLUMNS)},
            code=Problem.UNKNOWN_COLUMNS)
    duplicates = sorted({name for name in columns if columns.count(name) > 1})
    if duplicates:
        raise SpreadsheetError(_("Spalten kommen doppelt vor: %(columns)s.")
                               % {"columns": ", ".join(duplicates)},
                               code=Problem.DUPLICATE_COLUMNS)
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise SpreadsheetError(_("Pflichtspalten fehlen: %(missing)s.")
                               % {"missing": ", ".join(missing)}, code=Problem.MISSING_COLUMNS)
    return columns


def too_many_rows() -> SpreadsheetError:
    return SpreadsheetError(
        _("Die Datei hat mehr als %(limit)s Zeilen. Bitte teilen Sie sie auf.")
        % {"limit": localised_number(settings.DEVICE_IMPORT_MAX_ROWS)},
        code=Problem.TOO_MANY_ROWS)


def extra_values(line: int) -> SpreadsheetError:
    return SpreadsheetError(_("Zeile %(line)s hat mehr Werte als die Kopfzeile Spalten hat.")
                            % {"line": line}, code=Problem.EXTRA_VALUES)
