"""The import pages (portal and admin) tell the truth about a job: a stuck step says so and
stops reloading, a failed one shows its message and can be discarded, a recovered one says it
was restarted, and writing is never shown as "n von n" (docs/adr/0008)."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from devices.models import DeviceImport, ImportStatus
from tests.conftest import verify_session
from tests.devices.test_import_jobs import GOOD
from tests.devices.test_job_recovery import stale, stored, stored_import

REFRESH = '<meta http-equiv="refresh" content="2">'


def portal_page(client, device_import) -> str:
    response = client.get(reverse("devices:import_detail", args=[device_import.public_id]))
    assert response.status_code == 200
    return response.content.decode()


def admin_page(client, device_import) -> str:
    response = client.get(reverse("admin:devices_device_import_status",
                                  args=[device_import.public_id]))
    assert response.status_code == 200
    return response.content.decode()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def staff(world):
    """Provider staff in the admin, a browser of its own beside ``verified_client``."""
    client = Client()
    verify_session(client, world["people"]["provider_staff"])
    return client


@pytest.mark.parametrize("status", [ImportStatus.UPLOADED, ImportStatus.PREVIEWING,
                                    ImportStatus.CONFIRMED, ImportStatus.APPLYING])
def test_stuck_import_says_so_and_stops_reloading(customer, admin, verified_client, clock,
                                                  status):
    device_import = stored_import(customer, admin, status, rows_total=50000, rows_done=50000,
                                  claimed_by="w:1", attempts=1)
    clock.shift(stale())
    html = portal_page(verified_client(admin), device_import)
    text = text_of(html)
    assert REFRESH not in html
    assert "hängt" in text and "kein Lebenszeichen" in text
    assert "Ihre Geräteliste ist unverändert" in text and "50000 von 50000" not in text
    assert 'action="{}"'.format(reverse("devices:import_cancel",
                                        args=[device_import.public_id])) in html
    listing = text_of(verified_client(admin).get(reverse("devices:import")).content.decode())
    assert "– hängt" in listing


def test_writing_is_not_shown_as_n_of_n(customer, admin, verified_client, staff):
    device_import = stored_import(customer, admin, ImportStatus.APPLYING, rows_total=50000,
                                  rows_done=50000, claimed_by="w:1", attempts=1)
    for html in (portal_page(verified_client(admin), device_import),
                 admin_page(staff, device_import)):
        text = text_of(html)
        assert REFRESH in html
        assert "Alle 50000 Zeilen sind geprüft" in text and "50000 von 50000" not in text
        assert 'value="cancel"' not in html and "Import abbrechen" not in text


def test_failed_import_shows_its_message_and_can_be_discarded(customer, admin, verified_client,
                                                              django_capture_on_commit_callbacks):
    device_import = stored_import(customer, admin, ImportStatus.FAILED,
                                  error="Die Übernahme der Geräte wurde unterbrochen.")
    client = verified_client(admin)
    html = portal_page(client, device_import)
    assert REFRESH not in html
    assert "Die Übernahme der Geräte wurde unterbrochen." in html
    assert "Import verwerfen" in html
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("devices:import_cancel", args=[device_import.public_id]))
    record = stored(device_import)
    assert record.status == ImportStatus.CANCELLED and record.storage_path == ""


def test_recovered_import_says_it_was_restarted(customer, admin, verified_client, staff):
    device_import = stored_import(customer, admin, ImportStatus.DONE, attempts=2,
                                  counts={"new": 2})
    for html in (portal_page(verified_client(admin), device_import),
                 admin_page(staff, device_import)):
        assert "automatisch neu gestartet und dann vollständig übernommen" in text_of(html)


def test_admin_shows_a_stuck_import_with_its_claim(customer, admin, staff, clock,
                                                   django_capture_on_commit_callbacks):
    device_import = stored_import(customer, admin, ImportStatus.APPLYING, rows_total=10,
                                  rows_done=4, claimed_by="host-a:123", attempts=2)
    assert REFRESH in admin_page(staff, device_import)
    clock.shift(stale())
    html = admin_page(staff, device_import)
    text = text_of(html)
    assert REFRESH not in html and 'data-phase="stuck"' in html
    assert "Die Übernahme der Geräte hängt" in text and "host-a:123" in text
    assert 'value="cancel"' in html and 'value="confirm"' not in html
    listing = staff.get(reverse("admin:devices_deviceimport_changelist")).content.decode()
    assert "hängt, wird automatisch neu gestartet" in listing
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("admin:devices_device_import_status", args=[device_import.public_id]),
                   {"decision": "cancel"})
    assert stored(device_import).status == ImportStatus.CANCELLED


def test_a_new_file_can_be_uploaded_while_an_import_hangs(customer, admin, verified_client,
                                                         clock):
    stuck = stored_import(customer, admin, ImportStatus.APPLYING, claimed_by="w:1", attempts=1)
    clock.shift(stale())
    client = verified_client(admin)
    response = client.post(reverse("devices:import"),
                           {"file": SimpleUploadedFile("neu.csv", GOOD, "text/csv")})
    assert response.status_code == 302
    new = DeviceImport.objects.exclude(pk=stuck.pk).get()
    assert response["Location"] == reverse("devices:import_detail", args=[new.public_id])


def test_admin_list_says_a_stuck_import_on_its_last_attempt_will_fail(customer, admin, staff,
                                                                     clock, settings):
    """After the last attempt the sweep fails the import; the list must not promise a
    restart."""
    stored_import(customer, admin, ImportStatus.APPLYING, rows_total=10, rows_done=4,
                  claimed_by="host-a:123", attempts=settings.PORTAL_JOB_MAX_ATTEMPTS)
    clock.shift(stale())
    listing = staff.get(reverse("admin:devices_deviceimport_changelist")).content.decode()
    assert "hängt, wird als fehlgeschlagen gekennzeichnet" in listing
    assert "wird automatisch neu gestartet" not in listing


def test_cancellable_states_are_one_constant_on_the_choices():
    assert set(ImportStatus.CANCELLABLE) == set(ImportStatus) - {ImportStatus.DONE,
                                                                  ImportStatus.CANCELLED}
    assert set(ImportStatus.CANCELLABLE) <= set(ImportStatus.values)


@pytest.mark.parametrize("status", list(ImportStatus))
def test_service_portal_and_admin_agree_on_what_can_be_cancelled(customer, admin,
                                                                 verified_client, staff,
                                                                 clock, status):
    """Issue 9: which imports can be cancelled is decided once (``ImportStatus.CANCELLABLE``
    through ``import_cancellable``): the portal page offers the cancel form, the admin page
    its cancel decision, exactly where the service then cancels (no live worker here)."""
    from django.core.exceptions import ValidationError

    from devices.services import device_import_cancel, import_cancellable

    device_import = stored_import(customer, admin, status)
    clock.shift(stale())  # a step nobody runs any more: only the state decides
    cancellable = import_cancellable(device_import)
    assert cancellable is (status in ImportStatus.CANCELLABLE)
    cancel_url = reverse("devices:import_cancel", args=[device_import.public_id])
    assert (f'action="{cancel_url}"' in portal_page(verified_client(admin), device_import)) \
        is cancellable
    assert ('name="decision" value="cancel"' in admin_page(staff, device_import)) is cancellable
    if cancellable:
        device_import_cancel(actor=admin, device_import=device_import)
        assert stored(device_import).status == ImportStatus.CANCELLED
    else:
        with pytest.raises(ValidationError):
            device_import_cancel(actor=admin, device_import=device_import)



ADMIN_OUTCOMES = [
    (ImportStatus.UPLOADED, "Der Auftrag wartet auf einen freien Hintergrundprozess"),
    (ImportStatus.PREVIEWED, "Vorschau: Bitte prüfen und bestätigen"),
    (ImportStatus.INVALID, "Die Datei enthält Fehler"),
    (ImportStatus.FAILED, "Der Import ist fehlgeschlagen"),
    (ImportStatus.DONE, "Der Import wurde übernommen"),
    (ImportStatus.CANCELLED, "Der Import wurde abgebrochen"),
]


@pytest.mark.parametrize(("status", "heading"), ADMIN_OUTCOMES)
def test_admin_page_shows_the_outcome_of_each_state(customer, admin, staff, status, heading):
    """The admin's import page decides by the flags its view passes (``queued``,
    ``previewed``, ``invalid`` ...): the heading of its state and no other."""
    text = text_of(admin_page(staff, stored_import(customer, admin, status)))
    assert [shown for _, shown in ADMIN_OUTCOMES if shown in text] == [heading]
