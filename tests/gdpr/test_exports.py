"""Person exports (Art. 15/20 DSGVO): who starts one, the job (claimed once, progress, no half
file), the download (only who may, only while valid), the "Meine Daten" page and the daily
expiry of files."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from gdpr import tasks
from gdpr.models import DataSubjectRequest, ExportState, PendingFileDeletion, PersonExport
from gdpr.services import exports as export_services
from gdpr.services.exports import (
    EXPORT_VALID_DAYS,
    person_export_build,
    person_export_start,
    person_exports_expire,
)
from portal.models import AccessLogEntry, AuditEvent
from portal.privacy import entries
from portal.registries import schedules

MY_DATA = reverse("gdpr:my_data")
REQUEST = reverse("gdpr:my_data_request")


def _request(world, person_key="customer_member", **fields) -> DataSubjectRequest:
    person = world["people"][person_key]
    values = {"kind": "access", "channel": "email", "subject": person,
              "customer": world["orgs"]["customer_a"], "requester_name": "Anna Muster",
              "received_on": date(2026, 1, 5), "deadline": date(2026, 2, 5),
              "state": "identity_checked", **fields}
    return DataSubjectRequest.objects.create(**values)


def _start(**kwargs) -> PersonExport:
    with transaction.atomic():
        return person_export_start(**kwargs)


def _done(world, person_key="customer_member", **start) -> PersonExport:
    person = world["people"][person_key]
    export = _start(actor=start.pop("actor", person), subject=start.pop("subject", person),
                    **start)
    return person_export_build(export_id=export.pk)


@pytest.fixture(autouse=True)
def _empty_storage(settings):
    """A fresh in-memory storage per test (export ids repeat across tests)."""
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}


def _files(export: PersonExport) -> list[str]:
    folder = f"exports/{export.pk}"
    if not default_storage.exists(folder):
        return []
    return [f"{folder}/{name}" for name in default_storage.listdir(folder)[1]]


# --- starting ----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_self_service_export_is_queued_after_the_commit_and_audited(
        world, django_capture_on_commit_callbacks, monkeypatch):
    person = world["people"]["customer_member"]
    sent = []
    monkeypatch.setattr(export_services, "_send", sent.append)
    with django_capture_on_commit_callbacks(execute=True):
        export = _start(actor=person, subject=person)
    assert sent == [export.pk]
    assert export.state == ExportState.QUEUED and export.entries_total == len(entries)
    assert export.customer == world["orgs"]["customer_a"]
    assert AuditEvent.objects.filter(action="person_export.requested",
                                     target_id=str(export.pk)).exists()
    assert _start(actor=person, subject=person) == export  # still waiting: not twice


@pytest.mark.django_db
def test_an_export_lost_by_a_dead_worker_is_failed_and_requested_anew(world, settings):
    person = world["people"]["customer_member"]
    with time_machine.travel(timezone.now() - timedelta(seconds=settings.PORTAL_JOB_STALE_SECONDS
                                                        + 1)):
        lost = _start(actor=person, subject=person)
    PersonExport.objects.filter(pk=lost.pk).update(state=ExportState.RUNNING)
    fresh = _start(actor=person, subject=person)
    lost.refresh_from_db()
    assert fresh != lost and lost.state == ExportState.FAILED and "unterbrochen" in lost.error
    assert person_export_build(export_id=fresh.pk).state == ExportState.DONE


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["dpo", "provider_admin"])
def test_the_dpo_and_provider_admin_export_for_a_checked_access_request(world, who):
    request = _request(world)
    export = _start(actor=world["people"][who], request=request)
    assert export.subject == world["people"]["customer_member"] and export.request == request
    request.refresh_from_db()
    assert request.state == "in_progress"  # the handler works on it now


@pytest.mark.django_db
@pytest.mark.parametrize(("fields", "message"), [
    ({"state": "received"}, "nach der Identitätsprüfung"),
    ({"kind": "erasure"}, "nur eine Anfrage auf Auskunft"),
    ({"subject": None}, "kein Konto"),
])
def test_a_request_not_ready_for_an_export_is_refused_with_a_message(world, fields, message):
    request = _request(world, **fields)
    with pytest.raises(ValidationError, match=message):
        _start(actor=world["people"]["dpo"], request=request)
    assert not PersonExport.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["customer_admin", "provider_staff", "partner_support"])
def test_others_cannot_export_a_persons_data(world, who):
    with pytest.raises(PermissionDenied):
        _start(actor=world["people"][who], request=_request(world))
    with pytest.raises(PermissionDenied):
        _start(actor=world["people"][who], subject=world["people"]["customer_member"])
    assert not PersonExport.objects.exists()


# --- the job -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_job_stores_the_zip_with_checksum_size_and_expiry(world):
    with time_machine.travel("2026-03-02 10:00 +01:00", tick=False):
        export = _done(world)
    assert export.state == ExportState.DONE and export.entries_done == len(entries)
    data = export.file.open("rb").read()
    assert export.sha256 == hashlib.sha256(data).hexdigest() and export.size == len(data)
    assert export.file.name.startswith(f"exports/{export.pk}/")
    assert export.expires_at - export.finished_at == timedelta(days=EXPORT_VALID_DAYS)
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    assert AuditEvent.objects.filter(action="person_export.finished").count() == 1


@pytest.mark.django_db
def test_running_the_job_twice_or_while_another_worker_runs_it_makes_one_file(world):
    export = _done(world)
    assert tasks.person_export_run(export.pk) is None  # done: not redone
    assert _files(export) == [export.file.name]

    person = world["people"]["customer_admin"]
    second = _start(actor=person, subject=person)
    PersonExport.objects.filter(pk=second.pk).update(state=ExportState.RUNNING)  # claimed
    assert person_export_build(export_id=second.pk) is None
    second.refresh_from_db()
    assert second.state == ExportState.RUNNING and not second.file


@pytest.mark.django_db
def test_progress_is_stored_per_registry_entry(world, monkeypatch):
    person = world["people"]["customer_member"]
    export = _start(actor=person, subject=person)
    seen = []
    original = export_services.export_archive

    def watching(subject, *, issued, on_entry):
        def report(done):
            on_entry(done)
            seen.append(PersonExport.objects.get(pk=export.pk).entries_done)
        return original(subject, issued=issued, on_entry=report)

    monkeypatch.setattr(export_services, "export_archive", watching)
    person_export_build(export_id=export.pk)
    assert seen == list(range(1, len(entries) + 1))


@pytest.mark.django_db
def test_a_failing_export_is_failed_with_the_message_and_leaves_no_file(world, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("Platte voll")

    monkeypatch.setattr(export_services, "export_archive", broken)
    export = _done(world)
    assert export.state == ExportState.FAILED and "Platte voll" in export.error
    assert not export.file and _files(export) == []
    assert AuditEvent.objects.filter(action="person_export.failed").count() == 1


@pytest.mark.django_db
def test_a_failure_after_storing_deletes_the_stored_file(world, monkeypatch,
                                                        django_capture_on_commit_callbacks):
    """After the commit, through the retried pending deletion (``files_delete_after_commit``)."""
    from gdpr.services import export_jobs

    original = export_jobs.audit_event_record

    def refusing(**kwargs):
        if kwargs["action"] == "person_export.finished":
            raise RuntimeError("Datenbank weg")
        return original(**kwargs)

    monkeypatch.setattr(export_jobs, "audit_event_record", refusing)
    with django_capture_on_commit_callbacks(execute=True):
        export = _done(world)
    assert export.state == ExportState.FAILED and not export.file
    assert _files(export) == [] and not PendingFileDeletion.objects.exists()


# --- download ----------------------------------------------------------------------------------

def _download(client, export):
    return client.get(reverse("gdpr:export_download", args=[export.pk]))


@pytest.mark.django_db
def test_the_person_downloads_their_export_access_logged_and_audited(world, verified_client):
    export = _done(world)
    person = world["people"]["customer_member"]
    response = _download(verified_client(person), export)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    data = b"".join(response.streaming_content)
    assert person.email in zipfile.ZipFile(io.BytesIO(data)).read("portal.User.json").decode()
    assert AuditEvent.objects.filter(action="person_export.downloaded", actor=person).exists()
    assert AccessLogEntry.objects.filter(user=person, is_download=True).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["customer_admin", "customer_admin_b", "dpo", "provider_admin"])
def test_nobody_else_downloads_a_self_service_export(world, verified_client, who):
    export = _done(world)
    assert _download(verified_client(world["people"][who]), export).status_code == 404


@pytest.mark.django_db
def test_the_dpo_downloads_the_export_they_made_for_a_request_the_person_does_not(
        world, verified_client, client):
    export = _done(world, actor=world["people"]["dpo"], subject=None, request=_request(world))
    assert export.state == ExportState.DONE
    assert _download(verified_client(world["people"]["provider_admin"]), export
                     ).status_code == 404
    assert _download(verified_client(world["people"]["dpo"]), export).status_code == 200
    client.logout()
    assert _download(verified_client(world["people"]["customer_member"]), export
                     ).status_code == 404


@pytest.mark.django_db
def test_after_expiry_the_link_is_404(world, verified_client):
    export = _done(world)
    client = verified_client(world["people"]["customer_member"])
    assert _download(client, export).status_code == 200
    PersonExport.objects.filter(pk=export.pk).update(expires_at=timezone.now())
    assert _download(client, export).status_code == 404


# --- the page ----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_my_data_request_creates_the_request_and_the_export(world, verified_client,
                                                            monkeypatch):
    monkeypatch.setattr(export_services, "_send", lambda pk: None)
    person = world["people"]["customer_member"]
    client = verified_client(person)
    page = client.get(MY_DATA)
    assert page.status_code == 200 and "Meine Daten anfordern" in page.content.decode()
    assert client.post(REQUEST).status_code == 302
    request = DataSubjectRequest.objects.get(subject=person)
    assert request.kind == "access" and request.channel == "portal"
    export = PersonExport.objects.get(request=request)
    assert "http-equiv=\"refresh\"" in client.get(MY_DATA).content.decode()  # while it waits

    client.post(REQUEST)  # again while it waits: the same export
    assert PersonExport.objects.count() == 1
    tasks.person_export_run(export.pk)
    text = client.get(MY_DATA).content.decode()
    assert "ZIP herunterladen" in text and "refresh" not in text
    client.post(REQUEST)  # the request is still open: a new export of it
    assert PersonExport.objects.filter(request=request).count() == 2
    assert DataSubjectRequest.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["customer_admin", "provider_staff", "dpo", "partner_support"])
def test_every_portal_role_has_the_page(world, verified_client, who):
    assert verified_client(world["people"][who]).get(MY_DATA).status_code == 200


@pytest.mark.django_db
def test_the_datenschutz_tabs_link_the_page(world, verified_client):
    text = verified_client(world["people"]["customer_member"]).get(
        reverse("gdpr:dpo")).content.decode()
    assert f'href="{MY_DATA}"' in text


@pytest.mark.django_db
def test_the_page_runs_the_same_queries_with_many_exports(world, verified_client):
    person = world["people"]["customer_member"]
    client = verified_client(person)

    def count(n):
        PersonExport.objects.bulk_create([PersonExport(subject=person, requested_by=person,
                                                       customer=world["orgs"]["customer_a"])
                                          for _ in range(n)])
        client.get(MY_DATA)
        with CaptureQueriesContext(transaction.get_connection()) as queries:
            assert client.get(MY_DATA).status_code == 200
        return len(queries)

    assert count(10) == count(990)


# --- expiry ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_daily_job_deletes_expired_files_and_keeps_the_rows(
        world, django_capture_on_commit_callbacks):
    assert "gdpr.exports_expire" in schedules
    export = _done(world)
    fresh = _done(world, "customer_admin")
    name = export.file.name
    PersonExport.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.exports_expire() == 1
    export.refresh_from_db()
    assert export.state == ExportState.DONE and not export.file
    assert not default_storage.exists(name) and default_storage.exists(fresh.file.name)
    assert AuditEvent.objects.filter(action="person_export.expired").count() == 1
    assert person_exports_expire() == 0  # nothing left to do
