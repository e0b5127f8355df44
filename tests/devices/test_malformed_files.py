"""Malformed and odd inventory files, each through the real service path: upload → preview →
confirm (inline, and as django-q2 jobs), in German and in English, then the pages.

Each case (``malformed_cases.CASES``) asserts the exact answer (the reader's ``Problem`` code and
the German message, or the exact row messages) and that the inventory is exactly as expected:
unchanged when the file is refused, exactly the file's rows when it is read.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from devices import tasks
from devices.models import Device, DeviceImport, DeviceKind, ImportStatus
from devices.services import device_import_confirm, device_import_upload
from devices.spreadsheets import SpreadsheetError, read_sheet
from tests.devices.malformed_cases import (
    BASE_DEVICES,
    CASES,
    DTD,
    GOOD_TABLE,
    QUOTE,
    XLSX_DTD,
    Case,
    Imported,
    Refused,
    RowErrors,
    UploadRefused,
    markdown_table,
    msg,
    rezip,
    text,
    with_dtd,
    workbook,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=BERLIN)
CONFIRM_REFUSED = "Dieser Import kann nicht (mehr) bestätigt werden."


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def customer(world):
    customer = world["orgs"]["customer_a"]
    for serial, (hostname, kind, location) in BASE_DEVICES.items():
        Device.objects.create(customer=customer, serial_number=serial, hostname=hostname,
                              kind=kind, location=location)
    Device.objects.create(customer=world["orgs"]["customer_b"], serial_number="SN-B1",
                          hostname="fremd-01", kind=DeviceKind.SERVER)
    return customer


def inventory() -> list[dict]:
    return list(Device.objects.order_by("pk").values())


class Outcome:
    """What the services did with one file, as the person would see it afterwards."""

    def __init__(self, *, upload_error=None, device_import=None, confirm_error=None):
        self.upload_error = upload_error
        self.device_import = device_import
        self.confirm_error = confirm_error

    def row_errors(self) -> dict[int, list[str]]:
        return {row["line"]: row["errors"] for row in self.device_import.messages
                if row["errors"]}


@pytest.fixture
def import_file(world, customer, django_capture_on_commit_callbacks):
    """Upload, preview and confirm one case's file like the portal does (small files inline,
    or every step as the django-q2 job a worker would run), in the uploader's language."""
    def run(case: Case, *, language: str = "de", via_job: bool = False) -> Outcome:
        actor = world["people"]["customer_admin"]
        actor.language = language
        actor.save(update_fields=["language"])
        job_settings = {"DEVICE_IMPORT_INLINE_BYTES": 0} if via_job else {}
        with override_settings(**case.settings, **job_settings), \
                translation.override(language):
            data = case.build()
            try:
                with django_capture_on_commit_callbacks(execute=True):
                    device_import = device_import_upload(actor=actor, customer=customer,
                                                         file_name=case.file_name, data=data)
            except ValidationError as exc:
                return Outcome(upload_error=exc.messages)
            if via_job:
                tasks.preview_import(device_import.pk)
            device_import.refresh_from_db()
            confirm_error = None
            try:
                with django_capture_on_commit_callbacks(execute=True):
                    device_import_confirm(actor=actor, device_import=device_import)
            except ValidationError as exc:
                confirm_error = exc.messages
            else:
                if via_job:
                    tasks.apply_import(device_import.pk)
            device_import.refresh_from_db()
        return Outcome(device_import=device_import, confirm_error=confirm_error)
    return run


def translated(template: str) -> bool:
    """Whether the English catalog has this German source text (the lead fills it in last)."""
    with translation.override("en"):
        return gettext(template) != template


def expect_message(shown: str, message, language: str) -> None:
    if language == "de":
        assert shown == message.german
    elif translated(message.template):
        assert shown != message.german, "the English catalog has it, so it must be English"


def check(case: Case, outcome: Outcome, before: list[dict], language: str = "de") -> None:
    """The exact answer for ``case``, and the inventory exactly as it must be afterwards."""
    expect = case.expect
    if isinstance(expect, UploadRefused):
        assert outcome.upload_error is not None, "the upload must be refused"
        [shown] = outcome.upload_error
        expect_message(shown, expect.message, language)
        assert not DeviceImport.objects.exists()
        assert inventory() == before
        return
    device_import = outcome.device_import
    if isinstance(expect, Imported):
        assert outcome.confirm_error is None, device_import.error or device_import.messages
        assert device_import.status == ImportStatus.DONE, device_import.error
        assert device_import.counts == expect.counts
        check_imported(expect, before)
        return
    assert device_import.status == ImportStatus.INVALID
    if language == "de":
        assert outcome.confirm_error == [CONFIRM_REFUSED]
    assert inventory() == before, "a refused file changes no device"
    if isinstance(expect, Refused):
        expect_message(device_import.error, expect.message, language)
        assert device_import.counts == {} and device_import.messages == []
    else:
        assert isinstance(expect, RowErrors)
        shown = outcome.row_errors()
        assert set(shown) == set(expect.rows)
        for line, messages in expect.rows.items():
            assert len(shown[line]) == len(messages)
            for text_shown, message in zip(shown[line], messages, strict=True):
                expect_message(text_shown, message, language)
        assert device_import.error == ""


def check_imported(expect: Imported, before: list[dict]) -> None:
    """Exactly the file's rows changed: the listed serials of Kunde A have the listed values,
    every other device is as it was, and there are no devices beyond those."""
    customer_id = Device.objects.get(serial_number="SN-2").customer_id
    now = inventory()
    imported = {row["serial_number"]: row for row in now if row["customer_id"] == customer_id
                and row["serial_number"] in expect.devices}
    assert set(imported) == set(expect.devices)
    for serial, values in expect.devices.items():
        assert {name: imported[serial][name] for name in values} == values, serial
    touched = {row["id"] for row in imported.values()}
    assert [row for row in now if row["id"] not in touched] == [
        row for row in before if row["id"] not in touched]
    assert len(now) == len(before) + expect.counts["new"]


@pytest.mark.parametrize("via_job", [False, True], ids=["inline", "job"])
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_file_through_upload_preview_and_confirm(case, via_job, import_file):
    before = inventory()
    check(case, import_file(case, via_job=via_job), before)


@pytest.mark.parametrize("case", [case for case in CASES if isinstance(case.expect, Refused)],
                         ids=[case.id for case in CASES if isinstance(case.expect, Refused)])
def test_reader_refuses_with_a_stable_code(case):
    with override_settings(**case.settings), pytest.raises(SpreadsheetError) as caught:
        read_sheet(case.build(), case.file_name)
    assert caught.value.code == case.expect.code
    assert str(caught.value) == case.expect.message.german


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_english_uploader_gets_the_same_answer_in_english(case, import_file):
    """Same outcome; the message is English wherever the English catalog has its text."""
    before = inventory()
    check(case, import_file(case, language="en"), before, language="en")


def test_there_are_at_least_forty_kinds_of_files_and_a_table_of_them():
    assert len({case.kind for case in CASES}) == len(CASES) >= 40
    assert {type(case.expect) for case in CASES} == {UploadRefused, Refused, RowErrors,
                                                     Imported}
    table = markdown_table().splitlines()
    assert len(table) == 2 + len(CASES)
    assert "| DTD in the sheet (xlsx) | Die XLSX-Datei enthält eine DTD" in table[2 + next(
        index for index, case in enumerate(CASES) if case.kind == "DTD in the sheet")]


# --- The pages ------------------------------------------------------------------------------

DTD_XLSX = ("geraete.xlsx", lambda: rezip(workbook(GOOD_TABLE),
                                          {"xl/worksheets/sheet1.xml": with_dtd(DTD)}),
            msg(XLSX_DTD, part="xl/worksheets/sheet1.xml").german)
OPEN_QUOTE_CSV = ("geraete.csv", text("hostname;serial;kind;notes",
                                      'pc-01;SN-1;workstation;"Notiz', "pc-09;SN-9;server;x"),
                  msg(QUOTE, line=2).german)
PAGE_FILES = pytest.mark.parametrize(("file_name", "build", "message"),
                                     [DTD_XLSX, OPEN_QUOTE_CSV], ids=["xlsx-dtd", "csv-quote"])
JOB_OR_INLINE = pytest.mark.parametrize("via_job", [False, True], ids=["inline", "job"])


def _status_page(client, response, via_job: bool):
    """The page the upload redirected to, after the job ran (as a worker would)."""
    assert response.status_code == 302, response.content.decode()[:500]
    device_import = DeviceImport.objects.get()
    if via_job:
        assert device_import.status == ImportStatus.UPLOADED
        tasks.preview_import(device_import.pk)
    page = client.get(response["Location"])
    assert page.status_code == 200
    device_import.refresh_from_db()
    assert device_import.status == ImportStatus.INVALID
    return page.content.decode()


#: Who uploads on which page, and what the form needs besides the file.
PAGES = {"portal": ("customer_admin", "devices:import", False),
         "admin": ("provider_staff", "admin:devices_device_import", True)}


@PAGE_FILES
@JOB_OR_INLINE
@pytest.mark.parametrize("page", list(PAGES))
def test_import_page_shows_the_message(world, customer, verified_client, page, file_name, build,
                                       message, via_job, django_capture_on_commit_callbacks):
    """The portal's and the admin's import page answer with the message, never a 500, both
    when the file is checked in the request and when a job checks it."""
    person, url_name, picks_customer = PAGES[page]
    client = verified_client(world["people"][person])
    form = {"file": SimpleUploadedFile(file_name, build())}
    if picks_customer:
        form["customer"] = customer.pk
    before = inventory()
    with override_settings(DEVICE_IMPORT_INLINE_BYTES=0 if via_job else 256 * 1024), \
            django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(url_name), form)
    body = _status_page(client, response, via_job)
    assert message.replace('"', "&quot;") in body
    assert "Es wurde nichts übernommen" in body
    assert inventory() == before
