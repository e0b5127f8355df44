"""The import engine: the dry run (plan_import) row by row, and apply_plan; export round trips."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from devices.exporting import export_devices
from devices.importing import CHANGED, INVALID, NEW, UNCHANGED, apply_plan, plan_import
from devices.models import Device, DeviceKind
from devices.spreadsheets import read_sheet

HEADER = ["hostname", "serial", "kind", "os", "location", "last_seen", "av_signature_date"]


def csv_bytes(rows, delimiter=";") -> bytes:
    return ("\r\n".join(delimiter.join(str(c) for c in row) for row in rows) + "\r\n").encode()


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def plan(customer, rows, header=HEADER):
    return plan_import(customer, read_sheet(csv_bytes([header, *rows]), "geraete.csv"))


def device(customer, serial, hostname, **fields):
    values = {"kind": DeviceKind.WORKSTATION, "operating_system": "Windows 11",
              "location": "Büro Süd"}
    values.update(fields)
    return Device.objects.create(customer=customer, serial_number=serial, hostname=hostname,
                                 **values)


def row(hostname, serial, kind="workstation", os="Windows 11", location="Büro Süd",
        last_seen="", av=""):
    return [hostname, serial, kind, os, location, last_seen, av]


def by_line(result):
    return {r.line: r for r in result.rows}


def all_messages(result):
    return [message for r in result.rows for message in r.errors]


@pytest.fixture
def customer(world):
    return world["orgs"]["customer_a"]


# --- Classification ---------------------------------------------------------------------------

def test_rows_are_classified_new_changed_unchanged_invalid(customer):
    device(customer, "SN-1", "pc-01")
    device(customer, "SN-2", "pc-02")
    result = plan(customer, [row("pc-01", "SN-1"), row("pc-02", "SN-2", location="Keller"),
                             row("pc-03", "SN-3"), row("pc-04", "SN-4", kind="toaster")])
    rows = by_line(result)
    assert [rows[n].status for n in (2, 3, 4, 5)] == [UNCHANGED, CHANGED, NEW, INVALID]
    assert result.counts == {NEW: 1, CHANGED: 1, UNCHANGED: 1, INVALID: 1}
    assert not result.is_valid
    assert rows[3].changes == {"location": ("Büro Süd", "Keller")}
    assert rows[2].errors == [] and rows[2].changes == {}
    assert any("toaster" in message and "Geräteart" in message for message in rows[5].errors)


def test_the_dry_run_writes_nothing(customer):
    existing = device(customer, "SN-1", "pc-01")
    result = plan(customer, [row("pc-01", "SN-1", os="Linux"), row("pc-02", "SN-2")])
    assert result.is_valid
    assert Device.objects.count() == 1
    existing.refresh_from_db()
    assert existing.operating_system == "Windows 11"


def test_serials_match_case_and_whitespace_insensitively(customer):
    device(customer, "AB-12", "pc-01")
    result = plan(customer, [row("pc-01", "  ab-12 ")])
    assert result.rows[0].status == UNCHANGED
    assert result.rows[0].serial == "AB-12"


def test_new_serials_are_stored_upper_case_and_stripped(customer):
    result = plan(customer, [row("pc-01", " ab-12x ")])
    apply_plan(customer, result, actor=None)
    assert Device.objects.get().serial_number == "AB-12X"


def test_changed_field_shows_old_and_new_value(customer):
    device(customer, "SN-1", "pc-01", av_signature_date=date(2026, 11, 1))
    result = plan(customer, [row("PC-01-neu", "SN-1", kind="server", av="2026-11-18")])
    changes = result.rows[0].changes
    assert changes["hostname"] == ("pc-01", "PC-01-neu")
    assert changes["kind"] == ("workstation", "server")
    assert changes["av_signature_date"] == ("2026-11-01", "2026-11-18")


def test_retired_device_reimported_is_reactivated(customer):
    retired = device(customer, "SN-1", "pc-01", retired_at=timezone.now())
    result = plan(customer, [row("pc-01", "SN-1")])
    assert result.rows[0].status == CHANGED
    assert "retired_at" in result.rows[0].changes
    counts = apply_plan(customer, result, actor=None)
    assert counts[CHANGED] == 1
    retired.refresh_from_db()
    assert retired.retired_at is None
    assert Device.objects.count() == 1


def test_german_kind_words_and_dates_are_accepted(customer):
    result = plan(customer, [
        row("pc-01", "SN-1", kind="Arbeitsplatz-PC", last_seen="20.11.2026 08:15",
            av="18.11.2026"),
        row("sw-01", "SN-2", kind="Netzwerkgerät", last_seen="2026-11-20 08:15:00",
            av="2026-11-18"),
        row("srv-01", "SN-3", kind="Server")])
    assert result.is_valid, all_messages(result)
    apply_plan(customer, result, actor=None)
    pc, sw, srv = (Device.objects.get(serial_number=s) for s in ("SN-1", "SN-2", "SN-3"))
    assert (pc.kind, sw.kind, srv.kind) == ("workstation", "network", "server")
    assert pc.av_signature_date == date(2026, 11, 18)
    berlin = timezone.localtime(pc.last_seen)
    assert (berlin.date(), berlin.hour, berlin.minute) == (date(2026, 11, 20), 8, 15)
    assert sw.last_seen == pc.last_seen


@pytest.mark.parametrize(("values", "fragment"), [
    ({"kind": "Kaffeemaschine"}, "keine gültige Geräteart"),
    ({"kind": ""}, "Geräteart fehlt"),
    ({"av": "31.02.2026"}, "kein gültiges Datum"),
    ({"av": "morgen"}, "kein gültiges Datum"),
    ({"last_seen": "2026-13-01 10:00"}, "kein gültiges Datum"),
    ({"serial": ""}, "Seriennummer fehlt"),
    ({"hostname": ""}, "Hostname fehlt"),
    ({"hostname": "pc 01/ä"}, "kein gültiger Hostname"),
    ({"os": "x" * 101}, "länger als 100 Zeichen"),
])
def test_invalid_values_are_explained(customer, values, fragment):
    fields = {"hostname": "pc-01", "serial": "SN-1"} | values
    result = plan(customer, [row(**fields), row("pc-02", "SN-2")])
    assert result.rows[0].status == INVALID
    assert result.rows[1].status == NEW
    assert any(fragment in message for message in result.rows[0].errors), result.rows[0].errors
    with pytest.raises(ValueError):
        apply_plan(customer, result, actor=None)
    assert Device.objects.count() == 0


def test_duplicate_serials_in_the_file_flag_both_rows(customer):
    result = plan(customer, [row("pc-01", "SN-1"), row("pc-02", "SN-2"), row("pc-03", "sn-1 ")])
    rows = by_line(result)
    assert rows[2].status == rows[4].status == INVALID
    assert rows[3].status == NEW
    for line in (2, 4):
        assert any("SN-1" in m and "mehrfach" in m and "2, 4" in m for m in rows[line].errors)


def test_duplicate_hostnames_in_the_file_flag_both_rows(customer):
    result = plan(customer, [row("pc-01", "SN-1"), row("PC-01", "SN-2")])
    assert [r.status for r in result.rows] == [INVALID, INVALID]
    assert all(any("Hostname" in m and "2, 3" in m for m in r.errors) for r in result.rows)


def test_hostname_of_an_active_device_not_in_the_file_is_refused(customer):
    device(customer, "SN-1", "pc-01")
    device(customer, "SN-9", "pc-09", retired_at=timezone.now())
    result = plan(customer, [row("PC-01", "SN-2"), row("pc-09", "SN-3")])
    assert result.rows[0].status == INVALID
    assert any("SN-1" in m for m in result.rows[0].errors)
    assert result.rows[1].status == NEW  # the hostname of a retired device is free


def test_serial_active_at_another_customer_is_imported_and_nothing_told(world, customer):
    """Serials are unique per customer only (ADR 0007): a serial active elsewhere is no
    conflict, and no message may hint that another customer has it."""
    other = world["orgs"]["customer_b"]
    device(other, "SN-1", "fremd-01")
    with_twin = plan(customer, [row("pc-01", "SN-1")])
    without_twin = plan(customer, [row("pc-02", "SN-2")])
    assert with_twin.rows[0].status == without_twin.rows[0].status == NEW
    assert all_messages(with_twin) == all_messages(without_twin) == []
    apply_plan(customer, with_twin, actor=None)
    assert set(Device.objects.filter(serial_number="SN-1", retired_at__isnull=True)
               .values_list("customer", flat=True)) == {customer.pk, other.pk}


def test_serial_retired_at_another_customer_may_be_imported(world, customer):
    device(world["orgs"]["customer_b"], "SN-1", "fremd-01", retired_at=timezone.now())
    result = plan(customer, [row("pc-01", "SN-1")])
    assert result.rows[0].status == NEW
    apply_plan(customer, result, actor=None)
    assert Device.objects.filter(serial_number="SN-1").count() == 2


def test_retired_own_device_is_reactivated_even_if_its_serial_is_active_elsewhere(world,
                                                                                 customer):
    own = device(customer, "SN-1", "pc-01", retired_at=timezone.now())
    device(world["orgs"]["customer_b"], "SN-1", "fremd-01")
    result = plan(customer, [row("pc-01", "SN-1")])
    assert result.rows[0].status == CHANGED and list(result.rows[0].changes) == ["retired_at"]
    apply_plan(customer, result, actor=None)
    own.refresh_from_db()
    assert own.retired_at is None


# --- Applying ---------------------------------------------------------------------------------

def test_apply_then_same_file_again_changes_nothing(world, customer):
    actor = world["people"]["customer_admin"]
    device(customer, "SN-1", "pc-01")
    rows = [row("pc-01", "SN-1", os="Linux", last_seen="20.11.2026 08:15", av="18.11.2026"),
            row("srv-01", "SN-2", kind="Server")]
    counts = apply_plan(customer, plan(customer, rows), actor=actor)
    assert counts == {NEW: 1, CHANGED: 1, UNCHANGED: 0, INVALID: 0}
    created = Device.objects.get(serial_number="SN-2")
    assert created.created_by == actor and created.updated_by == actor
    assert Device.objects.get(serial_number="SN-1").updated_by == actor
    again = plan(customer, rows)
    assert again.counts == {NEW: 0, CHANGED: 0, UNCHANGED: 2, INVALID: 0}


def test_hostname_swap_inside_one_file_applies(customer):
    device(customer, "SN-1", "pc-01")
    device(customer, "SN-2", "pc-02")
    result = plan(customer, [row("pc-02", "SN-1"), row("PC-01", "SN-2")])
    assert result.is_valid, all_messages(result)
    apply_plan(customer, result, actor=None)
    names = dict(Device.objects.values_list("serial_number", "hostname"))
    assert names == {"SN-1": "pc-02", "SN-2": "PC-01"}


def test_hostname_handed_from_a_renamed_device_to_a_new_one(customer):
    device(customer, "SN-1", "pc-01")
    result = plan(customer, [row("pc-01-alt", "SN-1"), row("pc-01", "SN-2")])
    assert result.is_valid, all_messages(result)
    apply_plan(customer, result, actor=None)
    names = dict(Device.objects.values_list("serial_number", "hostname"))
    assert names == {"SN-1": "pc-01-alt", "SN-2": "pc-01"}


def test_columns_missing_from_the_file_are_left_alone(customer):
    device(customer, "SN-1", "pc-01", notes="wichtig", agent_id="A-1")
    result = plan(customer, [["pc-01", "SN-1", "workstation", "Keller"]],
                  header=["hostname", "serial", "kind", "location"])
    apply_plan(customer, result, actor=None)
    stored = Device.objects.get()
    assert (stored.location, stored.notes, stored.agent_id) == ("Keller", "wichtig", "A-1")
    assert stored.operating_system == "Windows 11"


def test_other_customers_devices_are_never_touched(world, customer):
    other = device(world["orgs"]["customer_b"], "SN-9", "pc-01", location="Lager")
    apply_plan(customer, plan(customer, [row("pc-01", "SN-1", location="Keller")]), actor=None)
    other.refresh_from_db()
    assert (other.customer, other.location) == (world["orgs"]["customer_b"], "Lager")
    assert Device.objects.get(serial_number="SN-1").customer == customer


# --- Export round trip ------------------------------------------------------------------------

@pytest.fixture
def inventory(customer):
    device(customer, "SN-1", "pc-01", notes="=HYPERLINK(\"http://x\")", location="+49 Keller",
           agent_id="@agent", operating_system="-", av_signature_date=date(2026, 11, 18),
           last_seen=timezone.make_aware(datetime(2026, 11, 20, 8, 15, 30)))
    device(customer, "SN-2", "srv-01", kind=DeviceKind.SERVER,
           notes="Zeile 1\nZeile 2; mit, Zeichen")
    device(customer, "SN-3", "sw-01", kind=DeviceKind.NETWORK, location="Büro Süd",
           notes="'=schon mit Apostroph", agent_id="'@x")
    # Text areas in browsers send CRLF; XLSX gives LF back.
    device(customer, "SN-4", "sw-02", kind=DeviceKind.NETWORK, notes="Zeile 1\r\nZeile 2")
    return Device.objects.filter(customer=customer)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_reimporting_the_export_changes_nothing(customer, inventory, file_format):
    exported = export_devices(inventory, file_format, name="kunde-a")
    assert exported.count == 4
    result = plan_import(customer, read_sheet(exported.content, exported.file_name))
    assert result.counts == {NEW: 0, CHANGED: 0, UNCHANGED: 4, INVALID: 0}, [
        (r.changes, r.errors) for r in result.rows]


def test_csv_export_escapes_formulae(inventory):
    text = export_devices(inventory, "csv", name="kunde-a").content.decode("utf-8-sig")
    assert text.splitlines()[0] == ";".join(
        ["hostname", "serial", "kind", "os", "location", "agent_id", "last_seen",
         "av_signature_date", "notes"])
    for escaped in ("'+49 Keller", "'@agent", ";'-;"):
        assert escaped in text
    assert "'=HYPERLINK" in text
    assert "Büro Süd" in text


def test_xlsx_export_escapes_formulae(inventory):
    exported = export_devices(inventory, "xlsx", name="kunde-a")
    sheet = load_workbook(io.BytesIO(exported.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not any(cell.data_type == "f" for cell in cells)
    values = {cell.value for cell in cells}
    assert {"'=HYPERLINK(\"http://x\")", "'+49 Keller", "'@agent", "'-",
            "''=schon mit Apostroph", "''@x"} <= values


def test_formula_values_imported_by_hand_keep_their_text(customer):
    result = plan(customer, [row("pc-01", "SN-1", location="'+49 Keller", os="'-")])
    apply_plan(customer, result, actor=None)
    stored = Device.objects.get()
    assert (stored.location, stored.operating_system) == ("+49 Keller", "-")


def test_xlsx_with_numeric_serial_and_real_dates(customer):
    data = xlsx_bytes([["hostname", "serial", "kind", "last_seen", "av_signature_date"],
                       ["pc-01", 12345, "server", datetime(2026, 11, 20, 8, 15),
                        datetime(2026, 11, 18)]])
    result = plan_import(customer, read_sheet(data, "geraete.xlsx"))
    assert result.is_valid, all_messages(result)
    assert result.rows[0].serial == "12345"
    assert result.rows[0].values["av_signature_date"] == date(2026, 11, 18)


# --- Language ---------------------------------------------------------------------------------

def test_messages_are_german_by_default_and_produced_in_english_context(customer):
    rows = [row("pc-01", "SN-1", kind="toaster", av="morgen")]
    german = plan(customer, rows)
    assert any("Geräteart" in m for m in all_messages(german))
    with translation.override("en"):
        english = plan(customer, rows)
    assert len(all_messages(english)) == len(all_messages(german)) == 2
    assert all(m.strip() for m in all_messages(english))


def test_messages_go_through_gettext(customer, monkeypatch):
    import devices.importing

    monkeypatch.setattr(devices.importing, "_", lambda text: "[übersetzt] " + text)
    result = plan(customer, [row("pc-01", "SN-1", kind="toaster"), row("pc-02", "SN-1")])
    messages = all_messages(result)
    assert messages and all(m.startswith("[übersetzt] ") for m in messages)


@pytest.mark.parametrize("stored_utc", [
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),   # first 02:30 (CEST)
    datetime(2026, 10, 25, 1, 30, tzinfo=UTC),   # second 02:30 (CET)
])
def test_export_reimports_unchanged_in_the_repeated_autumn_hour(customer, stored_utc):
    stored = device(customer, "DST-1", "PC-DST-01", last_seen=stored_utc)
    exported = export_devices(Device.objects.filter(customer=customer), "csv", name="x")
    result = plan_import(customer, read_sheet(exported.content, "export.csv"))
    assert [r.status for r in result.rows] == [UNCHANGED]
    apply_plan(customer, result, actor=None)
    stored.refresh_from_db()
    assert stored.last_seen == stored_utc
