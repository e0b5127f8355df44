"""Device services: create, update, retire with readable conflicts; tenant refusals; audit."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError

from devices.models import Device, DeviceImport, DeviceKind
from devices.services import (
    device_create,
    device_export_record,
    device_import_cancel,
    device_import_confirm,
    device_import_upload,
    device_retire,
    device_update,
)
from devices.services import inventory as services
from portal.models import AuditEvent

ALLOWED_FOR_CUSTOMER_A = ["provider_admin", "provider_staff", "partner_support", "customer_admin"]
REFUSED_FOR_CUSTOMER_A = ["dpo", "customer_member", "partner_support_b", "customer_admin_b",
                          "customer_admin_direct"]
CSV = b"hostname;serial;kind\r\npc-01;SN-1;workstation\r\n"


@pytest.fixture
def people(world):
    return world["people"]


@pytest.fixture
def customer(world):
    return world["orgs"]["customer_a"]


@pytest.fixture
def admin(people):
    return people["customer_admin"]


def create(actor, customer, serial="SN-1", hostname="pc-01", **fields):
    return device_create(actor=actor, customer=customer, serial_number=serial, hostname=hostname,
                         kind=fields.pop("kind", DeviceKind.WORKSTATION), **fields)


def field_messages(caught) -> dict[str, list[str]]:
    return caught.value.message_dict


# --- Create -----------------------------------------------------------------------------------

def test_create_normalises_serial_and_records_audit(admin, customer):
    device = create(admin, customer, serial="  ab-12 ", hostname=" pc-01 ", location="Büro Süd",
                    ip="192.0.2.10")
    device.refresh_from_db()
    assert (device.serial_number, device.hostname) == ("AB-12", "pc-01")
    assert (device.customer, device.created_by, device.updated_by) == (customer, admin, admin)
    event = AuditEvent.objects.get(action="device.created")
    assert event.target_id == str(device.pk) and event.organisation == customer
    assert event.details == {"serial": "AB-12", "hostname": "pc-01"}
    assert event.ip_address == "192.0.2.10"


def test_customer_field_cannot_be_smuggled_in(admin, customer, world):
    device = create(admin, customer, customer_id=world["orgs"]["customer_b"].pk)
    assert Device.objects.get(pk=device.pk).customer == customer


def test_same_serial_twice_for_one_customer_is_refused(admin, customer):
    create(admin, customer, serial="SN-1")
    with pytest.raises(ValidationError) as caught:
        create(admin, customer, serial=" sn-1", hostname="pc-02")
    assert field_messages(caught) == {"serial_number": ["Diese Seriennummer ist bereits erfasst."]}
    assert Device.objects.count() == 1


def test_serial_of_own_retired_device_is_still_taken(admin, customer):
    device_retire(actor=admin, device=create(admin, customer, serial="SN-1"))
    with pytest.raises(ValidationError) as caught:
        create(admin, customer, serial="SN-1", hostname="pc-02")
    assert "bereits erfasst" in field_messages(caught)["serial_number"][0]


def test_active_serial_of_another_customer_is_no_conflict_and_not_told(world, customer, admin):
    """Serials are unique per customer only (docs/adr/0007): whether another customer has a
    serial must not change what this customer is told (no existence oracle)."""
    other = world["orgs"]["customer_b"]
    create(world["people"]["customer_admin_b"], other, serial="SN-1", hostname="fremd-01")
    created = create(admin, customer, serial="SN-1")
    assert created.customer == customer and created.retired_at is None
    assert services.device_unique_errors(Device(customer=customer, serial_number="SN-7",
                                                hostname="pc-07")) == {}
    assert Device.objects.filter(serial_number="SN-1", retired_at__isnull=True).count() == 2


def test_serial_retired_at_another_customer_may_be_used(world, customer, admin):
    other_admin = world["people"]["customer_admin_b"]
    device_retire(actor=other_admin, device=create(other_admin, world["orgs"]["customer_b"]))
    create(admin, customer, serial="SN-1")
    assert Device.objects.filter(serial_number="SN-1").count() == 2


def test_hostname_unique_among_active_devices_case_insensitive(admin, customer, world):
    first = create(admin, customer, serial="SN-1", hostname="PC-01")
    with pytest.raises(ValidationError) as caught:
        create(admin, customer, serial="SN-2", hostname="pc-01")
    assert field_messages(caught) == {
        "hostname": ["Ein aktives Gerät mit diesem Hostnamen gibt es bereits."]}
    # Another customer may use the same name, and a retired device frees it.
    create(world["people"]["customer_admin_b"], world["orgs"]["customer_b"], serial="SN-9",
           hostname="pc-01")
    device_retire(actor=admin, device=first)
    create(admin, customer, serial="SN-2", hostname="pc-01")


def test_invalid_kind_is_a_field_error(admin, customer):
    with pytest.raises(ValidationError) as caught:
        create(admin, customer, kind="toaster")
    assert "kind" in field_messages(caught)


def test_bad_hostname_is_refused_by_the_service_itself(admin, customer):
    """The hostname rule is the model field's validator (issue 9): the service refuses what
    no form checked, with the message the forms and the import show, and writes nothing."""
    with pytest.raises(ValidationError) as caught:
        create(admin, customer, hostname="bad host!!")
    assert field_messages(caught) == {"hostname": [
        "„bad host!!“ ist kein gültiger Hostname (Buchstaben, Ziffern, Bindestriche, "
        "Punkte)."]}
    assert not Device.objects.exists()
    device = create(admin, customer, hostname="pc-01")
    with pytest.raises(ValidationError) as caught:
        device_update(actor=admin, device=device, hostname="pc 01")
    assert list(field_messages(caught)) == ["hostname"]


def test_a_lost_race_becomes_a_readable_error_not_an_integrity_error(admin, customer,
                                                                     monkeypatch):
    create(admin, customer, serial="SN-1")
    monkeypatch.setattr(services, "device_unique_errors", lambda device: {})
    with pytest.raises(ValidationError) as caught:
        create(admin, customer, serial="SN-1", hostname="pc-02")
    assert not isinstance(caught.value, IntegrityError)
    assert "gleichzeitig" in caught.value.messages[0]
    assert Device.objects.count() == 1


# --- Update -----------------------------------------------------------------------------------

def test_update_records_changes(admin, customer):
    device = create(admin, customer, location="Keller")
    updated = device_update(actor=admin, device=device, location="Büro Süd", hostname="pc-01")
    assert updated.location == "Büro Süd"
    event = AuditEvent.objects.get(action="device.updated")
    assert event.details == {"changes": {"location": ["Keller", "Büro Süd"]}}
    device_update(actor=admin, device=device, location="Büro Süd")
    assert AuditEvent.objects.filter(action="device.updated").count() == 1


def test_update_to_a_taken_hostname_or_serial_is_refused(admin, customer):
    create(admin, customer, serial="SN-1", hostname="pc-01")
    second = create(admin, customer, serial="SN-2", hostname="pc-02")
    with pytest.raises(ValidationError) as caught:
        device_update(actor=admin, device=second, hostname="PC-01")
    assert "hostname" in field_messages(caught)
    with pytest.raises(ValidationError) as caught:
        device_update(actor=admin, device=second, serial_number="sn-1")
    assert "serial_number" in field_messages(caught)
    second.refresh_from_db()
    assert (second.hostname, second.serial_number) == ("pc-02", "SN-2")


def test_update_cannot_move_a_device_to_another_customer(admin, customer, world):
    device = create(admin, customer)
    device_update(actor=admin, device=device, customer=world["orgs"]["customer_b"],
                  notes="verschoben?")
    device.refresh_from_db()
    assert device.customer == customer and device.notes == "verschoben?"


# --- Retire -----------------------------------------------------------------------------------

def test_retire_marks_and_keeps_the_device(admin, customer):
    device = create(admin, customer)
    retired = device_retire(actor=admin, device=device)
    assert retired.retired_at is not None and retired.is_retired
    assert Device.objects.filter(pk=device.pk, retired_at__isnull=False).exists()
    assert AuditEvent.objects.filter(action="device.retired", target_id=str(device.pk)).exists()


def test_retiring_twice_is_a_clear_error(admin, customer):
    device = create(admin, customer)
    first = device_retire(actor=admin, device=device).retired_at
    with pytest.raises(ValidationError) as caught:
        device_retire(actor=admin, device=device)
    assert caught.value.messages == ["Dieses Gerät ist bereits ausgemustert."]
    device.refresh_from_db()
    assert device.retired_at == first
    assert AuditEvent.objects.filter(action="device.retired").count() == 1


# --- Tenant refusals --------------------------------------------------------------------------

@pytest.mark.parametrize("role", ALLOWED_FOR_CUSTOMER_A)
def test_device_editors_may_change_customer_a(people, customer, role):
    actor = people[role]
    device = create(actor, customer, serial=f"SN-{role}", hostname=f"pc-{role}".replace("_", "-"))
    device_update(actor=actor, device=device, location="Keller")
    device_retire(actor=actor, device=device)
    assert Device.objects.get(pk=device.pk).is_retired


@pytest.mark.parametrize("role", REFUSED_FOR_CUSTOMER_A)
def test_others_may_change_nothing_of_customer_a(people, customer, admin, role,
                                                  django_capture_on_commit_callbacks):
    actor = people[role]
    device = create(admin, customer, serial="SN-1", hostname="pc-01")
    with django_capture_on_commit_callbacks(execute=True):
        device_import = device_import_upload(actor=admin, customer=customer,
                                             file_name="geraete.csv", data=CSV)
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        create(actor, customer, serial="SN-2", hostname="pc-02")
    with pytest.raises(PermissionDenied):
        device_update(actor=actor, device=device, location="Keller")
    with pytest.raises(PermissionDenied):
        device_retire(actor=actor, device=device)
    with pytest.raises(PermissionDenied):
        device_import_upload(actor=actor, customer=customer, file_name="geraete.csv", data=CSV)
    with pytest.raises(PermissionDenied):
        device_import_confirm(actor=actor, device_import=device_import)
    with pytest.raises(PermissionDenied):
        device_import_cancel(actor=actor, device_import=device_import)
    device.refresh_from_db()
    assert (device.location, device.retired_at) == ("", None)
    assert Device.objects.count() == 1 and DeviceImport.objects.count() == 1
    assert DeviceImport.objects.get().status == "previewed"
    assert AuditEvent.objects.count() == before


def test_customer_admin_cannot_touch_another_customer(people, world):
    other = world["orgs"]["customer_b"]
    device = create(people["customer_admin_b"], other)
    actor = people["customer_admin"]
    for call in (lambda: create(actor, other, serial="SN-2", hostname="pc-02"),
                 lambda: device_update(actor=actor, device=device, notes="x"),
                 lambda: device_retire(actor=actor, device=device),
                 lambda: device_import_upload(actor=actor, customer=other,
                                              file_name="geraete.csv", data=CSV)):
        with pytest.raises(PermissionDenied):
            call()
    assert Device.objects.get().notes == "" and DeviceImport.objects.count() == 0


def test_the_stored_customer_decides_not_the_object_handed_in(people, world,
                                                              django_capture_on_commit_callbacks):
    other, own = world["orgs"]["customer_b"], world["orgs"]["customer_a"]
    other_admin, actor = people["customer_admin_b"], people["customer_admin"]
    forged = Device.objects.get(pk=create(other_admin, other).pk)
    forged.customer = own
    with django_capture_on_commit_callbacks(execute=True):
        device_import = device_import_upload(actor=other_admin, customer=other,
                                             file_name="geraete.csv", data=CSV)
    device_import.customer = own
    for call in (lambda: device_update(actor=actor, device=forged, notes="x"),
                 lambda: device_retire(actor=actor, device=forged),
                 lambda: device_import_confirm(actor=actor, device_import=device_import),
                 lambda: device_import_cancel(actor=actor, device_import=device_import)):
        with pytest.raises(PermissionDenied):
            call()
    stored = Device.objects.get()
    assert (stored.notes, stored.retired_at, stored.customer) == ("", None, other)
    assert DeviceImport.objects.get().status == "previewed"


def test_partner_support_only_for_customers_of_its_partner(people, world):
    actor = people["partner_support"]
    for customer in (world["orgs"]["customer_b"], world["orgs"]["customer_direct"]):
        with pytest.raises(PermissionDenied):
            create(actor, customer)
        with pytest.raises(PermissionDenied):
            device_import_upload(actor=actor, customer=customer, file_name="geraete.csv",
                                 data=CSV)
    assert create(actor, world["orgs"]["customer_a"]).customer == world["orgs"]["customer_a"]


@pytest.mark.parametrize("org", ["provider", "partner_a"])
def test_devices_belong_to_customers_only(people, world, org):
    with pytest.raises(PermissionDenied):
        create(people["provider_admin"], world["orgs"][org])


# --- Export audit -----------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["provider_admin", "dpo", "partner_support", "customer_admin"])
def test_each_export_is_audited(people, customer, role):
    device_export_record(actor=people[role], customer=customer, count=3,
                         file_format_name="xlsx", ip="192.0.2.1")
    event = AuditEvent.objects.get(action="device.exported")
    assert event.actor == people[role] and event.organisation == customer
    assert event.details == {"devices": 3, "format": "xlsx"}


def test_export_of_all_customers_is_audited(people):
    device_export_record(actor=people["provider_admin"], customer=None, count=0,
                         file_format_name="csv")
    assert AuditEvent.objects.get(action="device.exported").details["format"] == "csv"


def test_customer_member_export_is_refused(people, customer):
    with pytest.raises(PermissionDenied):
        device_export_record(actor=people["customer_member"], customer=customer, count=1,
                             file_format_name="csv")
    assert not AuditEvent.objects.filter(action="device.exported").exists()
