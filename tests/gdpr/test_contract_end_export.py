"""The full customer export at the end of a contract: the ZIP's CSV, XLSX and JSON of devices,
bookings, contract, people and documents, the PDFs themselves (hash-equal), the README; who
may start and download it (404 for another tenant, a member, after expiry); the daily expiry."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import InMemoryStorage, default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from contracts.catalogue import plans_seed
from contracts.services import booking_create
from gdpr import tasks
from gdpr.customer_export import PARTS, TABLES
from gdpr.models import CustomerExport, PendingFileDeletion
from gdpr.models.requests import ExportState
from gdpr.services import contract_end as services
from gdpr.services.contract_end import customer_export_build, customer_export_start
from gdpr.services.export_jobs import export_fail
from gdpr.services.pending_files import pending_files_delete
from portal.documents.models import Document
from portal.models import AuditEvent
from tests.factories import DeviceFactory

PDF = b"%PDF-1.7\n% Testdokument\n%%EOF\n"


@pytest.fixture(autouse=True)
def _empty_storage(settings):
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}


@pytest.fixture
def customer(world):
    return world["orgs"]["customer_a"]


@pytest.fixture
def data(world, customer):
    """Two devices (one booked), a document, and the same for another customer."""
    admin = world["people"]["customer_admin"]
    plans = {plan.code: plan for plan in plans_seed()}
    devices = [DeviceFactory(customer=customer, hostname="pc-müller", kind="workstation"),
               DeviceFactory(customer=customer, hostname="pc-zwei", kind="workstation")]
    with transaction.atomic():
        booking_create(actor=admin, customer=customer, plan=plans["mc-standard"],
                       devices=devices[:1])
    document = _document(customer, "Auftragsbestätigung")
    other = world["orgs"]["customer_b"]
    DeviceFactory(customer=other, hostname="fremd-pc")
    _document(other, "Fremd")
    return {"devices": devices, "document": document}


def _document(customer, title: str) -> Document:
    document = Document(customer=customer, kind="test", title=title, filename=f"{title}.pdf",
                        sha256=hashlib.sha256(PDF).hexdigest(), size=len(PDF),
                        created_at=timezone.now())
    document.file.save(f"{title}.pdf", ContentFile(PDF), save=False)
    document.save()
    return document


def _built(world, customer, who="customer_admin") -> CustomerExport:
    with transaction.atomic():
        export = customer_export_start(actor=world["people"][who], customer=customer)
    return customer_export_build(export_id=export.pk)


def _zip(export) -> zipfile.ZipFile:
    with export.file.open("rb") as handle:
        return zipfile.ZipFile(io.BytesIO(handle.read()))


def test_the_zip_holds_every_table_in_three_formats_and_the_pdfs(world, customer, data):
    export = _built(world, customer)
    assert export.state == ExportState.DONE, export.error
    assert (export.parts_done, export.parts_total) == (len(PARTS), len(PARTS))
    with export.file.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == export.sha256
    archive = _zip(export)
    names = set(archive.namelist())
    for table in TABLES:
        assert {f"csv/{table.name}.csv", f"json/{table.name}.json"} <= names

    raw = archive.read("csv/geraete.csv")
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM for Excel
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["Hostname", "Seriennummer"]
    assert sorted(row[0] for row in rows[1:]) == ["pc-müller", "pc-zwei"]  # not fremd-pc

    bookings = list(csv.DictReader(io.StringIO(archive.read("csv/buchungen.csv")
                                               .decode("utf-8-sig")), delimiter=";"))
    assert [(b["Gerät"], b["Nettopreis pro Monat (EUR)"]) for b in bookings] == [
        ("pc-müller", "8,00")]

    people = json.loads(archive.read("json/personen.json"))
    emails = {person["email"] for person in people}
    assert emails == {world["people"]["customer_admin"].email,
                      world["people"]["customer_member"].email}
    assert set(people[0]) == {"first_name", "last_name", "email", "role", "is_active"}
    assert not any("password" in key for person in people for key in person)
    contracts = json.loads(archive.read("json/vertraege.json"))
    assert len(contracts) == 1 and contracts[0]["status"] == "active"

    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(archive.read("kundendaten.xlsx")), read_only=True)
    assert [sheet.title for sheet in workbook.worksheets] == [str(t.title) for t in TABLES]
    devices = list(workbook["Geräte"].iter_rows(values_only=True))
    assert devices[0][0] == "Hostname" and len(devices) == 3

    documents = json.loads(archive.read("json/dokumente.json"))
    assert [d["title"] for d in documents] == ["Auftragsbestätigung"]
    stored = archive.read(documents[0]["path"])
    assert hashlib.sha256(stored).hexdigest() == data["document"].sha256
    assert not any("Fremd" in name for name in names)
    readme = archive.read("README.txt").decode()
    assert "Trennzeichen Semikolon" in readme and "SHA-256" in readme
    assert AuditEvent.objects.filter(action="customer_export.finished").count() == 1


def test_a_document_whose_hash_differs_fails_the_export_without_a_file(world, customer, data):
    Document.objects.filter(pk=data["document"].pk).update(sha256="0" * 64)
    export = _built(world, customer)
    assert export.state == ExportState.FAILED and "SHA-256" in export.error
    assert not export.file


def test_a_second_start_while_one_waits_returns_it(world, customer, data,
                                                   django_capture_on_commit_callbacks,
                                                   monkeypatch):
    queued = []
    monkeypatch.setattr(services, "export_queue", lambda kind, pk: queued.append(pk))
    admin = world["people"]["customer_admin"]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        first = customer_export_start(actor=admin, customer=customer)
    with transaction.atomic():
        assert customer_export_start(actor=admin, customer=customer) == first
    assert queued == [first.pk]
    assert tasks.customer_export_run(first.pk) == ExportState.DONE
    assert tasks.customer_export_run(first.pk) is None  # built once


@pytest.mark.parametrize("who", ["customer_member", "partner_support", "customer_admin_b"])
def test_only_the_customer_admins_and_the_provider_start_it(world, customer, who):
    with pytest.raises(PermissionDenied), transaction.atomic():
        customer_export_start(actor=world["people"][who], customer=customer)


def _download(client, export):
    return client.get(reverse("gdpr:customer_export_download", args=[export.pk]))


def test_download_for_the_admins_and_the_provider_404_for_everyone_else(
        world, customer, data, verified_client):
    export = _built(world, customer)
    response = _download(verified_client(world["people"]["customer_admin"]), export)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert b"".join(response.streaming_content)[:2] == b"PK"
    assert _download(verified_client(world["people"]["provider_staff"]), export
                     ).status_code == 200
    for who in ("customer_member", "customer_admin_b", "partner_support_b"):
        assert _download(verified_client(world["people"][who]), export).status_code == 404, who
    CustomerExport.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    assert _download(verified_client(world["people"]["customer_admin"]), export
                     ).status_code == 404
    assert AuditEvent.objects.filter(action="customer_export.downloaded").count() == 2


def test_the_daily_expiry_deletes_the_file_and_keeps_the_row(world, customer, data,
                                                             django_capture_on_commit_callbacks):
    export = _built(world, customer)
    path = export.file.name
    CustomerExport.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.exports_expire() == 1
    export.refresh_from_db()
    assert not export.file and export.state == ExportState.DONE
    assert not default_storage.exists(path)


def test_the_page_starts_the_export_and_offers_the_download(world, customer, data,
                                                            verified_client, monkeypatch):
    monkeypatch.setattr(services, "export_queue", lambda kind, pk: None)
    client = verified_client(world["people"]["customer_admin"])
    response = client.post(reverse("gdpr:contract_end_export"))
    assert response.status_code == 302
    export = CustomerExport.objects.get()
    assert 'http-equiv="refresh"' in client.get(reverse("gdpr:contract_end")).content.decode()
    customer_export_build(export_id=export.pk)
    body = client.get(reverse("gdpr:contract_end")).content.decode()
    assert reverse("gdpr:customer_export_download", args=[export.pk]) in body


def _expired(export) -> None:
    CustomerExport.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1))


def test_a_failing_storage_keeps_the_deletion_pending_and_the_other_exports_expire(
        world, customer, data, django_capture_on_commit_callbacks, monkeypatch):
    """The file of an expired export is personal data: a storage error after the commit
    leaves a pending deletion the hourly job retries, and stops no other expiry."""
    exports = [_built(world, customer), _built(world, customer)]
    paths = sorted(export.file.name for export in exports)
    for export in exports:
        _expired(export)

    def refuse(storage, path):
        raise OSError("Speicher nicht erreichbar")

    monkeypatch.setattr(InMemoryStorage, "delete", refuse)  # default_storage.delete
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.exports_expire() == 2
    assert not CustomerExport.objects.exclude(file="").exists()
    pending = PendingFileDeletion.objects.order_by("path")
    assert [row.path for row in pending] == paths
    assert all(row.attempts == 1 and "nicht erreichbar" in row.last_error for row in pending)
    assert AuditEvent.objects.filter(action="customer_export.expired").count() == 2
    monkeypatch.undo()
    assert pending_files_delete() == {"deleted": 2, "pending": 0}  # the hourly retry
    assert not any(default_storage.exists(path) for path in paths)


def _deleted_meanwhile(export_id: int) -> None:
    """What a purge does to the row while its ZIP is built."""
    CustomerExport.objects.filter(pk=export_id).delete()


def _failed_meanwhile(export_id: int) -> None:
    """What the next start does to an export it takes for lost."""
    export_fail(services.CUSTOMER_EXPORT, CustomerExport.objects.get(pk=export_id), "verloren")


@pytest.mark.parametrize(("meanwhile", "left"), [(_deleted_meanwhile, []),
                                                  (_failed_meanwhile, [ExportState.FAILED])])
def test_an_export_gone_while_it_is_built_is_not_brought_back(
        world, customer, data, monkeypatch, django_capture_on_commit_callbacks, meanwhile,
        left):
    """A finished build never saves the row: a purged customer's export would be inserted
    again, with a fresh ZIP of the deleted data. The new file is deleted after the commit."""
    archive = services.customer_archive

    def purged_while_writing(organisation, out, **kwargs):
        archive(organisation, out, **kwargs)
        meanwhile(CustomerExport.objects.get().pk)

    monkeypatch.setattr(services, "customer_archive", purged_while_writing)
    with transaction.atomic():
        export = customer_export_start(actor=world["people"]["customer_admin"],
                                       customer=customer)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert customer_export_build(export_id=export.pk) is None
    assert list(CustomerExport.objects.values_list("state", flat=True)) == left
    assert not CustomerExport.objects.exclude(file="").exists()
    stored = PendingFileDeletion.objects.get().path
    assert stored.endswith(".zip") and default_storage.exists(stored)
    for callback in callbacks:
        callback()
    assert not default_storage.exists(stored) and not PendingFileDeletion.objects.exists()
    assert not AuditEvent.objects.filter(action="customer_export.finished").exists()


def test_an_export_purged_while_its_build_fails_is_not_brought_back(world, customer, data,
                                                                   monkeypatch):
    def purged_then_broken(organisation, out, **kwargs):
        _deleted_meanwhile(CustomerExport.objects.get().pk)
        raise RuntimeError("Datenbank weg")

    monkeypatch.setattr(services, "customer_archive", purged_then_broken)
    with transaction.atomic():
        export = customer_export_start(actor=world["people"]["customer_admin"],
                                       customer=customer)
    assert customer_export_build(export_id=export.pk) is None
    assert not CustomerExport.objects.exists()
    assert not AuditEvent.objects.filter(action="customer_export.failed").exists()


def test_the_admin_offers_the_download_to_whoever_looks(world, customer, data,
                                                         verified_client):
    """Who looks is asked per request (annotated), never kept on the shared admin."""
    from django.contrib import admin as django_admin

    export = _built(world, customer)
    link = reverse("gdpr:customer_export_download", args=[export.pk])
    changelist = reverse("admin:gdpr_customerexport_changelist")
    response = verified_client(world["people"]["provider_admin"]).get(changelist)
    assert response.status_code == 200 and link in response.content.decode()
    assert not hasattr(django_admin.site._registry[CustomerExport], "_user")
    _expired(export)
    response = verified_client(world["people"]["provider_admin"]).get(changelist)
    assert link not in response.content.decode()
