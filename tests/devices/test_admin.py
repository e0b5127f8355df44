"""The device admin: scoped lists, add/change through the services, retire, export, import."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from devices.models import Device, DeviceImport, DeviceKind, ImportStatus
from devices.selectors import last_stale_signature_date
from portal.models import AuditEvent
from portal.periods import BERLIN
from portal.roles import Role
from tests.factories import DeviceFactory, make_person

CHANGELIST = "admin:devices_device_changelist"
IMPORTS = "admin:devices_deviceimport_changelist"
STAFF = ["provider_admin", "provider_staff", "dpo", "partner_support", "partner_support_b"]
#: Which customers' devices each staff person sees (tenancy rules, written out).
VISIBLE_CUSTOMERS = {
    "provider_admin": {"customer_a", "customer_b", "customer_direct"},
    "provider_staff": {"customer_a", "customer_b", "customer_direct"},
    "dpo": {"customer_a", "customer_b", "customer_direct"},
    "partner_support": {"customer_a"},
    "partner_support_b": {"customer_b"},
}
CSV_OK = (b"hostname;serial;kind;os;location;notes\r\n"
          b"pc-neu-01;sn-neu-1;workstation;Windows 11;Raum 1;\r\n"
          b"srv-neu-01;SN-NEU-2;server;Debian 12;Keller;\r\n")


@pytest.fixture
def devices(world):
    orgs = world["orgs"]
    return {key: DeviceFactory(customer=orgs[key], hostname=f"host-{key.replace('_', '-')}",
                               serial_number=f"SN-{key.upper()}")
            for key in ("customer_a", "customer_b", "customer_direct")}


def _form(device: Device | None = None, **overrides) -> dict:
    data = {
        "hostname": "pc-admin-01", "serial_number": "sn-admin-1", "kind": DeviceKind.WORKSTATION,
        "operating_system": "Windows 11 Pro", "location": "Raum 3", "agent_id": "",
        "last_seen_0": "", "last_seen_1": "", "av_signature_date": "",
        "pending_critical_updates": "0", "notes": "",
    }
    if device is not None:
        data.update(hostname=device.hostname, serial_number=device.serial_number,
                    kind=device.kind, operating_system=device.operating_system,
                    location=device.location)
    data.update(overrides)
    return data


def _errors(response) -> dict:
    return response.context["adminform"].form.errors


# --- the list, per role -----------------------------------------------------------------------


@pytest.mark.parametrize("person", STAFF)
def test_changelist_shows_only_visible_devices(world, devices, verified_client, person):
    client = verified_client(world["people"][person])
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    shown = {device.pk for device in response.context["cl"].result_list}
    assert shown == {devices[key].pk for key in VISIBLE_CUSTOMERS[person]}
    body = response.content.decode()
    # The customer filter offers only customers the person sees.
    for key, device in devices.items():
        if key not in VISIBLE_CUSTOMERS[person]:
            assert world["orgs"][key].name not in body
            assert device.serial_number not in body
    # Searching cannot reach other tenants either.
    response = client.get(reverse(CHANGELIST), {"q": "SN-CUSTOMER"})
    assert {d.pk for d in response.context["cl"].result_list} == shown


@pytest.mark.parametrize("person", ["partner_support", "partner_support_b"])
def test_device_pages_of_other_partners_are_refused(world, devices, verified_client, person):
    client = verified_client(world["people"][person])
    for key, device in devices.items():
        if key in VISIBLE_CUSTOMERS[person]:
            continue
        url = reverse("admin:devices_device_change", args=[device.pk])
        assert client.get(url).status_code == 302  # "does not exist" → admin index
        response = client.post(url, _form(device, location="Gehackt"))
        assert response.status_code == 302
        device.refresh_from_db()
        assert device.location != "Gehackt"


def test_changelist_shows_fifty_devices_a_page(world, verified_client):
    DeviceFactory.create_batch(51, customer=world["orgs"]["customer_a"])
    client = verified_client(world["people"]["provider_admin"])
    first = client.get(reverse(CHANGELIST))
    assert first.context["cl"].list_per_page == 50
    assert len(first.context["cl"].result_list) == 50
    second = client.get(reverse(CHANGELIST), {"p": 2})
    assert len(second.context["cl"].result_list) == 1


def test_changelist_filters(world, verified_client):
    customer = world["orgs"]["customer_a"]
    server = DeviceFactory(customer=customer, kind=DeviceKind.SERVER, hostname="srv")
    retired = DeviceFactory(customer=customer, hostname="alt")
    Device.objects.filter(pk=retired.pk).update(retired_at=datetime(2026, 1, 5, tzinfo=BERLIN))
    client = verified_client(world["people"]["provider_staff"])

    def shown(**params):
        response = client.get(reverse(CHANGELIST), params)
        assert response.status_code == 200
        return {d.pk for d in response.context["cl"].result_list}

    assert shown(kind="server") == {server.pk}
    assert shown(retired="yes") == {retired.pk}
    assert shown(retired="no") == {server.pk}
    assert shown(customer__id__exact=customer.pk) == {server.pk, retired.pk}


@time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN), tick=False)
def test_signature_age_filter_follows_the_working_day_rule(world, verified_client):
    """DOMAIN.md § 7: a signature of Wed 2026-11-18 raises the alarm at Mon 2026-11-23 09:00."""
    customer = world["orgs"]["customer_a"]
    stale = DeviceFactory(customer=customer, av_signature_date=date(2026, 11, 18))
    current = DeviceFactory(customer=customer, av_signature_date=date(2026, 11, 19))
    missing = DeviceFactory(customer=customer, av_signature_date=None)
    client = verified_client(world["people"]["provider_staff"])
    found = {}
    for value in ("current", "stale", "missing"):
        response = client.get(reverse(CHANGELIST), {"signature": value})
        found[value] = {d.pk for d in response.context["cl"].result_list}
    assert found == {"current": {current.pk}, "stale": {stale.pk}, "missing": {missing.pk}}


def test_signature_is_stale_only_from_the_check_at_nine():
    monday = date(2026, 11, 23)
    before = datetime.combine(monday, time(8, 59), tzinfo=BERLIN)
    at = datetime.combine(monday, time(9, 0), tzinfo=BERLIN)
    assert last_stale_signature_date(before) == date(2026, 11, 17)
    assert last_stale_signature_date(at) == date(2026, 11, 18)
    # Christmas: the 24th is a working day, the 25th and 26th are holidays. A signature of
    # Tuesday the 22nd is older than two working days (23rd, 24th) at the check on Monday the
    # 28th; one of Wednesday the 23rd only at the check on Tuesday the 29th.
    assert last_stale_signature_date(datetime(2026, 12, 28, 9, tzinfo=BERLIN)) == \
        date(2026, 12, 22)
    assert last_stale_signature_date(datetime(2026, 12, 29, 9, tzinfo=BERLIN)) == \
        date(2026, 12, 23)


# --- add and change through the services ------------------------------------------------------


def test_add_calls_the_service(world, verified_client):
    actor = world["people"]["provider_staff"]
    customer = world["orgs"]["customer_a"]
    client = verified_client(actor)
    response = client.post(reverse("admin:devices_device_add"),
                           _form(customer=customer.pk, serial_number="  sn-admin-1 "))
    assert response.status_code == 302, _errors(response)
    device = Device.objects.get()
    assert (device.customer, device.serial_number, device.created_by) == (
        customer, "SN-ADMIN-1", actor)
    event = AuditEvent.objects.get(action="device.created")
    assert (event.actor, event.target_id, event.organisation) == (actor, str(device.pk), customer)
    assert AuditEvent.objects.filter(action="admin.added", target_id=str(device.pk)).exists()


def test_change_calls_the_service(world, devices, verified_client):
    actor = world["people"]["partner_support"]
    device = devices["customer_a"]
    client = verified_client(actor)
    url = reverse("admin:devices_device_change", args=[device.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "customer" not in page.context["adminform"].form.fields  # stays with its customer
    response = client.post(url, _form(device, location="Serverraum 2", customer=9999))
    assert response.status_code == 302, _errors(response)
    device.refresh_from_db()
    assert (device.location, device.updated_by) == ("Serverraum 2", actor)
    assert device.customer == world["orgs"]["customer_a"]
    event = AuditEvent.objects.get(action="device.updated")
    assert event.details["changes"]["location"][1] == "Serverraum 2"
    assert event.actor == actor


def test_change_page_hides_provider_people_from_partner_support(world, devices,
                                                                verified_client):
    from devices.services import device_update

    device = devices["customer_a"]
    device_update(actor=world["people"]["provider_staff"], device=device, location="Lager")
    staff = world["people"]["provider_staff"]
    page = verified_client(world["people"]["partner_support"]).get(
        reverse("admin:devices_device_change", args=[device.pk]))
    body = page.content.decode()
    assert str(staff) not in body and staff.email not in body
    assert "(nicht einsehbar)" in body
    page = verified_client(world["people"]["provider_admin"]).get(
        reverse("admin:devices_device_change", args=[device.pk]))
    assert str(staff) in page.content.decode()


@pytest.mark.parametrize(("existing", "posted", "field"), [
    # Same customer, same serial (in other letters): already recorded.
    ("customer_a", {"serial_number": "sn-customer_a"}, "serial_number"),
    # Active hostnames are unique per customer, regardless of case.
    ("customer_a", {"hostname": "HOST-CUSTOMER-A"}, "hostname"),
])
def test_uniqueness_conflict_is_a_form_error(world, devices, verified_client, existing, posted,
                                              field):
    client = verified_client(world["people"]["provider_staff"])
    before = Device.objects.count()
    response = client.post(reverse("admin:devices_device_add"),
                           _form(customer=world["orgs"]["customer_a"].pk, **posted))
    assert response.status_code == 200
    errors = _errors(response)
    assert list(errors) == [field], errors
    assert Device.objects.count() == before
    assert not AuditEvent.objects.filter(action="device.created").exists()


def test_change_into_a_conflict_is_a_form_error(world, verified_client):
    customer = world["orgs"]["customer_a"]
    DeviceFactory(customer=customer, hostname="pc-eins", serial_number="SN-EINS")
    other = DeviceFactory(customer=customer, hostname="pc-zwei", serial_number="SN-ZWEI")
    client = verified_client(world["people"]["provider_admin"])
    response = client.post(reverse("admin:devices_device_change", args=[other.pk]),
                           _form(other, hostname="PC-EINS", serial_number="sn-eins"))
    assert response.status_code == 200
    assert set(_errors(response)) == {"hostname", "serial_number"}
    other.refresh_from_db()
    assert (other.hostname, other.serial_number) == ("pc-zwei", "SN-ZWEI")


def test_hostname_follows_the_import_rule(world, verified_client):
    client = verified_client(world["people"]["provider_staff"])
    response = client.post(reverse("admin:devices_device_add"),
                           _form(customer=world["orgs"]["customer_a"].pk, hostname="pc 01;x"))
    assert response.status_code == 200
    assert list(_errors(response)) == ["hostname"]
    assert not Device.objects.exists()


def test_conflict_after_the_form_check_is_a_message_not_a_crash(world, devices,
                                                                verified_client, monkeypatch):
    """A concurrent writer can win between the form's check and the service's: the service
    refuses, the person gets a message and the form again, nothing is saved."""
    from devices import admin as device_admin

    monkeypatch.setattr(device_admin, "device_unique_errors", lambda device: {})
    client = verified_client(world["people"]["provider_staff"])
    url = reverse("admin:devices_device_add")
    response = client.post(url, _form(customer=world["orgs"]["customer_a"].pk,
                                      serial_number="SN-CUSTOMER_A"))
    assert response.status_code == 302 and response["Location"] == url
    assert "bereits erfasst" in client.get(url).content.decode()
    assert Device.objects.count() == len(devices)
    assert not AuditEvent.objects.filter(action__in=["device.created", "admin.added"]).exists()


def test_partner_support_cannot_add_for_another_partners_customer(world, verified_client):
    client = verified_client(world["people"]["partner_support"])
    response = client.post(reverse("admin:devices_device_add"),
                           _form(customer=world["orgs"]["customer_b"].pk))
    assert response.status_code == 200
    assert "customer" in _errors(response)
    assert not Device.objects.exists()


def test_devices_cannot_be_deleted(world, devices, verified_client):
    client = verified_client(world["people"]["provider_admin"])
    device = devices["customer_a"]
    assert client.get(reverse("admin:devices_device_delete", args=[device.pk])).status_code == 403
    response = client.get(reverse(CHANGELIST))
    assert "delete_selected" not in dict(response.context["action_form"].fields["action"].choices)
    response = client.post(reverse(CHANGELIST), {"action": "delete_selected",
                                                 "_selected_action": [device.pk], "post": "yes"})
    assert Device.objects.filter(pk=device.pk).exists()


# --- retire -----------------------------------------------------------------------------------


def test_retire_action_asks_first_then_retires_visible_devices(world, devices, verified_client):
    actor = world["people"]["partner_support"]
    client = verified_client(actor)
    own, foreign = devices["customer_a"], devices["customer_b"]
    selected = {"action": "retire", "_selected_action": [own.pk, foreign.pk]}
    response = client.post(reverse(CHANGELIST), selected)
    assert response.status_code == 200
    assert response.templates[0].name == "admin/portal/confirm_action.html"
    assert [obj.pk for obj in response.context["objects"]] == [own.pk]
    own.refresh_from_db()
    assert own.retired_at is None  # nothing happens before the confirmation
    response = client.post(reverse(CHANGELIST), {**selected, "confirmed": "yes"})
    assert response.status_code == 302
    own.refresh_from_db()
    foreign.refresh_from_db()
    assert own.retired_at is not None and foreign.retired_at is None
    assert AuditEvent.objects.get(action="device.retired").target_id == str(own.pk)
    # Retiring twice is refused by the service and reported, not a crash.
    response = client.post(reverse(CHANGELIST), {**selected, "confirmed": "yes"}, follow=True)
    assert "bereits ausgemustert" in response.content.decode()
    assert AuditEvent.objects.filter(action="device.retired").count() == 1


def test_dpo_sees_devices_but_cannot_change_them(world, devices, verified_client):
    client = verified_client(world["people"]["dpo"])
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 3
    actions = dict(response.context["action_form"].fields["action"].choices)
    assert set(actions) - {""} == {"export_csv", "export_xlsx"}
    body = response.content.decode()
    assert reverse("admin:devices_device_import") not in body
    assert reverse("admin:devices_device_export", args=["csv"]) in body
    device = devices["customer_a"]
    url = reverse("admin:devices_device_change", args=[device.pk])
    page = client.get(url)
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert client.post(url, _form(device, location="Neu")).status_code == 403
    assert client.get(reverse("admin:devices_device_add")).status_code == 403
    assert client.get(reverse("admin:devices_device_import")).status_code == 403
    client.post(reverse(CHANGELIST), {"action": "retire", "_selected_action": [device.pk],
                                      "confirmed": "yes"})
    device.refresh_from_db()
    assert device.retired_at is None and device.location != "Neu"


# --- export -----------------------------------------------------------------------------------


@pytest.fixture
def risky(world):
    """A device whose free-text cells would run as formulae in a spreadsheet program."""
    return DeviceFactory(customer=world["orgs"]["customer_a"], hostname="pc-formel",
                         serial_number="SN-FORMEL", location="+49 40 1234",
                         notes='=HYPERLINK("http://evil.example","klick")')


def _csv_rows(response) -> list[dict]:
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_export_action_csv_escapes_formulae_and_is_audited(world, devices, risky,
                                                           verified_client):
    actor = world["people"]["partner_support"]
    client = verified_client(actor)
    response = client.post(reverse(CHANGELIST), {
        "action": "export_csv", "_selected_action": [risky.pk, devices["customer_b"].pk]})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "geraete-kunde-a-" in disposition
    rows = _csv_rows(response)
    assert [row["serial"] for row in rows] == ["SN-FORMEL"]  # the other partner's is not there
    assert rows[0]["notes"] == "'" + risky.notes
    assert rows[0]["location"] == "'+49 40 1234"
    event = AuditEvent.objects.get(action="device.exported")
    assert event.actor == actor and event.organisation == world["orgs"]["customer_a"]
    assert event.details == {"devices": 1, "format": "csv"}


def test_export_action_xlsx_escapes_formulae(world, devices, risky, verified_client):
    client = verified_client(world["people"]["provider_admin"])
    response = client.post(reverse(CHANGELIST), {
        "action": "export_xlsx", "_selected_action": [risky.pk, devices["customer_b"].pk]})
    assert response.status_code == 200
    assert "spreadsheetml" in response["Content-Type"]
    assert response["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, (cell.value for cell in row), strict=True))
            for row in sheet.iter_rows(min_row=2)]
    assert {row["serial"] for row in rows} == {"SN-FORMEL", "SN-CUSTOMER_B"}
    notes = next(row["notes"] for row in rows if row["serial"] == "SN-FORMEL")
    assert notes == "'" + risky.notes
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    event = AuditEvent.objects.get(action="device.exported")
    assert event.details == {"devices": 2, "format": "xlsx"}
    assert event.organisation is None or event.organisation.kind == "provider"


def test_changelist_export_follows_filters_and_tenancy(world, devices, verified_client):
    customer_a = world["orgs"]["customer_a"]
    server = DeviceFactory(customer=customer_a, kind=DeviceKind.SERVER, hostname="srv-a")
    DeviceFactory(customer=world["orgs"]["customer_b"], kind=DeviceKind.SERVER, hostname="srv-b")
    client = verified_client(world["people"]["partner_support"])
    page = client.get(reverse(CHANGELIST), {"kind": "server"})
    assert f'{reverse("admin:devices_device_export", args=["csv"])}?kind=server' in \
        page.content.decode()
    response = client.get(reverse("admin:devices_device_export", args=["csv"]), {"kind": "server"})
    assert response.status_code == 200
    assert [row["serial"] for row in _csv_rows(response)] == [server.serial_number]
    response = client.get(reverse("admin:devices_device_export", args=["xlsx"]), {"q": "host"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [row[1].value for row in sheet.iter_rows(min_row=2)] == ["SN-CUSTOMER_A"]
    assert AuditEvent.objects.filter(action="device.exported").count() == 2
    assert client.get(reverse("admin:devices_device_export", args=["pdf"])).status_code == 404


def test_dpo_may_export(world, devices, verified_client):
    client = verified_client(world["people"]["dpo"])
    response = client.get(reverse("admin:devices_device_export", args=["csv"]))
    assert response.status_code == 200
    assert len(_csv_rows(response)) == 3
    assert AuditEvent.objects.get(action="device.exported").actor == world["people"]["dpo"]


def test_export_and_import_need_their_permissions(world, devices, verified_client):
    """A staff person with only the view permission: no export, no import, no buttons."""
    person = make_person(Role.PROVIDER_STAFF, world["orgs"]["provider"])
    person.groups.clear()
    person.user_permissions.add(Permission.objects.get(codename="view_device"))
    client = verified_client(person)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("admin:devices_device_import") not in body
    assert reverse("admin:devices_device_export", args=["csv"]) not in body
    assert response.context["action_form"] is None  # no action left to offer
    assert client.get(reverse("admin:devices_device_export", args=["csv"])).status_code == 403
    response = client.post(reverse(CHANGELIST), {
        "action": "export_csv", "_selected_action": [devices["customer_a"].pk]})
    assert "Content-Disposition" not in response  # just the list again, no file
    assert client.get(reverse("admin:devices_device_import")).status_code == 403
    assert not AuditEvent.objects.filter(action="device.exported").exists()


# --- import -----------------------------------------------------------------------------------


def _upload(client, customer, content: bytes = CSV_OK, name: str = "inventar.csv"):
    return client.post(reverse("admin:devices_device_import"), {
        "customer": customer.pk, "file": SimpleUploadedFile(name, content, "text/csv")})


def test_import_end_to_end(world, verified_client, django_capture_on_commit_callbacks):
    actor = world["people"]["provider_staff"]
    customer = world["orgs"]["customer_direct"]
    client = verified_client(actor)
    assert client.get(reverse("admin:devices_device_import")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, customer)
    device_import = DeviceImport.objects.get()
    status_url = reverse("admin:devices_device_import_status", args=[device_import.public_id])
    assert response.status_code == 302 and response["Location"] == status_url
    assert device_import.via_admin and device_import.created_by == actor

    page = client.get(status_url)
    assert page.status_code == 200
    body = page.content.decode()
    device_import.refresh_from_db()
    assert device_import.status == ImportStatus.PREVIEWED
    assert 'http-equiv="refresh"' not in body
    assert [(str(label), count) for label, count in page.context["counts"]] == [
        ("neu", 2), ("geändert", 0), ("unverändert", 0), ("fehlerhaft", 0)]
    assert "SN-NEU-1" in body and "srv-neu-01" in body
    assert 'value="confirm"' in body and 'value="cancel"' in body
    assert not Device.objects.exists()  # the preview writes nothing

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(status_url, {"decision": "confirm"})
    assert response.status_code == 302
    device_import.refresh_from_db()
    assert device_import.status == ImportStatus.DONE
    assert set(Device.objects.filter(customer=customer).values_list("serial_number", flat=True)) \
        == {"SN-NEU-1", "SN-NEU-2"}
    body = client.get(status_url).content.decode()
    assert "übernommen" in body and 'value="confirm"' not in body
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"device_import.uploaded", "device_import.previewed", "device_import.confirmed",
            "device_import.applied"} <= actions


def test_running_import_page_refreshes_itself(world, verified_client):
    client = verified_client(world["people"]["provider_admin"])
    response = _upload(client, world["orgs"]["customer_a"])  # the preview job has not run yet
    page = client.get(response["Location"])
    body = page.content.decode()
    assert '<meta http-equiv="refresh" content="2">' in body
    assert "wird geprüft" in body and 'value="confirm"' not in body


def test_invalid_import_says_nothing_was_written(world, verified_client,
                                                 django_capture_on_commit_callbacks):
    client = verified_client(world["people"]["partner_support"])
    content = b"hostname;serial;kind\r\npc-1;SN-X1;toaster\r\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, world["orgs"]["customer_a"], content)
    page = client.get(response["Location"])
    body = page.content.decode()
    assert DeviceImport.objects.get().status == ImportStatus.INVALID
    assert "Es wurde nichts übernommen" in body
    assert "toaster" in body  # the row's message
    assert 'value="confirm"' not in body and 'value="cancel"' in body
    response = client.post(response["Location"], {"decision": "confirm"}, follow=True)
    assert "nicht (mehr) bestätigt" in response.content.decode()
    assert not Device.objects.exists()


def test_unreadable_file_is_refused_on_the_upload_page(world, verified_client):
    client = verified_client(world["people"]["provider_staff"])
    response = _upload(client, world["orgs"]["customer_a"], b"irgendwas", name="liste.pdf")
    assert response.status_code == 200
    assert "file" in response.context["form"].errors
    assert not DeviceImport.objects.exists()


def test_import_can_be_cancelled(world, verified_client, django_capture_on_commit_callbacks):
    client = verified_client(world["people"]["provider_staff"])
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, world["orgs"]["customer_a"])
    status_url = response["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(status_url, {"decision": "cancel"})
    assert DeviceImport.objects.get().status == ImportStatus.CANCELLED
    assert "abgebrochen" in client.get(status_url).content.decode()
    assert not Device.objects.exists()


def test_partner_support_imports_only_for_its_customers(world, verified_client):
    client = verified_client(world["people"]["partner_support"])
    page = client.get(reverse("admin:devices_device_import"))
    assert page.status_code == 200
    offered = set(page.context["form"].fields["customer"].queryset)
    assert offered == {world["orgs"]["customer_a"]}
    # A forged POST for the other partner's customer is refused by the form.
    response = _upload(client, world["orgs"]["customer_b"])
    assert response.status_code == 200
    assert "customer" in response.context["form"].errors
    assert not DeviceImport.objects.exists()
    # Partners and the provider are no customers to import into.
    response = _upload(client, world["orgs"]["partner_a"])
    assert "customer" in response.context["form"].errors


def test_import_status_of_another_tenant_is_not_found(world, verified_client,
                                                      django_capture_on_commit_callbacks):
    owner = verified_client(world["people"]["partner_support_b"])
    with django_capture_on_commit_callbacks(execute=True):
        status_url = _upload(owner, world["orgs"]["customer_b"])["Location"]
    client = verified_client(world["people"]["partner_support"])
    assert client.get(status_url).status_code == 404
    assert client.post(status_url, {"decision": "confirm"}).status_code == 404
    assert DeviceImport.objects.get().status == ImportStatus.PREVIEWED


def test_dpo_may_look_at_an_import_but_not_decide(world, verified_client,
                                                  django_capture_on_commit_callbacks):
    staff = verified_client(world["people"]["provider_staff"])
    with django_capture_on_commit_callbacks(execute=True):
        status_url = _upload(staff, world["orgs"]["customer_a"])["Location"]
    client = verified_client(world["people"]["dpo"])
    page = client.get(status_url)
    assert page.status_code == 200 and 'value="confirm"' not in page.content.decode()
    assert client.post(status_url, {"decision": "confirm"}).status_code == 403
    assert client.post(reverse("admin:devices_device_import"), {}).status_code == 403
    assert DeviceImport.objects.get().status == ImportStatus.PREVIEWED


# --- the list of imports ----------------------------------------------------------------------


def test_import_list_is_scoped_and_hides_provider_people(world, verified_client,
                                                         django_capture_on_commit_callbacks):
    staff = world["people"]["provider_staff"]
    with django_capture_on_commit_callbacks(execute=True):
        _upload(verified_client(staff), world["orgs"]["customer_a"])
        _upload(verified_client(world["people"]["partner_support_b"]),
                world["orgs"]["customer_b"])
    own = DeviceImport.objects.get(customer=world["orgs"]["customer_a"])
    client = verified_client(world["people"]["partner_support"])
    response = client.get(reverse(IMPORTS))
    assert response.status_code == 200
    assert [i.pk for i in response.context["cl"].result_list] == [own.pk]
    body = response.content.decode()
    assert reverse("admin:devices_device_import_status", args=[own.public_id]) in body
    assert "Kunde B" not in body
    assert str(staff) not in body and "(nicht einsehbar)" in body
    assert "2 neu" in body
    page = client.get(reverse("admin:devices_deviceimport_change", args=[own.pk]))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert str(staff) not in page.content.decode()
    response = verified_client(world["people"]["dpo"]).get(reverse(IMPORTS))
    assert response.context["cl"].result_count == 2
    assert str(staff) in response.content.decode()
    assert client.get(reverse("admin:devices_deviceimport_add")).status_code == 403


# --- query count ------------------------------------------------------------------------------


def _changelist_queries(client) -> tuple[int, int]:
    client.get(reverse(CHANGELIST))  # warm caches like a running server
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    return len(queries.captured_queries), response.context["cl"].result_count


@pytest.mark.parametrize("person", ["provider_admin", "partner_support"])
def test_changelist_query_count_does_not_grow(world, verified_client, person):
    from tests.factories import OrganisationFactory

    client = verified_client(world["people"][person])

    def add(n):
        for _i in range(n):
            # Every device in its own customer (of partner A, so both persons see them all).
            customer = OrganisationFactory(partner=world["orgs"]["partner_a"])
            DeviceFactory(customer=customer)

    add(10)
    small, rows_small = _changelist_queries(client)
    add(40)
    large, rows_large = _changelist_queries(client)
    print(f"\ndevice changelist for {person}: {small} queries at 10 devices, {large} at 50")
    assert (rows_small, rows_large) == (10, 50)
    assert small == large
