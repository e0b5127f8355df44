"""The privacy registry's drivers over the real entries: export for a person, erasure for a
person, purge for a customer (portal/privacy.py)."""

from __future__ import annotations

import json

import pytest
from allauth.account.models import EmailAddress
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from contracts.catalogue import plans_seed
from contracts.models import Booking, Contract, Plan
from contracts.services import booking_create
from devices.models import Device, DeviceImport
from portal.models import AccessLogEntry, AuditEvent, Membership, PersonSession, User
from portal.notifications.models import Notification
from portal.privacy import REDACTED, erase_for_person, export_for_person, purge_for_customer
from portal.services.mfa import mfa_verification_record
from tests.factories import PASSWORD, DeviceFactory


def stored_import(customer, person, name: str) -> DeviceImport:
    path = default_storage.save(f"imports/{name}", ContentFile(b"hostname;notes\npc;x\n"))
    return DeviceImport.objects.create(
        customer=customer, created_by=person, file_name=name, file_format="csv", file_size=20,
        file_sha256="0" * 64, storage_path=path)


@pytest.fixture
def data(world, client):
    """A customer admin with data in every registered app, and a colleague with their own."""
    plans = {plan.code: plan for plan in plans_seed()}
    person = world["people"]["customer_admin"]
    colleague = world["people"]["customer_member"]
    customer = world["orgs"]["customer_a"]
    named = DeviceFactory(customer=customer, created_by=person,
                          notes=f"Laptop von {person.get_full_name()}, Rückfragen an "
                                f"{person.email.upper()}")
    other = DeviceFactory(customer=customer, created_by=colleague, notes="Drucker im Flur")
    free = DeviceFactory(customer=customer, notes="Ersatzgerät im Lager")
    upload = stored_import(customer, person, "inventar.csv")
    with transaction.atomic():
        booking_create(actor=person, customer=customer, plan=plans["mc-standard"],
                       devices=[named])
    mfa_verification_record(actor=person, method="totp", succeeded=True, ip="192.0.2.7")
    mfa_verification_record(actor=colleague, method="totp", succeeded=True, ip="192.0.2.8")
    AccessLogEntry.objects.create(user=person, organisation=customer, method="GET",
                                  path="/geraete/", status_code=200, ip_address="192.0.2.7",
                                  user_agent="Firefox")
    client.force_login(person)
    return {"person": person, "colleague": colleague, "customer": customer, "named": named,
            "other": other, "free": free, "upload": upload, "world": world,
            "booking": Booking.objects.get(device=named)}


# --- export -------------------------------------------------------------------------------------


def test_export_holds_everything_of_the_person_and_nothing_of_another(data):
    person, colleague = data["person"], data["colleague"]
    exported = export_for_person(person)
    text = json.dumps(exported)  # JSON-serialisable as it is

    assert [row["email"] for row in exported["portal.User"]] == [person.email]
    assert [row["organisation__name"] for row in exported["portal.Membership"]] == ["Kunde A"]
    assert {row["pk"] for row in exported["devices.Device"]} == {data["named"].pk}
    assert [row["file_name"] for row in exported["devices.DeviceImport"]] == ["inventar.csv"]
    assert [(row["pk"], row["booked_by"]) for row in exported["contracts.Booking"]] == [
        (data["booking"].pk, person.pk)]
    actions = {row["action"] for row in exported["portal.AuditEvent"]}
    assert {"booking.created", "contract.opened", "mfa.verified"} <= actions
    assert {row["ip_address"] for row in exported["portal.AuditEvent"]} == {None, "192.0.2.7"}
    assert [row["path"] for row in exported["portal.AccessLogEntry"]] == ["/geraete/"]
    assert [row["email"] for row in exported["account.EmailAddress"]] == [person.email]
    assert len(exported["otp_totp.TOTPDevice"]) == 1
    assert exported["otp_static.StaticToken"][0]["tokens"] == 1
    assert [row["email"] for row in exported["portal.Notification"]] == [person.email]
    assert len(exported["portal.PersonSession"]) == 1

    assert colleague.email not in text and colleague.get_full_name() not in text
    assert "192.0.2.8" not in text and "Drucker im Flur" not in text
    assert "backup01" not in text  # secrets are never exported
    assert TOTPDevice.objects.get(user=person).key not in text


def test_export_of_the_actor_shows_what_their_action_caused_but_not_to_whom(data, world):
    staff = world["people"]["provider_staff"]
    with transaction.atomic():
        booking_create(actor=staff, customer=data["customer"],
                       plan=Plan.objects.get(code="mc-standard"), devices=[data["other"]])
    rows = export_for_person(staff)["portal.Notification"]
    assert {row["event"] for row in rows} == {"booking.created"}
    assert staff.email in {row.get("email") for row in rows}  # the actor's own confirmation
    assert data["person"].email not in json.dumps(rows)  # the admin told is someone else


# --- erasure ------------------------------------------------------------------------------------


def test_erasure_pseudonymises_the_account_and_deletes_what_only_serves_it(data, client):
    person, colleague = data["person"], data["colleague"]
    address, name = person.email, person.get_full_name()
    events_before = AuditEvent.objects.filter(actor=person).count()
    assert Client().login(username=colleague.email, password=PASSWORD)  # the check can succeed
    assert PersonSession.objects.filter(user_id=person.pk).count() == 1

    outcomes = erase_for_person(person, actor=data["world"]["people"]["provider_admin"])

    person.refresh_from_db()
    assert person.email == f"geloescht-{person.pk}@invalid.invalid"
    assert (person.first_name, person.last_name, person.is_active) == ("", "", False)
    assert not person.has_usable_password()
    assert not client.login(username=address, password=PASSWORD)
    assert not client.login(username=person.email, password=PASSWORD)
    assert not PersonSession.objects.filter(user_id=person.pk).exists()
    assert not EmailAddress.objects.filter(user=person).exists()
    assert not TOTPDevice.objects.filter(user=person).exists()
    assert not StaticDevice.objects.filter(user=person).exists()
    assert not StaticToken.objects.filter(device__user=person).exists()
    assert not Membership.objects.filter(user=person).exists()
    assert not Notification.objects.filter(email__iexact=address).exists()

    booking = Booking.objects.get(pk=data["booking"].pk)
    assert booking.booked_by is None and booking.device == data["named"]
    named = Device.objects.get(pk=data["named"].pk)
    assert named.notes == f"Laptop von {REDACTED}, Rückfragen an {REDACTED}"
    assert named.created_by is None
    upload = DeviceImport.objects.get(pk=data["upload"].pk)
    assert upload.created_by is None
    assert AuditEvent.objects.filter(actor=person).count() == events_before  # retained
    assert AccessLogEntry.objects.filter(user=person).count() == 1  # retained, 90 days

    event = AuditEvent.objects.get(action="privacy.person_erased")
    recorded = json.dumps(event.details) + event.target_repr + event.actor_label
    assert address not in recorded and name not in recorded
    counts = event.details["outcomes"]
    assert counts["contracts.Booking"]["pseudonymised"] == 1
    assert counts["portal.User"]["pseudonymised"] == 1
    assert counts["portal.PersonSession"]["deleted"] == 1
    # Kept, but without the person (ADR 0016): their events and those about them.
    assert counts["portal.AuditEvent"]["pseudonymised"] >= events_before
    assert {o.model: o.as_dict() for o in outcomes} == counts

    # The colleague and their device are untouched.
    colleague.refresh_from_db()
    assert colleague.is_active and TOTPDevice.objects.filter(user=colleague).exists()
    assert Device.objects.get(pk=data["other"].pk).notes == "Drucker im Flur"



def test_erasure_finds_a_name_with_umlauts_in_json_and_text(data):
    person = data["person"]
    User.objects.filter(pk=person.pk).update(first_name="Jürgen", last_name="Müller")
    person.refresh_from_db()
    upload = data["upload"]
    upload.messages = [{"row": 2, "text": "Standort „Büro Jürgen Müller“ unbekannt"}]
    upload.save(update_fields=["messages"])
    # SQLite folds the case of ASCII letters only ("JÜRGEN" would escape it there; PostgreSQL
    # folds all): the name as written.
    device = DeviceFactory(customer=data["customer"], location="Büro Jürgen Müller")

    erase_for_person(person, actor=data["world"]["people"]["provider_admin"])

    upload.refresh_from_db()
    assert upload.messages == [{"row": 2, "text": f"Standort „Büro {REDACTED}“ unbekannt"}]
    device.refresh_from_db()
    assert device.location == f"Büro {REDACTED}"

# --- purge --------------------------------------------------------------------------------------


def test_purge_deletes_the_customer_keeps_what_invoices_need_and_touches_no_other(
        data, world, django_capture_on_commit_callbacks):
    customer, other_customer = data["customer"], world["orgs"]["customer_b"]
    admin_b = world["people"]["customer_admin_b"]
    kept_device = DeviceFactory(customer=other_customer, notes="Server Keller")
    kept_upload = stored_import(other_customer, admin_b, "b.csv")
    path = data["upload"].storage_path

    with django_capture_on_commit_callbacks(execute=True):
        outcomes = purge_for_customer(customer, actor=world["people"]["provider_admin"])

    assert not Device.objects.filter(pk__in=[data["free"].pk, data["other"].pk]).exists()
    booked = Device.objects.get(pk=data["named"].pk)  # a retained booking refers to it
    assert (booked.notes, booked.location, booked.created_by) == ("", "", None)
    assert Booking.objects.filter(customer=customer).count() == 1
    contract = Contract.objects.get(customer=customer)
    assert contract.cancelled_by is None
    assert not DeviceImport.objects.filter(customer=customer).exists()
    assert not default_storage.exists(path)
    for person in (data["person"], data["colleague"]):
        person.refresh_from_db()
        assert not person.is_active and person.email.endswith("@invalid.invalid")
    assert not Membership.objects.filter(organisation=customer).exists()
    assert not Notification.objects.filter(customer=customer).exists()

    by_model = {o.model: o for o in outcomes}
    assert (by_model["devices.Device"].deleted, by_model["devices.Device"].retained) == (2, 1)
    assert by_model["devices.Device"].retention is not None
    assert by_model["contracts.Booking"].retained == 1
    assert by_model["contracts.Contract"].retained == 1
    assert by_model["portal.User"].pseudonymised == 2
    event = AuditEvent.objects.get(action="privacy.customer_purged")
    assert event.details["outcomes"]["contracts.Booking"]["retention"].endswith(
        "96m ab Ende des Kalenderjahres der Rechnung")

    # The other customer is untouched.
    assert Device.objects.get(pk=kept_device.pk).notes == "Server Keller"
    assert default_storage.exists(kept_upload.storage_path)
    admin_b.refresh_from_db()
    assert admin_b.is_active and Membership.objects.filter(user=admin_b).exists()


def test_a_purge_that_rolls_back_keeps_rows_and_files(
        data, world, django_capture_on_commit_callbacks):
    path = data["upload"].storage_path
    with django_capture_on_commit_callbacks(execute=True) as callbacks, \
            pytest.raises(RuntimeError), transaction.atomic():
        purge_for_customer(data["customer"], actor=world["people"]["provider_admin"])
        raise RuntimeError("a later step of the same request failed")
    assert callbacks == []
    assert default_storage.exists(path)
    assert DeviceImport.objects.filter(pk=data["upload"].pk).exists()
    assert Device.objects.filter(pk=data["free"].pk).exists()
    assert not AuditEvent.objects.filter(action="privacy.customer_purged").exists()


def test_a_file_is_deleted_only_after_the_commit(data, world, django_capture_on_commit_callbacks):
    path = data["upload"].storage_path
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        purge_for_customer(data["customer"], actor=world["people"]["provider_admin"])
        assert default_storage.exists(path)
    assert default_storage.exists(path) and len(callbacks) == 1
    callbacks[0]()
    assert not default_storage.exists(path)
