"""The malformed and odd inventory files of ``test_malformed_files.py``: how each is built (in
memory: text, openpyxl, zipfile) and what the import must answer.

Every case starts from the same inventory of Kunde A (``BASE_DEVICES``); a file that was read
would change SN-1 and add SN-3, so "nothing changed" is a real check. ``markdown_table()``
renders the list for the closing note:

    DJANGO_SETTINGS_MODULE=portal.settings.test .venv/bin/python -c "import django; \\
    django.setup(); from tests.devices.malformed_cases import markdown_table; \\
    print(markdown_table())"
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from devices.spreadsheets import Problem

#: The devices of Kunde A before every case: serial -> (hostname, kind, location).
BASE_DEVICES = {"SN-1": ("pc-01", "workstation", "Büro Süd"), "SN-2": ("srv-01", "server",
                                                                       "Keller")}
#: A file that is read changes SN-1's location and adds SN-3.
READ_RESULT = {"SN-1": {"hostname": "pc-01", "location": "Büro Nord"},
               "SN-3": {"hostname": "pc-03", "location": "Lager"}}
HEADER = "hostname;serial;kind;location"
ROWS = ("pc-01;SN-1;workstation;Büro Nord", "pc-03;SN-3;server;Lager")
GOOD_TABLE = [["hostname", "serial", "kind", "location"],
              ["pc-01", "SN-1", "workstation", "Büro Nord"], ["pc-03", "SN-3", "server", "Lager"]]


# --- What the import must answer -------------------------------------------------------------

@dataclass(frozen=True)
class Message:
    """A message as its German source text (the msgid) and the values put into it."""

    template: str
    params: dict = field(default_factory=dict)

    @property
    def german(self) -> str:
        return self.template % self.params if self.params else self.template


def msg(template: str, **params) -> Message:
    return Message(template, params)


@dataclass(frozen=True)
class UploadRefused:
    """The upload service refuses the file; nothing is stored."""

    message: Message


@dataclass(frozen=True)
class Refused:
    """The file as a whole cannot be read: the import ends as invalid with this message."""

    code: Problem
    message: Message


@dataclass(frozen=True)
class RowErrors:
    """The file is read, but rows are invalid (line -> its exact messages); nothing applied."""

    rows: dict[int, list[Message]]


@dataclass(frozen=True)
class Imported:
    """The file is read, previewed and applied: these serials end with these values."""

    devices: dict[str, dict] = field(default_factory=lambda: READ_RESULT)
    counts: dict = field(default_factory=lambda: {"new": 1, "changed": 1, "unchanged": 0,
                                                  "invalid": 0})


@dataclass(frozen=True)
class Case:
    kind: str
    file_name: str
    build: Callable[[], bytes]
    expect: UploadRefused | Refused | RowErrors | Imported
    settings: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.kind.lower()).strip("-")


# --- Building files --------------------------------------------------------------------------

def text(*lines: str, encoding: str = "utf-8", prefix: str = "", newline: str = "\r\n"):
    return lambda: (prefix + newline.join(lines) + newline).encode(encoding)


def raw(data: bytes):
    return lambda: data


def workbook(rows, extra: Callable | None = None) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    if extra:
        extra(book.active)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx(rows=GOOD_TABLE, extra: Callable | None = None):
    return lambda: workbook(rows, extra)


def rezip(data: bytes, change: dict[str, Callable[[bytes], bytes]] | None = None,
          add: dict[str, bytes] | None = None, flag_bits: int = 0) -> bytes:
    """``data`` (a zip) with some parts changed or added."""
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            body = source.read(info.filename)
            if change and info.filename in change:
                body = change[info.filename](body)
            archive.writestr(info.filename, body)
        for name, body in (add or {}).items():
            archive.writestr(name, body)
    result = target.getvalue()
    if flag_bits:  # mark every part (local and central headers) e.g. as encrypted
        result = result.replace(b"PK\x03\x04\x14\x00\x00\x00", b"PK\x03\x04\x14\x00"
                                + bytes([flag_bits, 0]))
        result = re.sub(rb"PK\x01\x02(..)\x14\x00\x00\x00",
                        lambda m: b"PK\x01\x02" + m.group(1) + b"\x14\x00"
                        + bytes([flag_bits, 0]), result, flags=re.S)
    return result


def with_dtd(declaration: bytes) -> Callable[[bytes], bytes]:
    """Put a DOCTYPE right after the XML declaration of a part (or at its start)."""
    def change(body: bytes) -> bytes:
        match = re.match(rb"<\?xml[^>]*\?>", body)
        cut = match.end() if match else 0
        return body[:cut] + declaration + body[cut:]
    return change


def xlsx_changed(part: str, change: Callable[[bytes], bytes], **kwargs):
    return lambda: rezip(workbook(GOOD_TABLE), {part: change}, **kwargs)


DTD = b'<!DOCTYPE worksheet [<!ENTITY firma "Muster GmbH">]>'
XXE = b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS = (b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;")
                                                 * 10) for n in range(1, 10)) + b"]>")
SHARED_STRINGS = (b'<?xml version="1.0" encoding="UTF-8"?>' + DTD
                  + b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                    b'count="1" uniqueCount="1"><si><t>&firma;</t></si></sst>')


def utf16_sheet_with_dtd(body: bytes) -> bytes:
    rest = re.sub(rb"^<\?xml[^>]*\?>", b"", body).decode()
    return ('<?xml version="1.0" encoding="UTF-16"?>' + DTD.decode() + rest).encode("utf-16")


def zip_bomb() -> bytes:
    return rezip(workbook(GOOD_TABLE), add={"xl/media/image1.bin": bytes(30_000_000)})


def zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hallo.txt", "Hallo")
    return buffer.getvalue()


def corrupted_sheet_data() -> bytes:
    data = bytearray(rezip(workbook(GOOD_TABLE)))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename)
    for offset in range(start + 4, start + 12):
        data[offset] ^= 0x5A
    return bytes(data)


def claims_whole_sheet(body: bytes) -> bytes:
    return re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', body)


def no_sheets(body: bytes) -> bytes:
    return re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", body, flags=re.S)


def formula(cell: str, value):
    def put(sheet):
        sheet[cell] = value
    return put


def array_formula(sheet):
    from openpyxl.worksheet.formula import ArrayFormula

    sheet["D2"] = ArrayFormula("D2", "=UPPER(A2)")


def styled_padding(sheet):
    from openpyxl.styles import Font

    bold = Font(bold=True)
    for row in range(4, 5004):
        for column in range(1, 8):
            sheet.cell(row=row, column=column).font = bold


def row_after_padding(sheet):
    for column, value in enumerate(["pc-04", "SN-4", "server", "Außenlager"], start=1):
        sheet.cell(row=60_010, column=column, value=value)


def future_moment(sheet):
    from datetime import datetime

    sheet["E1"] = "last_seen"
    sheet["E2"] = datetime(2099, 1, 1, 8, 0)


FUTURE = ("Zeile %(line)s, Spalte %(column)s: %(problem)s")
FUTURE_PROBLEM = ("Das Datum %(value)s liegt in der Zukunft; erlaubt ist höchstens das heutige "
                  "Datum.")
NOT_A_DATE = ("„%(value)s“ in Spalte %(column)s ist kein gültiges Datum (erwartet z. B. "
              "2026-11-18 oder 18.11.2026).")
QUOTE = ("Zeile %(line)s: Ein Feld beginnt mit einem Anführungszeichen (\"), das nicht "
         "richtig geschlossen wird; die folgenden Zeilen würden sonst in dieses Feld "
         "übernommen. Bitte prüfen Sie die Anführungszeichen ab dieser Zeile.")
XLSX_BROKEN = msg("Die Datei ist keine gültige XLSX-Datei.")
XLSX_DTD = ("Die XLSX-Datei enthält eine DTD oder Entity-Deklaration (Teil „%(part)s“). "
            "Solche Dateien werden aus Sicherheitsgründen nicht gelesen. Bitte speichern Sie "
            "die Tabelle in Excel oder LibreOffice neu als XLSX.")
NOT_TEXT = msg("Die Datei ist keine Textdatei (CSV). Bitte speichern Sie sie als CSV (UTF-8) "
               "oder XLSX.")
ENCODING = msg("Die Kodierung der Datei wird nicht unterstützt. Bitte speichern Sie sie als "
               "CSV (UTF-8) oder XLSX.")
MIXED_ENCODING = ("Die Datei ist nicht einheitlich kodiert: Sie ist als UTF-8 gekennzeichnet "
                  "oder enthält UTF-8-Zeichen, aber in Zeile %(line)s steht ein Zeichen, das "
                  "kein gültiges UTF-8 ist. Bitte speichern Sie sie als CSV (UTF-8) oder XLSX.")
NUL = "Zeile %(line)s enthält ein Nullzeichen (NUL); die Datei ist keine gültige CSV-Datei."
ALLOWED = ("hostname, serial, kind, os, location, agent_id, last_seen, av_signature_date, "
           "notes")


def dated(column: str, value: str):
    return text(f"{HEADER};{column}", f"{ROWS[0]};{value}", f"{ROWS[1]};")


def quarter_meg_of_rows() -> bytes:
    rows = [f"pc-{n:05d};SN-{n:05d};server;Raum {n}" for n in range(1001)]
    return text(HEADER, *rows)()


# --- The cases -------------------------------------------------------------------------------

CASES = [
    # Encodings
    Case("UTF-16 LE with BOM", "geraete.csv", text(HEADER, *ROWS, encoding="utf-16-le",
                                                   prefix="\ufeff"), Imported()),
    Case("UTF-16 BE with BOM", "geraete.csv", text(HEADER, *ROWS, encoding="utf-16-be",
                                                   prefix="\ufeff"), Imported()),
    Case("UTF-16 LE without BOM", "geraete.csv", text(HEADER, *ROWS, encoding="utf-16-le"),
         Imported()),
    Case("UTF-16 BE without BOM", "geraete.csv", text(HEADER, *ROWS, encoding="utf-16-be"),
         Imported()),
    Case("UTF-16 with a NUL character", "geraete.csv",
         text(HEADER, ROWS[0], "pc-03;SN-3;server;La\x00ger", encoding="utf-16"),
         Refused(Problem.NOT_TEXT, msg(NUL, line=3))),
    Case("UTF-8 with a stray NUL byte", "geraete.csv",
         text(HEADER, ROWS[0], "pc-03;SN-3;server;La\x00ger"),
         Refused(Problem.NOT_TEXT, msg(NUL, line=3))),
    Case("UTF-8 with a NUL byte far down", "geraete.csv",
         text(HEADER, ROWS[0], *([";;;"] * 20_000), "pc-03;SN-3;server;La\x00ger"),
         Refused(Problem.NOT_TEXT, msg(NUL, line=20_003))),
    Case("UTF-32 with BOM", "geraete.csv", text(HEADER, *ROWS, encoding="utf-32"),
         Refused(Problem.ENCODING, ENCODING)),
    Case("UTF-8 with BOM", "geraete.csv", text(HEADER, *ROWS, prefix="\ufeff"), Imported()),
    Case("Windows-1252 (umlauts)", "geraete.csv", text(HEADER, *ROWS, encoding="cp1252"),
         Imported()),
    Case("Latin-1 (ISO-8859-1)", "geraete.csv", text(HEADER, *ROWS, encoding="latin-1"),
         Imported()),
    Case("UTF-8 with one Windows-1252 line (invalid UTF-8)", "geraete.csv",
         lambda: (HEADER + "\r\n" + ROWS[0] + "\r\n").encode()
         + "pc-03;SN-3;server;Lager Süd\r\n".encode("cp1252"),
         Refused(Problem.ENCODING, msg(MIXED_ENCODING, line=3))),
    Case("UTF-8 BOM but Windows-1252 content", "geraete.csv",
         text(HEADER, ROWS[0].replace("Nord", "Süd"), ROWS[1], encoding="cp1252",
              prefix="\ufeff".encode().decode("cp1252")),
         Refused(Problem.ENCODING, msg(MIXED_ENCODING, line=2))),
    Case("binary (PNG) named .csv", "geraete.csv", raw(b"\x89PNG\r\n\x1a\n" + bytes(300)),
         Refused(Problem.NOT_TEXT, NOT_TEXT)),
    Case("control characters, no NUL", "geraete.csv", raw(bytes(range(1, 32)) * 40),
         Refused(Problem.NOT_TEXT, msg("Die Datei enthält Binärdaten und ist keine "
                                       "CSV-Datei."))),
    Case("XLSX named .csv", "geraete.csv", lambda: workbook(GOOD_TABLE),
         Refused(Problem.FILE_TYPE, msg("Die Datei ist eine XLSX-Datei, hat aber die Endung "
                                        ".csv. Bitte benennen Sie sie in .xlsx um."))),
    Case("PDF (.pdf)", "geraete.pdf", raw(b"%PDF-1.7\n"),
         UploadRefused(msg("Bitte laden Sie eine CSV- oder XLSX-Datei hoch."))),
    # Delimiters
    Case("delimiter ;", "geraete.csv", text(HEADER, *ROWS), Imported()),
    Case("delimiter ,", "geraete.csv", text(*(line.replace(";", ",")
                                              for line in (HEADER, *ROWS))), Imported()),
    Case("delimiter tab", "geraete.csv", text(*(line.replace(";", "\t")
                                                for line in (HEADER, *ROWS))), Imported()),
    Case("mixed delimiters in the header", "geraete.csv",
         text("hostname;serial,kind;location", *ROWS),
         Refused(Problem.DELIMITER, msg("Die Kopfzeile mischt Trennzeichen (Semikolon, Komma, "
                                        "Tabulator). Bitte verwenden Sie nur eines davon."))),
    Case("no delimiter", "geraete.csv", text("hostname serial kind", "pc-01 SN-1 server"),
         Refused(Problem.DELIMITER, msg("In der Kopfzeile steht kein Trennzeichen. Bitte "
                                        "trennen Sie die Spalten mit Semikolon, Komma oder "
                                        "Tabulator."))),
    Case("a row with another delimiter", "geraete.csv",
         text(HEADER, ROWS[0], "pc-03,SN-3,server,Lager"),
         RowErrors({3: [msg("Die Seriennummer fehlt."),
                        msg("„%(value)s“ ist kein gültiger Hostname (Buchstaben, Ziffern, "
                            "Bindestriche, Punkte).", value="pc-03,SN-3,server,Lager"),
                        msg("Die Geräteart fehlt.")]})),
    # Quoting
    Case("unterminated quote to the end of the file", "geraete.csv",
         text(HEADER, 'pc-01;SN-1;workstation;"Büro Nord', ROWS[1]),
         Refused(Problem.QUOTE, msg(QUOTE, line=2))),
    Case("unterminated quote swallowing records, closed later", "geraete.csv",
         text(HEADER, 'pc-01;SN-1;workstation;"Büro Nord', ROWS[1], 'pc-04;SN-4;server;x"'),
         Refused(Problem.QUOTE, msg(QUOTE, line=2))),
    Case("unterminated quote in a long file (field limit)", "geraete.csv",
         text(HEADER, 'pc-01;SN-1;workstation;"Büro Nord',
              *(f"pc-{n:04d};SN-{n:04d};server;Raum" for n in range(6000))),
         Refused(Problem.QUOTE, msg(QUOTE, line=2))),
    Case("text after a closing quote", "geraete.csv",
         text(HEADER, ROWS[0], 'pc-03;SN-3;server;"19" Rack'),
         Refused(Problem.TEXT_AFTER_QUOTE,
                 msg("Zeile %(line)s: Nach einem schließenden Anführungszeichen (\") folgt "
                     "weiterer Text im selben Feld. Bitte setzen Sie das ganze Feld in "
                     "Anführungszeichen und verdoppeln Sie Anführungszeichen darin (\"\").",
                     line=3))),
    Case("stray quote inside a field", "geraete.csv",
         text(HEADER, ROWS[0], 'pc-03;SN-3;server;Rack 19" unten'),
         Imported({"SN-1": READ_RESULT["SN-1"],
                   "SN-3": {"hostname": "pc-03", "location": 'Rack 19" unten'}})),
    Case("embedded line break in a quoted field (legit)", "geraete.csv",
         text(f"{HEADER};notes", f'{ROWS[0]};"Erste Zeile\r\nzweite Zeile"', f"{ROWS[1]};",
              "pc-04;SN-4;server;Keller;"),
         Imported({"SN-1": {**READ_RESULT["SN-1"], "notes": "Erste Zeile\r\nzweite Zeile"},
                   "SN-3": READ_RESULT["SN-3"], "SN-4": {"hostname": "pc-04"}},
                  {"new": 2, "changed": 1, "unchanged": 0, "invalid": 0})),
    Case("doubled quotes inside a quoted field", "geraete.csv",
         text(HEADER, ROWS[0], 'pc-03;SN-3;server;"Schrank ""A"""'),
         Imported({"SN-1": READ_RESULT["SN-1"],
                   "SN-3": {"hostname": "pc-03", "location": 'Schrank "A"'}})),
    # Sizes
    Case("empty file", "geraete.csv", raw(b""), UploadRefused(msg("Die Datei ist leer."))),
    Case("only blank lines", "geraete.csv", raw(b"\r\n  \r\n\r\n"),
         Refused(Problem.EMPTY, msg("Die Datei ist leer."))),
    Case("header only", "geraete.csv", text(HEADER),
         Refused(Problem.HEADER_ONLY, msg("Die Datei enthält keine Geräte, nur eine "
                                          "Kopfzeile."))),
    Case("over the size limit", "geraete.csv",
         text(HEADER, *ROWS, "pc-09;SN-9;server;" + "x" * 1_048_600),
         UploadRefused(msg("Die Datei ist größer als %(limit)s MB.", limit=1)),
         {"DEVICE_IMPORT_MAX_BYTES": 1024 * 1024}),
    Case("over the row limit", "geraete.csv", quarter_meg_of_rows,
         Refused(Problem.TOO_MANY_ROWS, msg("Die Datei hat mehr als %(limit)s Zeilen. Bitte "
                                            "teilen Sie sie auf.", limit="1.000")),
         {"DEVICE_IMPORT_MAX_ROWS": 1000}),
    Case("field over the CSV field limit", "geraete.csv",
         text(HEADER, ROWS[0], "pc-03;SN-3;server;" + "x" * 140_000),
         Refused(Problem.FIELD_TOO_LARGE, msg("Zeile %(line)s enthält ein Feld mit mehr als "
                                              "%(limit)s Zeichen.", line=3,
                                              limit="131.072"))),
    Case("field longer than its column", "geraete.csv",
         text(f"{HEADER};notes", f"{ROWS[0]};", f"{ROWS[1]};" + "x" * 2001),
         RowErrors({3: [msg("Spalte %(column)s ist länger als %(limit)s Zeichen.",
                            column="notes", limit=2000)]})),
    Case("more values than columns", "geraete.csv", text(HEADER, ROWS[0], ROWS[1] + ";zu viel"),
         Refused(Problem.EXTRA_VALUES, msg("Zeile %(line)s hat mehr Werte als die Kopfzeile "
                                           "Spalten hat.", line=3))),
    # Zips
    Case("zip bomb (high compression ratio)", "geraete.xlsx", zip_bomb,
         Refused(Problem.XLSX_COMPRESSION,
                 msg("Die XLSX-Datei ist ungewöhnlich stark komprimiert (entpackt mehr als das "
                     "%(ratio)s-Fache ihrer Größe) und wird aus Sicherheitsgründen nicht "
                     "gelesen.", ratio="100"))),
    Case("unpacks beyond the limit", "geraete.xlsx", zip_bomb,
         Refused(Problem.XLSX_UNPACKED_TOO_LARGE, msg("Die XLSX-Datei ist entpackt zu groß.")),
         {"DEVICE_IMPORT_MAX_BYTES": 1024 * 1024}),
    Case("not a zip (.xlsx with CSV text)", "geraete.xlsx", text(HEADER, *ROWS),
         Refused(Problem.XLSX_BROKEN, XLSX_BROKEN)),
    Case("truncated zip", "geraete.xlsx", lambda: workbook(GOOD_TABLE)[:3000],
         Refused(Problem.XLSX_BROKEN, XLSX_BROKEN)),
    Case("zip without a workbook", "geraete.xlsx", zip_without_workbook,
         Refused(Problem.XLSX_BROKEN, XLSX_BROKEN)),
    Case("corrupted sheet data (CRC)", "geraete.xlsx", corrupted_sheet_data,
         Refused(Problem.XLSX_BROKEN, XLSX_BROKEN)),
    Case("parts marked as encrypted", "geraete.xlsx",
         lambda: rezip(workbook(GOOD_TABLE), flag_bits=0x01),
         Refused(Problem.XLSX_BROKEN, XLSX_BROKEN)),
    Case("old .xls / password-protected (OLE)", "geraete.xlsx",
         raw(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
         Refused(Problem.XLSX_LEGACY, msg("Die Datei ist eine ältere Excel-Datei (.xls) oder "
                                          "mit einem Kennwort geschützt. Bitte speichern Sie "
                                          "sie ohne Kennwort als XLSX."))),
    Case("workbook without sheets", "geraete.xlsx", xlsx_changed("xl/workbook.xml", no_sheets),
         Refused(Problem.XLSX_BROKEN, XLSX_BROKEN)),
    Case("broken sheet XML", "geraete.xlsx",
         xlsx_changed("xl/worksheets/sheet1.xml", lambda body: body[:-40]),
         Refused(Problem.XLSX_BROKEN, XLSX_BROKEN)),
    # DTDs and entities
    Case("DTD in the sheet", "geraete.xlsx",
         xlsx_changed("xl/worksheets/sheet1.xml", with_dtd(DTD)),
         Refused(Problem.XLSX_DTD, msg(XLSX_DTD, part="xl/worksheets/sheet1.xml"))),
    Case("billion laughs in the sheet", "geraete.xlsx",
         xlsx_changed("xl/worksheets/sheet1.xml", with_dtd(LAUGHS)),
         Refused(Problem.XLSX_DTD, msg(XLSX_DTD, part="xl/worksheets/sheet1.xml"))),
    Case("XXE external entity in the sheet", "geraete.xlsx",
         xlsx_changed("xl/worksheets/sheet1.xml",
                      lambda body: with_dtd(XXE)(body).replace(b"<t>pc-03</t>",
                                                               b"<t>&xxe;</t>")),
         Refused(Problem.XLSX_DTD, msg(XLSX_DTD, part="xl/worksheets/sheet1.xml"))),
    Case("DTD in sharedStrings", "geraete.xlsx",
         lambda: rezip(workbook(GOOD_TABLE), add={"xl/sharedStrings.xml": SHARED_STRINGS}),
         Refused(Problem.XLSX_DTD, msg(XLSX_DTD, part="xl/sharedStrings.xml"))),
    Case("DTD in the workbook", "geraete.xlsx", xlsx_changed("xl/workbook.xml", with_dtd(DTD)),
         Refused(Problem.XLSX_DTD, msg(XLSX_DTD, part="xl/workbook.xml"))),
    Case("DTD in [Content_Types].xml", "geraete.xlsx",
         xlsx_changed("[Content_Types].xml", with_dtd(DTD)),
         Refused(Problem.XLSX_DTD, msg(XLSX_DTD, part="[Content_Types].xml"))),
    Case("DTD in a UTF-16 sheet", "geraete.xlsx",
         xlsx_changed("xl/worksheets/sheet1.xml", utf16_sheet_with_dtd),
         Refused(Problem.XLSX_DTD, msg(XLSX_DTD, part="xl/worksheets/sheet1.xml"))),
    # Formulae
    Case("XLSX formula =", "geraete.xlsx", xlsx(extra=formula("D2", "=1+1")),
         Refused(Problem.FORMULA, msg("Zeile %(line)s, Spalte %(column)s enthält eine Formel. "
                                      "Bitte speichern Sie die Tabelle mit Werten statt "
                                      "Formeln.", line=2, column="location"))),
    Case("XLSX array formula", "geraete.xlsx", xlsx(extra=array_formula),
         Refused(Problem.FORMULA, msg("Zeile %(line)s, Spalte %(column)s enthält eine Formel. "
                                      "Bitte speichern Sie die Tabelle mit Werten statt "
                                      "Formeln.", line=2, column="location"))),
    Case("XLSX DDE formula", "geraete.xlsx", xlsx(extra=formula("D3", "=cmd|' /C calc'!A0")),
         Refused(Problem.FORMULA, msg("Zeile %(line)s, Spalte %(column)s enthält eine Formel. "
                                      "Bitte speichern Sie die Tabelle mit Werten statt "
                                      "Formeln.", line=3, column="location"))),
    Case("CSV cells starting with = + - @ (kept as text)", "geraete.csv",
         text(f"{HEADER};notes", f"{ROWS[0]};=HYPERLINK(\"http://x\")",
              f"{ROWS[1]};@SUM(1+1)", "pc-04;SN-4;server;-Keller;+49 40 123"),
         Imported({"SN-1": {**READ_RESULT["SN-1"], "notes": '=HYPERLINK("http://x")'},
                   "SN-3": {**READ_RESULT["SN-3"], "notes": "@SUM(1+1)"},
                   "SN-4": {"location": "-Keller", "notes": "+49 40 123"}},
                  {"new": 2, "changed": 1, "unchanged": 0, "invalid": 0})),
    Case("CSV DDE payload as hostname", "geraete.csv",
         text(HEADER, ROWS[0], "=cmd|' /C calc'!A0;SN-3;server;Lager"),
         RowErrors({3: [msg("„%(value)s“ ist kein gültiger Hostname (Buchstaben, Ziffern, "
                            "Bindestriche, Punkte).", value="=cmd|' /C calc'!A0")]})),
    # Padding
    Case("XLSX with 5,000 styled empty rows", "geraete.xlsx", xlsx(extra=styled_padding),
         Imported()),
    Case("XLSX data row after 60,000 empty rows", "geraete.xlsx", xlsx(extra=row_after_padding),
         Imported({**READ_RESULT, "SN-4": {"hostname": "pc-04", "location": "Außenlager"}},
                  {"new": 2, "changed": 1, "unchanged": 0, "invalid": 0})),
    Case("XLSX claiming the whole sheet as used range", "geraete.xlsx",
         xlsx_changed("xl/worksheets/sheet1.xml", claims_whole_sheet), Imported()),
    Case("CSV with 20,000 empty lines before the last row", "geraete.csv",
         text(HEADER, ROWS[0], *([";;;"] * 20_000), ROWS[1]), Imported()),
    Case("trailing empty columns", "geraete.csv",
         text(HEADER + ";;;", *(row + ";;;" for row in ROWS)), Imported()),
    # Headers
    Case("unknown column", "geraete.csv", text(f"{HEADER};Farbe", f"{ROWS[0]};blau", ROWS[1]),
         Refused(Problem.UNKNOWN_COLUMNS,
                 msg("Unbekannte Spalten: %(unknown)s. Erlaubt sind: %(allowed)s.",
                     unknown="Farbe", allowed=ALLOWED))),
    Case("column without a name", "geraete.csv",
         text("hostname;;serial;kind", "pc-01;x;SN-1;server"),
         Refused(Problem.UNKNOWN_COLUMNS,
                 msg("Unbekannte Spalten: %(unknown)s. Erlaubt sind: %(allowed)s.",
                     unknown="(ohne Namen)", allowed=ALLOWED))),
    Case("duplicate column (alias)", "geraete.csv",
         text(f"{HEADER};Seriennummer", f"{ROWS[0]};SN-9", ROWS[1]),
         Refused(Problem.DUPLICATE_COLUMNS, msg("Spalten kommen doppelt vor: %(columns)s.",
                                                columns="serial"))),
    Case("missing required columns", "geraete.csv", text("hostname;location", "pc-01;Büro"),
         Refused(Problem.MISSING_COLUMNS, msg("Pflichtspalten fehlen: %(missing)s.",
                                              missing="serial, kind"))),
    Case("customer column", "geraete.csv", text(f"{HEADER};Kunde", f"{ROWS[0]};Kunde B"),
         Refused(Problem.CUSTOMER_COLUMN, msg("Die Spalte „customer“ ist nicht erlaubt: Geräte "
                                              "werden immer dem Kunden zugeordnet, für den Sie "
                                              "importieren."))),
    Case("German header aliases", "geraete.csv",
         text("Hostname;Seriennummer;Geräteart;Standort", *ROWS), Imported()),
    Case("BOM twice before the header", "geraete.csv", text(HEADER, *ROWS, prefix="\ufeff\ufeff"),
         Imported()),
    Case("blank lines before the header", "geraete.csv", text("", ";;;", HEADER, *ROWS),
         Imported()),
    # Dates
    Case("AV signature in 2099", "geraete.csv", dated("av_signature_date", "2099-01-01"),
         RowErrors({2: [msg(FUTURE, line=2, column="av_signature_date",
                            problem=FUTURE_PROBLEM % {"value": "01.01.2099"})]})),
    Case("last seen next year", "geraete.csv", dated("last_seen", "15.06.2027 10:00"),
         RowErrors({2: [msg(FUTURE, line=2, column="last_seen",
                            problem=FUTURE_PROBLEM % {"value": "15.06.2027"})]})),
    Case("XLSX last seen in 2099 (date cell)", "geraete.xlsx", xlsx(extra=future_moment),
         RowErrors({2: [msg(FUTURE, line=2, column="last_seen",
                            problem=FUTURE_PROBLEM % {"value": "01.01.2099"})]})),
    Case("impossible date 31.02.", "geraete.csv", dated("av_signature_date", "31.02.2026"),
         RowErrors({2: [msg(NOT_A_DATE, value="31.02.2026", column="av_signature_date")]})),
    Case("wrong date format", "geraete.csv", dated("av_signature_date", "2026/11/18"),
         RowErrors({2: [msg(NOT_A_DATE, value="2026/11/18", column="av_signature_date")]})),
    Case("two-digit year", "geraete.csv", dated("av_signature_date", "18.11.26"),
         Imported({"SN-1": {**READ_RESULT["SN-1"], "av_signature_date": date(2026, 11, 18)},
                   "SN-3": {**READ_RESULT["SN-3"], "av_signature_date": None}})),
    # Rows
    Case("same serial twice", "geraete.csv", text(HEADER, ROWS[0], "pc-03;sn-1;server;Lager"),
         RowErrors({line: [msg("Die Seriennummer %(value)s kommt in der Datei mehrfach vor "
                               "(Zeilen %(lines)s).", value="SN-1", lines="2, 3")]
                    for line in (2, 3)})),
    Case("serial of another customer's device", "geraete.csv",
         text(HEADER, ROWS[0], "pc-03;SN-B1;server;Lager"),
         Imported({"SN-1": READ_RESULT["SN-1"], "SN-B1": {"hostname": "pc-03"}})),
]


# --- The table for the closing note ----------------------------------------------------------

def _answer(expect) -> tuple[str, str]:
    if isinstance(expect, Imported):
        counts = expect.counts
        return "– (gelesen)", f"ja: {counts['new']} neu, {counts['changed']} geändert"
    if isinstance(expect, RowErrors):
        return "; ".join(message.german if message.german.startswith("Zeile ")
                         else f"Zeile {line}: {message.german}"
                         for line, messages in expect.rows.items() for message in messages), \
            "nein"
    if isinstance(expect, UploadRefused):
        return f"{expect.message.german} (beim Hochladen)", "nein"
    return f"{expect.message.german} (`{expect.code}`)", "nein"


def markdown_table() -> str:
    """kind → message (German) → devices changed?, one line per case."""
    lines = ["| Art der Datei | Meldung (deutsch) | Geräte geändert? |", "|---|---|---|"]
    for case in CASES:
        message, changed = _answer(case.expect)
        cells = [f"{case.kind} ({case.file_name.rsplit('.', 1)[-1]})", message, changed]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)
