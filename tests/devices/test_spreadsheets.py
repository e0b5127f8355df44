"""Reading inventory files (CSV, XLSX): encodings, delimiters, limits, refusals; escaping."""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest
from django.test import override_settings
from django.utils import translation
from openpyxl import Workbook
from openpyxl.styles import Font

from devices.spreadsheets import (
    COLUMNS,
    SpreadsheetError,
    escape_formula,
    file_format,
    read_sheet,
    unescape_formula,
)

HEADER = ["hostname", "serial", "kind", "location"]
ROWS = [["pc-01", "SN-1", "workstation", "Büro Süd"], ["srv-01", "SN-2", "server", "Keller"]]


def csv_bytes(rows, *, delimiter=";", encoding="utf-8", bom=False) -> bytes:
    text = "\r\n".join(delimiter.join(str(cell) for cell in row) for row in rows) + "\r\n"
    return (("\ufeff" if bom else "") + text).encode(encoding)


def xlsx_bytes(rows, extra=None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if extra:
        extra(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def refused(data: bytes, name: str = "geraete.csv") -> str:
    with pytest.raises(SpreadsheetError) as caught:
        read_sheet(data, name)
    message = str(caught.value)
    assert message.strip()
    return message


# --- CSV --------------------------------------------------------------------------------------

@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_csv_delimiters_are_detected(delimiter):
    sheet = read_sheet(csv_bytes([HEADER, *ROWS], delimiter=delimiter), "geraete.csv")
    assert sheet.columns == HEADER
    assert [row.values["serial"] for row in sheet.rows] == ["SN-1", "SN-2"]
    assert sheet.rows[0].values["location"] == "Büro Süd"
    assert [row.line for row in sheet.rows] == [2, 3]


def test_csv_in_windows_1252_keeps_umlauts():
    data = csv_bytes([HEADER, *ROWS], encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    sheet = read_sheet(data, "geraete.csv")
    assert sheet.rows[0].values["location"] == "Büro Süd"


def test_csv_in_utf8_with_bom_keeps_umlauts_and_first_column():
    sheet = read_sheet(csv_bytes([HEADER, *ROWS], bom=True), "geraete.csv")
    assert sheet.columns[0] == "hostname"
    assert sheet.rows[0].values["hostname"] == "pc-01"
    assert sheet.rows[0].values["location"] == "Büro Süd"


def test_header_aliases_and_case_are_understood():
    data = csv_bytes([["Hostname", "Seriennummer", "Art", "Standort", "Notizen"],
                      ["pc-01", "SN-1", "Server", "Raum 1", "x"]])
    sheet = read_sheet(data, "GERAETE.CSV")
    assert sheet.columns == ["hostname", "serial", "kind", "location", "notes"]


def test_all_export_columns_are_accepted():
    sheet = read_sheet(csv_bytes([list(COLUMNS), ["pc-01", "SN-1", "server"] + [""] * 6]),
                       "geraete.csv")
    assert sheet.columns == list(COLUMNS)
    assert set(COLUMNS) == {"hostname", "serial", "kind", "os", "location", "agent_id",
                            "last_seen", "av_signature_date", "notes"}


def test_empty_lines_are_skipped_but_line_numbers_stay_true():
    data = csv_bytes([HEADER, ROWS[0], ["", "", "", ""], ROWS[1]])
    sheet = read_sheet(data, "geraete.csv")
    assert [row.line for row in sheet.rows] == [2, 4]


@pytest.mark.parametrize("data", [
    bytes(range(256)) * 8,                      # NUL bytes: a binary file
    bytes(range(1, 32)) * 64,                   # control characters without NUL
    b"\x89PNG\r\n\x1a\n" + bytes(200),
])
def test_binary_garbage_is_refused(data):
    message = refused(data)
    assert "CSV" in message


@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n", "\ufeff".encode()])
def test_empty_file_is_refused(data):
    assert "leer" in refused(data)


def test_header_only_is_refused():
    assert "Kopfzeile" in refused(csv_bytes([HEADER]))
    assert "Kopfzeile" in refused(xlsx_bytes([HEADER]), "geraete.xlsx")


def test_missing_required_columns_are_named():
    message = refused(csv_bytes([["hostname", "location"], ["pc-01", "Büro"]]))
    assert "Pflichtspalten fehlen" in message
    assert "serial" in message and "kind" in message


def test_unknown_columns_are_named():
    message = refused(csv_bytes([[*HEADER, "farbe"], [*ROWS[0], "blau"]]))
    assert "Unbekannte Spalten" in message and "farbe" in message


def test_duplicate_columns_are_refused():
    message = refused(csv_bytes([[*HEADER, "Seriennummer"], [*ROWS[0], "SN-9"]]))
    assert "doppelt" in message and "serial" in message


@pytest.mark.parametrize("column", ["customer", "Customer", "Kunde"])
def test_customer_column_is_refused(column):
    message = refused(csv_bytes([[*HEADER, column], [*ROWS[0], "Kunde B"]]))
    assert "customer" in message


def test_row_with_more_values_than_columns_is_refused():
    message = refused(csv_bytes([HEADER, [*ROWS[0], "zu viel"]]))
    assert "Zeile 2" in message


@override_settings(DEVICE_IMPORT_MAX_BYTES=100)
def test_file_over_size_limit_is_refused():
    data = csv_bytes([HEADER] + [[f"pc-{n}", f"SN-{n}", "server", "x"] for n in range(10)])
    assert len(data) > 100
    assert "größer" in refused(data)


@override_settings(DEVICE_IMPORT_MAX_ROWS=3)
def test_more_rows_than_limit_are_refused():
    rows = [[f"pc-{n}", f"SN-{n}", "server", "x"] for n in range(4)]
    assert "mehr als 3 Zeilen" in refused(csv_bytes([HEADER, *rows]))
    assert "mehr als 3 Zeilen" in refused(xlsx_bytes([HEADER, *rows]), "geraete.xlsx")
    assert len(read_sheet(csv_bytes([HEADER, *rows[:3]]), "geraete.csv").rows) == 3


@pytest.mark.parametrize(("language", "number"), [("de", "1.000"), ("en", "1,000")])
def test_numbers_in_messages_follow_the_language(language, number):
    rows = [[f"pc-{n}", f"SN-{n}", "server", "x"] for n in range(1001)]
    field = csv_bytes([HEADER, ["pc-0", "SN-0", "server", "x" * 140_000]])
    with override_settings(DEVICE_IMPORT_MAX_ROWS=1000), translation.override(language):
        too_many = refused(csv_bytes([HEADER, *rows]))
        too_long = refused(field)
    assert number in too_many and "1000" not in too_many
    assert f"131{number[1]}072" in too_long
    assert "field larger" not in too_long and "131072" not in too_long


@pytest.mark.parametrize("name", ["geraete.txt", "geraete.pdf", "geraete", "geraete.csv.exe"])
def test_other_file_types_are_refused(name):
    with pytest.raises(SpreadsheetError, match="CSV- oder XLSX"):
        file_format(name)
    refused(csv_bytes([HEADER, *ROWS]), name)


def test_file_format_is_case_insensitive():
    assert file_format("Inventar.XLSX") == "xlsx"
    assert file_format("inventar.2026.Csv") == "csv"


# --- XLSX -------------------------------------------------------------------------------------

def test_xlsx_is_read():
    sheet = read_sheet(xlsx_bytes([HEADER, *ROWS]), "geraete.xlsx")
    assert sheet.columns == HEADER
    assert [row.values["hostname"] for row in sheet.rows] == ["pc-01", "srv-01"]
    assert sheet.rows[0].values["location"] == "Büro Süd"
    assert [row.line for row in sheet.rows] == [2, 3]


def test_xlsx_formula_cell_is_refused():
    def formula(sheet):
        sheet["D2"] = "=1+1"

    message = refused(xlsx_bytes([HEADER, *ROWS], formula), "geraete.xlsx")
    assert "Formel" in message and "Zeile 2" in message


def test_xlsx_formula_in_first_column_is_refused():
    def formula(sheet):
        sheet["A2"] = "=1+1"

    assert "Formel" in refused(xlsx_bytes([HEADER, *ROWS], formula), "geraete.xlsx")


def test_xlsx_padded_with_a_far_away_empty_cell_is_read_quickly():
    def pad(sheet):
        sheet.cell(row=200_000, column=1).font = Font(bold=True)
        sheet.cell(row=200_000, column=9)

    data = xlsx_bytes([HEADER, *ROWS], pad)
    started = time.monotonic()
    with override_settings(DEVICE_IMPORT_MAX_ROWS=10):
        sheet = read_sheet(data, "geraete.xlsx")
    assert time.monotonic() - started < 5
    assert len(sheet.rows) == 2


def test_xlsx_row_far_below_the_padding_is_read_not_dropped():
    def far_away(sheet):
        for column, value in enumerate(["pc-99", "SN-99", "server", "Lager"], start=1):
            sheet.cell(row=60_010, column=column, value=value)

    sheet = read_sheet(xlsx_bytes([HEADER, *ROWS], far_away), "geraete.xlsx")
    assert [row.line for row in sheet.rows] == [2, 3, 60_010]
    assert sheet.rows[-1].values["serial"] == "SN-99"


def test_xlsx_claiming_the_whole_sheet_as_used_range_is_read_quickly():
    data = xlsx_bytes([HEADER, *ROWS])
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as archive:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', body)
                assert b"XFD1048576" in body
            archive.writestr(info, body)
    started = time.monotonic()
    sheet = read_sheet(target.getvalue(), "geraete.xlsx")
    assert time.monotonic() - started < 5
    assert len(sheet.rows) == 2


def test_xlsx_padded_with_many_styled_empty_rows_counts_only_real_rows():
    def pad(sheet):
        bold = Font(bold=True)
        for row in range(4, 5004):
            for column in range(1, 5):
                sheet.cell(row=row, column=column).font = bold

    data = xlsx_bytes([HEADER, *ROWS], pad)
    started = time.monotonic()
    with override_settings(DEVICE_IMPORT_MAX_ROWS=10):
        sheet = read_sheet(data, "geraete.xlsx")
    assert time.monotonic() - started < 5
    assert len(sheet.rows) == 2


def test_xlsx_empty_rows_between_data_are_skipped():
    sheet = read_sheet(xlsx_bytes([HEADER, ROWS[0], [None] * 4, ROWS[1]]), "geraete.xlsx")
    assert [row.line for row in sheet.rows] == [2, 4]


def test_xlsx_extra_value_beyond_header_is_refused():
    message = refused(xlsx_bytes([HEADER, [*ROWS[0], "zu viel"]]), "geraete.xlsx")
    assert "Zeile 2" in message


def test_xlsx_numbers_and_dates_come_through_as_values():
    from datetime import datetime

    sheet = read_sheet(xlsx_bytes([["hostname", "serial", "kind", "last_seen"],
                                   ["pc-01", 12345, "server", datetime(2026, 11, 20, 8, 15)]]),
                       "geraete.xlsx")
    assert sheet.rows[0].values["serial"] == 12345
    assert sheet.rows[0].values["last_seen"] == datetime(2026, 11, 20, 8, 15)


@pytest.mark.parametrize("data", [csv_bytes([HEADER, *ROWS]), b"PK\x03\x04garbage",
                                  bytes(range(256))])
def test_not_an_xlsx_is_refused(data):
    assert "XLSX" in refused(data, "geraete.xlsx")


def test_zip_without_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hallo")
    assert "XLSX" in refused(buffer.getvalue(), "geraete.xlsx")


def test_xlsx_that_unpacks_too_large_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/bomb.xml", b"0" * 5_000_000)
    with override_settings(DEVICE_IMPORT_MAX_BYTES=100_000):
        assert len(buffer.getvalue()) < 100_000
        assert "zu groß" in refused(buffer.getvalue(), "geraete.xlsx")


def test_empty_xlsx_is_refused():
    assert "leer" in refused(xlsx_bytes([]), "geraete.xlsx")


# --- Formula escaping -------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["=SUM(A1:A9)", "+49 40 123", "-1", "@agent", "=HYPERLINK(1)"])
def test_formula_prefixes_get_an_apostrophe_and_come_back(value):
    escaped = escape_formula(value)
    assert escaped == "'" + value
    assert unescape_formula(escaped) == value


@pytest.mark.parametrize("value", ["'=abc", "''+49", "'-"])
def test_values_with_an_apostrophe_before_a_formula_come_back_unchanged(value):
    assert escape_formula(value) == "'" + value
    assert unescape_formula(escape_formula(value)) == value


@pytest.mark.parametrize("value", ["pc-01", "Büro", "", "'", "'quoted", "a=b", "SN-1"])
def test_harmless_values_are_left_alone(value):
    assert escape_formula(value) == value
    assert unescape_formula(value) == value


@pytest.mark.parametrize("value", [None, 3, 4.5])
def test_non_text_values_are_not_escaped(value):
    assert escape_formula(value) == value
