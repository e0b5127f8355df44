"""The device pages of the customer portal: list, detail, add/edit/retire, import, export.

Every request goes through a verified session (``verified_client``); what each role may see
and do comes from ``portal.roles`` and ``visible_to``.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from devices.models import Device, DeviceImport, DeviceKind, ImportStatus
from portal.models import AuditEvent
from tests.factories import DeviceFactory
from tests.pages import page_sections

LIST = reverse("devices:list")
ADD = reverse("devices:add")
IMPORT = reverse("devices:import")
EXPORT = reverse("devices:export")
HEADER = "hostname;serial;kind;os;location;agent_id;last_seen;av_signature_date;notes"
#: Queries of the list page, measured with this suite (SQLite); it must never need more.
LIST_QUERY_BUDGET = 10


@pytest.fixture
def orgs(world):
    return world["orgs"]


@pytest.fixture
def people(world):
    return world["people"]


@pytest.fixture
def devices(orgs):
    """Three devices of Kunde A (one retired), one of Kunde B."""
    today = timezone.localdate()
    a = orgs["customer_a"]
    return {
        "office": DeviceFactory(customer=a, hostname="buero-01", serial_number="SN-A1",
                                location="Büro Süd", operating_system="Windows 11 Pro"),
        "server": DeviceFactory(customer=a, hostname="srv-01", serial_number="SN-A2",
                                kind=DeviceKind.SERVER, location="Serverraum",
                                operating_system="Debian 12",
                                av_signature_date=today - timedelta(days=10)),
        "old": DeviceFactory(customer=a, hostname="alt-01", serial_number="SN-A3",
                             retired_at=timezone.now()),
        "other": DeviceFactory(customer=orgs["customer_b"], hostname="fremd-01",
                               serial_number="SN-B1"),
    }


def body(response) -> str:
    return response.content.decode()


def rows_of(response) -> list[str]:
    return [device.hostname for device in response.context["page"].object_list]


def upload(client, content: bytes, name: str = "geraete.csv", **extra):
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, content), **extra})


def import_url(device_import: DeviceImport, name: str = "devices:import_detail") -> str:
    return reverse(name, kwargs={"public_id": device_import.public_id})


# --- List ---------------------------------------------------------------------------------------


def test_list_shows_the_own_active_devices(world, people, devices, verified_client):
    response = verified_client(people["customer_admin"]).get(LIST)
    assert response.status_code == 200
    assert rows_of(response) == ["buero-01", "srv-01"]
    text = body(response)
    assert "fremd-01" not in text and "alt-01" not in text
    # A customer sees only its own devices, so no customer column.
    assert response.context["show_customer"] is False
    assert "<th scope=\"col\">Kunde</th>" not in text


def test_stale_signature_has_a_badge(people, devices, verified_client):
    response = verified_client(people["customer_admin"]).get(LIST)
    text = body(response)
    server_row = text[text.index("srv-01"):]
    server_row = server_row[:server_row.index("</tr>")]
    office_row = text[text.index("buero-01"):]
    office_row = office_row[:office_row.index("</tr>")]
    assert "veraltet" in server_row
    assert "veraltet" not in office_row


def test_staff_see_the_customer_of_each_device(people, devices, verified_client):
    response = verified_client(people["provider_admin"]).get(LIST)
    assert rows_of(response) == ["buero-01", "fremd-01", "srv-01"]
    text = body(response)
    assert response.context["show_customer"] is True
    assert "Kunde A" in text and "Kunde B" in text
    # Partner support sees the customers of its own partner only.
    response = verified_client(people["partner_support"]).get(LIST)
    assert rows_of(response) == ["buero-01", "srv-01"]


@pytest.mark.parametrize(("query", "expected"), [
    ({"q": "sn-a2"}, ["srv-01"]),
    ({"q": "büro"}, ["buero-01"]),
    ({"q": "debian"}, ["srv-01"]),
    ({"q": "BUERO"}, ["buero-01"]),
    ({"kind": "server"}, ["srv-01"]),
    ({"kind": "network"}, []),
    ({"state": "retired"}, ["alt-01"]),
    ({"state": "all"}, ["alt-01", "buero-01", "srv-01"]),
    ({"signature": "stale"}, ["srv-01"]),
    ({"state": "all", "q": "01", "kind": "workstation"}, ["alt-01", "buero-01"]),
    # Values the form does not know fall back to the defaults instead of failing.
    ({"kind": "toaster", "state": "gone", "signature": "x"}, ["buero-01", "srv-01"]),
])
def test_search_and_filters(people, devices, verified_client, query, expected):
    response = verified_client(people["customer_admin"]).get(LIST, query)
    assert response.status_code == 200
    assert rows_of(response) == expected


def test_pages_of_fifty_keep_the_filters(orgs, people, verified_client):
    customer = orgs["customer_a"]
    DeviceFactory.create_batch(55, customer=customer, location="Lager")
    DeviceFactory.create_batch(3, customer=customer, location="Empfang")
    client = verified_client(people["customer_admin"])
    response = client.get(LIST, {"q": "lager"})
    page = response.context["page"]
    assert (page.paginator.count, len(page.object_list), page.paginator.num_pages) == (55, 50, 2)
    text = body(response)
    assert "55 Geräte" in text and "Seite 1 von 2" in text
    next_link = re.search(r'href="([^"]*)" rel="next"', text)[1].replace("&amp;", "&")
    assert "q=lager" in next_link and "page=2" in next_link
    response = client.get(LIST + next_link)
    assert len(response.context["page"].object_list) == 5
    assert all(d.location == "Lager" for d in response.context["page"].object_list)
    # A page number out of range shows the last page, not an error.
    assert client.get(LIST, {"q": "lager", "page": "99"}).context["page"].number == 2


@pytest.mark.parametrize(("person", "edit", "export"), [
    ("provider_admin", True, True),
    ("provider_staff", True, True),
    ("partner_support", True, True),
    ("customer_admin", True, True),
    ("dpo", False, True),
    ("customer_member", False, False),
])
def test_buttons_follow_the_role(people, devices, verified_client, person, edit, export):
    client = verified_client(people[person])
    text = body(client.get(LIST))
    assert ("Gerät hinzufügen" in text) is edit
    assert (f'href="{IMPORT}"' in text) is edit
    assert ("Exportieren (CSV)" in text) is export
    assert ("Exportieren (XLSX)" in text) is export
    detail = body(client.get(devices["office"].get_absolute_url()))
    assert ("Bearbeiten" in detail) is edit
    assert ("Ausmustern" in detail) is edit


def test_navigation_and_dashboard_card(people, devices, verified_client):
    client = verified_client(people["customer_admin"])
    text = body(client.get(reverse("portal:dashboard")))
    nav = text[text.index('class="mainnav"'):text.index("</nav>")]
    assert nav.index("Team") < nav.index("Geräte") < nav.index("Sicherheit")
    assert f'href="{LIST}"' in nav
    response = client.get(reverse("portal:dashboard"))
    assert page_sections(response)["devices"] == {"active": 2, "stale": 1}
    assert "1 Gerät mit veralteter Virensignatur" in body(response)
    assert 'aria-current="page">Geräte' in body(client.get(LIST))


# --- Query count ----------------------------------------------------------------------------------


def _list_queries(client) -> tuple[int, int, CaptureQueriesContext]:
    client.get(LIST)  # warm caches (content types, sessions) like a running server has
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST)
    assert response.status_code == 200
    return len(queries.captured_queries), len(response.context["page"].object_list), queries


@pytest.mark.parametrize("person", ["customer_admin", "provider_admin"])
def test_list_query_count_does_not_grow_with_rows(orgs, people, verified_client, person):
    client = verified_client(people[person])
    customers = [orgs["customer_a"], orgs["customer_b"], orgs["customer_direct"]]
    creator = people["customer_admin"]
    for i in range(10):
        DeviceFactory(customer=customers[i % 3] if person == "provider_admin" else customers[0],
                      created_by=creator, updated_by=creator)
    small, shown_small, _ = _list_queries(client)
    for i in range(50):
        DeviceFactory(customer=customers[i % 3] if person == "provider_admin" else customers[0],
                      created_by=creator, updated_by=creator)
    large, shown_large, queries = _list_queries(client)
    print(f"\nquery count device list ({person}): {small} queries at {shown_small} rows, "
          f"{large} at {shown_large} rows (budget {LIST_QUERY_BUDGET})")
    assert shown_large == 50 and shown_small >= 4
    sql = "\n".join(q["sql"] for q in queries.captured_queries)
    assert large == small, sql
    assert large <= LIST_QUERY_BUDGET, sql


# --- Detail ---------------------------------------------------------------------------------------


def test_detail_shows_every_field(orgs, people, verified_client):
    admin = people["customer_admin"]
    device = DeviceFactory(customer=orgs["customer_a"], hostname="cad-07", serial_number="SN-CAD7",
                           kind=DeviceKind.WORKSTATION, operating_system="Windows 11 Pro",
                           location="Konstruktion 2.14", agent_id="agent-4711",
                           last_seen=timezone.now(), pending_critical_updates=3,
                           notes="Grafikkarte getauscht", created_by=admin,
                           updated_by=people["partner_support"])
    response = verified_client(people["customer_member"]).get(device.get_absolute_url())
    assert response.status_code == 200
    text = body(response)
    for value in ("cad-07", "SN-CAD7", "Arbeitsplatz-PC", "Windows 11 Pro", "Konstruktion 2.14",
                  "agent-4711", "Grafikkarte getauscht", "Kunde A", admin.get_full_name(),
                  people["partner_support"].get_full_name(), "ausstehende kritische Updates"):
        assert value in text, value


@pytest.mark.parametrize("person", ["customer_admin_b", "customer_admin_direct",
                                    "partner_support_b"])
def test_devices_of_other_tenants_are_not_found(people, devices, verified_client, person):
    client = verified_client(people[person])
    device = devices["office"]
    assert client.get(device.get_absolute_url()).status_code == 404
    for url in (reverse("devices:edit", args=[device.pk]),
                reverse("devices:retire", args=[device.pk])):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"location": "x"}).status_code == 404, url
    device.refresh_from_db()
    assert device.location == "Büro Süd" and device.retired_at is None


# --- Add, edit, retire ----------------------------------------------------------------------------

NEW_DEVICE = {"hostname": "nb-kemal", "serial_number": " 5cg1234xyz ", "kind": "workstation",
              "operating_system": "Windows 11 Pro", "location": "Vertrieb",
              "av_signature_date": "2026-11-18", "last_seen": "2026-11-18T09:30",
              "pending_critical_updates": "0", "notes": ""}


def test_customer_admin_adds_a_device_for_the_own_organisation(orgs, people, verified_client):
    admin = people["customer_admin"]
    client = verified_client(admin)
    response = client.get(ADD)
    assert response.status_code == 200
    assert "customer" not in response.context["form"].fields
    # A customer field sent anyway is ignored: a customer admin adds for their own organisation.
    response = client.post(ADD, {**NEW_DEVICE, "customer": orgs["customer_b"].pk})
    device = Device.objects.get(serial_number="5CG1234XYZ")
    assert response.status_code == 302 and response["Location"] == device.get_absolute_url()
    assert (device.customer, device.created_by, device.hostname) == (orgs["customer_a"], admin,
                                                                     "nb-kemal")
    assert str(device.av_signature_date) == "2026-11-18"
    assert timezone.localtime(device.last_seen).strftime("%H:%M") == "09:30"
    assert AuditEvent.objects.filter(action="device.created", actor=admin).count() == 1
    assert "wurde hinzugefügt" in body(client.get(response["Location"]))


@pytest.mark.parametrize(("person", "choices"), [
    ("provider_staff", {"Kunde A", "Kunde B", "Kunde Direkt"}),
    ("partner_support", {"Kunde A"}),
])
def test_staff_pick_a_customer_they_see(orgs, people, verified_client, person, choices):
    client = verified_client(people[person])
    form = client.get(ADD).context["form"]
    assert {org.name for org in form.fields["customer"].queryset} == choices
    response = client.post(ADD, NEW_DEVICE)
    assert response.status_code == 200
    assert "Dieses Feld ist zwingend erforderlich." in body(response)
    if person == "partner_support":
        response = client.post(ADD, {**NEW_DEVICE, "customer": orgs["customer_b"].pk})
        assert response.status_code == 200
        assert response.context["form"].errors["customer"]
    assert not Device.objects.exists()
    response = client.post(ADD, {**NEW_DEVICE, "customer": orgs["customer_a"].pk})
    assert response.status_code == 302
    assert Device.objects.get().customer == orgs["customer_a"]


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"hostname": "kein hostname!"}, "hostname", "ist kein gültiger Hostname"),
    ({"serial_number": "sn-a1"}, "serial_number", "Diese Seriennummer ist bereits erfasst."),
    ({"av_signature_date": "01.01.2099"}, "av_signature_date",
     "Das Datum 01.01.2099 liegt in der Zukunft"),
    ({"last_seen": "2099-01-01 08:00"}, "last_seen", "Das Datum 01.01.2099 liegt in der Zukunft"),
    ({"hostname": "BUERO-01"}, "hostname", "Ein aktives Gerät mit diesem Hostnamen gibt es"),
    ({"kind": "toaster"}, "kind", "keine gültige Auswahl"),
    ({"av_signature_date": "31.02.2026"}, "av_signature_date", "Bitte ein gültiges Datum"),
    ({"pending_critical_updates": "-1"}, "pending_critical_updates", "größer oder gleich 0"),
])
def test_bad_input_shows_german_errors_and_changes_nothing(people, devices, verified_client,
                                                           change, field, message):
    client = verified_client(people["customer_admin"])
    before = Device.objects.count()
    response = client.post(ADD, {**NEW_DEVICE, **change})
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors, response.context["form"].errors
    assert message.split("„")[0] in body(response)
    assert Device.objects.count() == before
    assert not AuditEvent.objects.filter(action="device.created").exists()


def test_serial_of_another_customers_device_is_no_conflict(people, devices, verified_client):
    """Serials are unique per customer only (docs/adr/0007): the page tells nothing about a
    device of Kunde B with the same serial, it simply adds the device."""
    client = verified_client(people["customer_admin"])
    response = client.post(ADD, {**NEW_DEVICE, "serial_number": "sn-b1"})
    assert response.status_code == 302
    assert set(Device.objects.filter(serial_number="SN-B1").values_list(
        "customer__name", flat=True)) == {"Kunde A", "Kunde B"}


def form_data(response) -> dict[str, object]:
    """What a browser sends back for the form as shown."""
    form = response.context["form"]
    values = {name: form[name].value() for name in form.fields}
    return {name: "" if value is None else value for name, value in values.items()}


def test_edit_changes_only_what_was_changed(people, devices, verified_client):
    device = devices["office"]
    seen = timezone.now().replace(microsecond=123456)
    Device.objects.filter(pk=device.pk).update(last_seen=seen)
    staff = people["partner_support"]
    client = verified_client(staff)
    url = reverse("devices:edit", args=[device.pk])
    data = form_data(client.get(url))
    assert "customer" not in data
    # Sending the form back unchanged changes nothing.
    response = client.post(url, data)
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="device.updated").exists()
    response = client.post(url, {**data, "location": "Büro Nord", "notes": "Neuer Monitor"})
    assert response.status_code == 302 and response["Location"] == device.get_absolute_url()
    device.refresh_from_db()
    assert (device.location, device.notes, device.updated_by) == ("Büro Nord", "Neuer Monitor",
                                                                  staff)
    assert device.last_seen == seen  # the form shows seconds only; the value stays exact
    event = AuditEvent.objects.get(action="device.updated")
    assert set(event.details["changes"]) == {"location", "notes"}


def test_edit_refuses_a_conflict(people, devices, verified_client):
    client = verified_client(people["customer_admin"])
    url = reverse("devices:edit", args=[devices["office"].pk])
    response = client.post(url, {**form_data(client.get(url)), "hostname": "SRV-01"})
    assert response.status_code == 200
    assert "Ein aktives Gerät mit diesem Hostnamen gibt es bereits." in body(response)
    devices["office"].refresh_from_db()
    assert devices["office"].hostname == "buero-01"


def test_retire_asks_first_then_keeps_the_device(people, devices, verified_client):
    client = verified_client(people["customer_admin"])
    device = devices["office"]
    url = reverse("devices:retire", args=[device.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert "buero-01" in body(response) and "SN-A1" in body(response)
    device.refresh_from_db()
    assert device.retired_at is None
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == device.get_absolute_url()
    device.refresh_from_db()
    assert device.retired_at is not None
    assert rows_of(client.get(LIST)) == ["srv-01"]
    assert "buero-01" in rows_of(client.get(LIST, {"state": "retired"}))
    # Twice is refused with a message, and the confirmation page is not shown again.
    response = client.post(url, follow=True)
    assert "bereits ausgemustert" in body(response)
    assert client.get(url)["Location"] == device.get_absolute_url()


# --- Refusals -------------------------------------------------------------------------------------


def test_customer_member_is_read_only(people, devices, verified_client):
    client = verified_client(people["customer_member"])
    device = devices["office"]
    assert client.get(LIST).status_code == 200
    assert client.get(device.get_absolute_url()).status_code == 200
    pending = DeviceImport.objects.create(
        customer=device.customer, created_by=people["customer_admin"],
        status=ImportStatus.PREVIEWED, file_name="x.csv", file_format="csv", file_size=1,
        file_sha256="0" * 64)
    for url in (ADD, reverse("devices:edit", args=[device.pk]),
                reverse("devices:retire", args=[device.pk]), IMPORT):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {**NEW_DEVICE, "location": "x"}).status_code == 403, url
    assert upload(client, b"hostname;serial;kind\npc-9;SN-9;server\n").status_code == 403
    for name in ("devices:import_confirm", "devices:import_cancel"):
        assert client.post(import_url(pending, name)).status_code == 403
    # The member may look at an import of the own organisation, without the buttons.
    response = client.get(import_url(pending))
    assert response.status_code == 200 and "Übernehmen" not in body(response)
    assert client.get(EXPORT, {"format": "csv"}).status_code == 403
    device.refresh_from_db()
    pending.refresh_from_db()
    assert (device.location, device.retired_at, pending.status) == ("Büro Süd", None,
                                                                    ImportStatus.PREVIEWED)
    assert Device.objects.count() == 4
    assert DeviceImport.objects.count() == 1


def test_dpo_can_export_but_not_edit(people, devices, verified_client):
    client = verified_client(people["dpo"])
    assert rows_of(client.get(LIST)) == ["buero-01", "fremd-01", "srv-01"]
    response = client.get(EXPORT, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    for url in (ADD, reverse("devices:edit", args=[devices["office"].pk]),
                reverse("devices:retire", args=[devices["office"].pk]), IMPORT):
        assert client.get(url).status_code == 403, url
        assert client.post(url, NEW_DEVICE).status_code == 403, url
    assert Device.objects.count() == 4


# --- Import ---------------------------------------------------------------------------------------

GOOD_CSV = ("hostname;serial;kind;location\r\n"
            "buero-01;SN-A1;workstation;Büro Ost\r\n"      # changed location
            "srv-01;SN-A2;server;Serverraum\r\n"           # unchanged
            "nb-neu;SN-NEU;notebook;Vertrieb\r\n").encode()  # new


def test_import_preview_confirm_and_result(people, devices, verified_client,
                                           django_capture_on_commit_callbacks):
    admin = people["customer_admin"]
    client = verified_client(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, GOOD_CSV)
    device_import = DeviceImport.objects.get()
    assert response.status_code == 302 and response["Location"] == import_url(device_import)
    assert device_import.customer == devices["office"].customer
    response = client.get(import_url(device_import))
    text = body(response)
    assert device_import_status(device_import) == ImportStatus.PREVIEWED
    assert response.context["device_import"].counts == {"new": 1, "changed": 1, "unchanged": 1,
                                                        "invalid": 0}
    assert "http-equiv=\"refresh\"" not in text
    assert "Übernehmen" in text and "Abbrechen" in text
    assert "Büro Süd" in text and "Büro Ost" in text and "nb-neu" in text
    assert "Standort / Raum" in text  # changes name the field, not its column
    assert not Device.objects.filter(serial_number="SN-NEU").exists()  # a preview writes nothing

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(import_url(device_import, "devices:import_confirm"))
    assert response.status_code == 302 and response["Location"] == import_url(device_import)
    assert device_import_status(device_import) == ImportStatus.DONE
    new = Device.objects.get(serial_number="SN-NEU")
    assert (new.customer, new.created_by, new.kind) == (devices["office"].customer, admin,
                                                        DeviceKind.WORKSTATION)
    assert Device.objects.get(serial_number="SN-A1").location == "Büro Ost"
    text = body(client.get(import_url(device_import)))
    assert "Import übernommen" in text and f'href="{LIST}"' in text
    assert "Übernehmen</button>" not in text
    # The upload page lists the import.
    assert "geraete.csv" in body(client.get(IMPORT))


def device_import_status(device_import: DeviceImport) -> str:
    device_import.refresh_from_db()
    return device_import.status


def test_staff_import_for_a_customer_they_pick(orgs, people, verified_client,
                                               django_capture_on_commit_callbacks):
    client = verified_client(people["partner_support"])
    form = client.get(IMPORT).context["form"]
    assert {org.name for org in form.fields["customer"].queryset} == {"Kunde A"}
    response = upload(client, GOOD_CSV)
    assert response.status_code == 200 and response.context["form"].errors["customer"]
    response = upload(client, GOOD_CSV, customer=orgs["customer_b"].pk)
    assert response.status_code == 200 and response.context["form"].errors["customer"]
    assert not DeviceImport.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, GOOD_CSV, customer=orgs["customer_a"].pk)
    device_import = DeviceImport.objects.get()
    assert device_import.customer == orgs["customer_a"]
    text = body(client.get(import_url(device_import)))
    assert "Kunde A" in text and "Übernehmen" in text


def test_invalid_rows_are_listed_and_nothing_is_written(people, devices, verified_client,
                                                        django_capture_on_commit_callbacks):
    client = verified_client(people["customer_admin"])
    content = (b"hostname;serial;kind\r\n"
               b"pc-gut;SN-GUT;workstation\r\n"
               b"pc-schlecht;SN-X;toaster\r\n"
               b"pc-ohne;;server\r\n")
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, content)
    device_import = DeviceImport.objects.get()
    assert device_import_status(device_import) == ImportStatus.INVALID
    response = client.get(import_url(device_import))
    text = body(response)
    assert "Es wurde nichts übernommen" in text
    assert "„toaster“ ist keine gültige Geräteart" in text
    assert "Die Seriennummer fehlt." in text
    assert [row["line"] for row in response.context["rows"]] == [3, 4]  # only the bad rows
    assert "Übernehmen</button>" not in text
    assert client.post(import_url(device_import, "devices:import_confirm")).status_code == 302
    assert device_import_status(device_import) == ImportStatus.INVALID
    assert not Device.objects.filter(serial_number="SN-GUT").exists()
    assert Device.objects.count() == 4


def test_unreadable_file_shows_the_file_error(people, devices, verified_client,
                                              django_capture_on_commit_callbacks):
    client = verified_client(people["customer_admin"])
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, b"hostname;serial;kind;customer\r\npc-1;SN-1;server;Kunde B\r\n")
    device_import = DeviceImport.objects.get()
    text = body(client.get(import_url(device_import)))
    assert "Die Spalte „customer“ ist nicht erlaubt" in text
    assert "Es wurde nichts übernommen" in text
    assert Device.objects.count() == 4


@pytest.mark.parametrize(("name", "content", "message"), [
    ("geraete.txt", b"hostname;serial;kind\n", "Bitte laden Sie eine CSV- oder XLSX-Datei hoch."),
    ("geraete.csv", b"", "Die übertragene Datei ist leer."),
])
def test_wrong_uploads_are_refused_on_the_form(people, verified_client, name, content, message):
    client = verified_client(people["customer_admin"])
    response = upload(client, content, name=name)
    assert response.status_code == 200
    assert message in body(response)
    assert not DeviceImport.objects.exists()


def test_cancel_discards_the_import(people, devices, verified_client,
                                    django_capture_on_commit_callbacks):
    client = verified_client(people["customer_admin"])
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, GOOD_CSV)
    device_import = DeviceImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(import_url(device_import, "devices:import_cancel"))
    assert response.status_code == 302 and response["Location"] == IMPORT
    assert device_import_status(device_import) == ImportStatus.CANCELLED
    assert "nichts übernommen" in body(client.get(IMPORT))
    # A cancelled import cannot be confirmed any more.
    client.post(import_url(device_import, "devices:import_confirm"))
    assert device_import_status(device_import) == ImportStatus.CANCELLED
    assert not Device.objects.filter(serial_number="SN-NEU").exists()
    assert get_location(devices["office"]) == "Büro Süd"
    assert "abgebrochen" in body(client.get(import_url(device_import)))


def get_location(device: Device) -> str:
    device.refresh_from_db()
    return device.location


@pytest.mark.parametrize(("status", "rows_total", "rows_done", "shown"), [
    (ImportStatus.UPLOADED, 0, 0, "wartet auf einen freien Hintergrundprozess"),
    (ImportStatus.PREVIEWING, 0, 0, "Die Datei wird gelesen"),
    (ImportStatus.PREVIEWING, 20000, 4000, "4000 von 20000 Zeilen"),
    (ImportStatus.CONFIRMED, 20000, 20000, "wartet auf einen freien Hintergrundprozess"),
    (ImportStatus.APPLYING, 20000, 12000, "12000 von 20000 Zeilen"),
    (ImportStatus.APPLYING, 20000, 20000, "Alle 20000 Zeilen sind geprüft"),
])
def test_running_import_shows_progress_and_reloads(orgs, people, verified_client, status,
                                                   rows_total, rows_done, shown):
    device_import = DeviceImport.objects.create(
        customer=orgs["customer_a"], created_by=people["customer_admin"], status=status,
        file_name="gross.xlsx", file_format="xlsx", file_size=5_000_000, file_sha256="0" * 64,
        rows_total=rows_total, rows_done=rows_done, heartbeat_at=timezone.now())
    text = body(verified_client(people["customer_admin"]).get(import_url(device_import)))
    assert '<meta http-equiv="refresh" content="2">' in text
    assert shown in text
    assert "<script" not in text


@pytest.mark.parametrize("person", ["customer_admin_b", "partner_support_b",
                                    "customer_admin_direct"])
def test_imports_of_other_tenants_are_not_found(orgs, people, verified_client, person):
    device_import = DeviceImport.objects.create(
        customer=orgs["customer_a"], created_by=people["customer_admin"],
        status=ImportStatus.PREVIEWED, file_name="a.csv", file_format="csv", file_size=1,
        file_sha256="0" * 64)
    client = verified_client(people[person])
    assert client.get(import_url(device_import)).status_code == 404
    for name in ("devices:import_confirm", "devices:import_cancel"):
        assert client.post(import_url(device_import, name)).status_code == 404
    assert device_import_status(device_import) == ImportStatus.PREVIEWED
    assert "a.csv" not in body(client.get(IMPORT))
    unknown = reverse("devices:import_detail",
                      kwargs={"public_id": "00000000-0000-0000-0000-000000000000"})
    assert client.get(unknown).status_code == 404


# --- Export ---------------------------------------------------------------------------------------


def test_csv_export_has_bom_header_and_escaped_formulae(orgs, people, devices, verified_client):
    DeviceFactory(customer=orgs["customer_a"], hostname="evil-01", serial_number="SN-EVIL",
                  location="=HYPERLINK(\"http://example.com\")", notes="+49 40 123",
                  operating_system="@SUM(A1)")
    admin = people["customer_admin"]
    response = verified_client(admin).get(EXPORT, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert re.search(r'filename="geraete-kunde-a-\d{4}-\d{2}-\d{2}\.csv"', disposition)
    content = response.content
    assert content.startswith(b"\xef\xbb\xbf" + HEADER.encode())
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert [row["hostname"] for row in rows] == ["buero-01", "evil-01", "srv-01"]
    evil = rows[1]
    assert evil["location"] == "'=HYPERLINK(\"http://example.com\")"
    assert evil["notes"] == "'+49 40 123"
    assert evil["os"] == "'@SUM(A1)"
    event = AuditEvent.objects.get(action="device.exported")
    assert (event.actor, event.organisation) == (admin, orgs["customer_a"])
    assert event.details == {"devices": 3, "format": "csv"}


def test_export_uses_the_list_filters(people, devices, verified_client):
    client = verified_client(people["provider_staff"])
    response = client.get(EXPORT, {"format": "csv", "state": "all", "q": "01", "kind": "server"})
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == HEADER
    assert [line.split(";")[0] for line in lines[1:]] == ["srv-01"]
    event = AuditEvent.objects.get(action="device.exported")
    assert event.details == {"devices": 1, "format": "csv"}
    # Staff export across customers: the event names no single customer.
    assert event.organisation != devices["office"].customer
    # The list links to the export with its filters.
    text = body(client.get(LIST, {"q": "srv", "page": "1"})).replace("&amp;", "&")
    assert f'href="{EXPORT}?q=srv&format=csv"' in text


def test_xlsx_export(people, devices, verified_client):
    response = verified_client(people["dpo"]).get(EXPORT, {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Disposition"].rstrip('"').endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert ";".join(values[0]) == HEADER
    assert [row[0] for row in values[1:]] == ["buero-01", "fremd-01", "srv-01"]


@pytest.mark.parametrize("query", [{}, {"format": "pdf"}, {"format": "<script>"}])
def test_unknown_export_format_is_a_bad_request(people, devices, verified_client, query):
    response = verified_client(people["customer_admin"]).get(EXPORT, query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "Unbekanntes Exportformat" in body(response)
    assert not AuditEvent.objects.filter(action="device.exported").exists()


def test_export_needs_an_export_role(people, devices, verified_client):
    response = verified_client(people["customer_member"]).get(EXPORT, {"format": "csv"})
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="device.exported").exists()


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_an_exported_file_imports_unchanged(orgs, people, devices, verified_client, file_format,
                                            django_capture_on_commit_callbacks):
    DeviceFactory(customer=orgs["customer_a"], hostname="evil-02", serial_number="SN-EVIL2",
                  location="=1+1", notes="-rm", last_seen=timezone.now())
    client = verified_client(people["customer_admin"])
    exported = client.get(EXPORT, {"format": file_format}).content
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, exported, name=f"export.{file_format}")
    device_import = DeviceImport.objects.get()
    assert device_import_status(device_import) == ImportStatus.PREVIEWED
    assert device_import.counts == {"new": 0, "changed": 0, "unchanged": 3, "invalid": 0}
