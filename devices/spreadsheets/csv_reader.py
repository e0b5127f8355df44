"""Reading CSV inventories: the encoding (UTF-8, UTF-16, Windows-1252), the delimiter, and
records with true line numbers. A quote left open never swallows the following lines silently:
the file is refused naming the line where the quote opened; every ``csv.Error`` becomes a
message of our own."""

from __future__ import annotations

import csv
import io
import itertools
import re
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

LINE_BREAK = re.compile(r"\r\n|\r|\n")
DELIMITERS = (";", ",", "\t")
UTF8_BOM = b"\xef\xbb\xbf"


# --- Text -----------------------------------------------------------------------------------

def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 LE or BE when every other byte of ``sample`` is NUL (Latin text), else None."""
    even, odd = sample[0::2], sample[1::2]
    if len(odd) < 4:
        return None
    if odd.count(0) >= 0.7 * len(odd) and even.count(0) <= 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.7 * len(even) and odd.count(0) <= 0.05 * len(odd):
        return "utf-16-be"
    return None


def _unsupported_encoding() -> SpreadsheetError:
    return SpreadsheetError(_("Die Kodierung der Datei wird nicht unterstützt. Bitte speichern "
                              "Sie sie als CSV (UTF-8) oder XLSX."), code=Problem.ENCODING)


def _decode_utf16(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding).lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise _unsupported_encoding() from exc


def _decode_8bit(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252/Latin-1, never a mix of both."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    readable = data.decode("utf-8", errors="replace")
    if data.startswith(UTF8_BOM) or not readable.replace("\ufffd", "").isascii():
        # Partly UTF-8: reading it as Windows-1252 would garble every umlaut of the file.
        line = readable.count("\n", 0, readable.index("\ufffd")) + 1
        raise SpreadsheetError(
            _("Die Datei ist nicht einheitlich kodiert: Sie ist als UTF-8 gekennzeichnet oder "
              "enthält UTF-8-Zeichen, aber in Zeile %(line)s steht ein Zeichen, das kein "
              "gültiges UTF-8 ist. Bitte speichern Sie sie als CSV (UTF-8) oder XLSX.")
            % {"line": line}, code=Problem.ENCODING)
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 (with BOM, or recognised by its NUL bytes), else
    Windows-1252/Latin-1; binary data and other encodings are refused."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):  # UTF-32
        raise _unsupported_encoding()
    head = data[:65536]
    encoding = _utf16_without_bom(data[:4096]) if b"\x00" in head else None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _decode_utf16(data, "utf-16")
    elif encoding:
        text = _decode_utf16(data, encoding)
    elif head.count(0) > max(1, 0.01 * len(head)):
        raise SpreadsheetError(_("Die Datei ist keine Textdatei (CSV). Bitte speichern Sie sie "
                                 "als CSV (UTF-8) oder XLSX."), code=Problem.NOT_TEXT)
    else:  # text, perhaps with a stray NUL (refused below, naming its line)
        text = _decode_8bit(data)
    nul = text.find("\x00")
    if nul >= 0:  # no database keeps it in a text column (PostgreSQL refuses it outright)
        raise SpreadsheetError(
            _("Zeile %(line)s enthält ein Nullzeichen (NUL); die Datei ist keine gültige "
              "CSV-Datei.") % {"line": text.count("\n", 0, nul) + 1}, code=Problem.NOT_TEXT)
    sample = text[:65536]
    controls = sum(1 for char in sample if ord(char) < 32 and char not in "\t\r\n")
    if sample and controls / len(sample) > 0.01:
        raise SpreadsheetError(_("Die Datei enthält Binärdaten und ist keine CSV-Datei."),
                               code=Problem.NOT_TEXT)
    return text


def _delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in DELIMITERS}
    used = [delimiter for delimiter, count in counts.items() if count]
    if not used:
        raise SpreadsheetError(_("In der Kopfzeile steht kein Trennzeichen. Bitte trennen Sie "
                                 "die Spalten mit Semikolon, Komma oder Tabulator."),
                               code=Problem.DELIMITER)
    if len(used) > 1:
        raise SpreadsheetError(_("Die Kopfzeile mischt Trennzeichen (Semikolon, Komma, "
                                 "Tabulator). Bitte verwenden Sie nur eines davon."),
                               code=Problem.DELIMITER)
    return used[0]


# --- Records --------------------------------------------------------------------------------

def _quote_error(line: int) -> SpreadsheetError:
    return SpreadsheetError(
        _("Zeile %(line)s: Ein Feld beginnt mit einem Anführungszeichen (\"), das nicht richtig "
          "geschlossen wird; die folgenden Zeilen würden sonst in dieses Feld übernommen. Bitte "
          "prüfen Sie die Anführungszeichen ab dieser Zeile.") % {"line": line},
        code=Problem.QUOTE)


def _last_multiline_quote(text: str, delimiter: str, first: int, last: int) -> int | None:
    """The line where the last quoted field of lines ``first``..``last`` opens that runs over a
    line break (or is still open at ``last``), or None. Only used to explain a broken file."""
    inside, opened, found = False, 0, None
    lines = itertools.islice(io.StringIO(text, newline=""), first - 1, last)
    for number, line in enumerate(lines, start=first):
        position, at_field_start = 0, True
        while position <= len(line):
            if inside:
                end = line.find('"', position)
                if end < 0:
                    break  # the quoted field goes on in the next line
                if line.startswith('"', end + 1):
                    position = end + 2
                    continue
                inside, position, at_field_start = False, end + 1, False
                if opened != number:
                    found = opened
                continue
            if at_field_start and line.startswith('"', position):
                inside, opened, position = True, number, position + 1
                continue
            next_field = line.find(delimiter, position)
            if next_field < 0:
                break
            position, at_field_start = next_field + 1, True
    return opened if inside else found


def _csv_error(exc: csv.Error, text: str, delimiter: str, first: int, line: int):
    """Our own message for whatever the csv module refused, naming the line."""
    opened = _last_multiline_quote(text, delimiter, first, line)
    if opened is not None:
        return _quote_error(opened)
    reason = str(exc)
    if reason.startswith("field larger than field limit"):
        return SpreadsheetError(
            _("Zeile %(line)s enthält ein Feld mit mehr als %(limit)s Zeichen.")
            % {"line": line, "limit": localised_number(csv.field_size_limit())},
            code=Problem.FIELD_TOO_LARGE)
    if "expected after" in reason:
        return SpreadsheetError(
            _("Zeile %(line)s: Nach einem schließenden Anführungszeichen (\") folgt weiterer "
              "Text im selben Feld. Bitte setzen Sie das ganze Feld in Anführungszeichen und "
              "verdoppeln Sie Anführungszeichen darin (\"\").") % {"line": line},
            code=Problem.TEXT_AFTER_QUOTE)
    return SpreadsheetError(_("Die CSV-Datei kann ab Zeile %(line)s nicht gelesen werden.")
                            % {"line": line}, code=Problem.CSV_BROKEN)


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, cells) of every record; line numbers count physical lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    first = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _csv_error(exc, text, delimiter, first, reader.line_num) from exc
        yield first, reader.line_num, cells
        first = reader.line_num + 1


def _swallowed_record(cells: list[str], first: int, delimiter: str, width: int) -> int | None:
    """The line where a quoted field opens whose later lines look like records of their own
    (as many delimiters as the header): a quote left open by mistake, not a note."""
    line = first
    for cell in cells:
        parts = LINE_BREAK.split(cell)
        if any(part.count(delimiter) >= width - 1 for part in parts[1:]):
            return line
        line += len(parts) - 1
    return None


def read_csv(data: bytes) -> Sheet:
    if data.startswith(b"PK\x03\x04"):
        raise SpreadsheetError(_("Die Datei ist eine XLSX-Datei, hat aber die Endung .csv. "
                                 "Bitte benennen Sie sie in .xlsx um."), code=Problem.FILE_TYPE)
    text = decode_text(data)
    if not text.strip():
        raise SpreadsheetError(_("Die Datei ist leer."), code=Problem.EMPTY)
    delimiter = _delimiter(LINE_BREAK.split(text.lstrip("\r\n"), 1)[0])
    records = _csv_records(text, delimiter)
    header = next((cells for _first, _last, cells in records
                   if any(cell.strip() for cell in cells)), [])
    columns = check_columns(header)
    width, limit = len(header), settings.DEVICE_IMPORT_MAX_ROWS
    sheet = Sheet(columns=columns)
    for first, last, cells in records:
        if last > first:  # a quoted field with line breaks: a note, or a quote left open?
            opened = _swallowed_record(cells, first, delimiter, width)
            if opened is not None:
                raise _quote_error(opened)
        if not any(cell.strip() for cell in cells):
            continue
        if len(sheet.rows) >= limit:
            raise too_many_rows()
        if len(cells) > len(columns) and any(cell.strip() for cell in cells[len(columns):]):
            raise extra_values(first)
        sheet.rows.append(RawRow(first, {name: cells[index] if index < len(cells) else ""
                                         for index, name in enumerate(columns)}))
    return sheet
