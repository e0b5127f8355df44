"""The purge eight weeks after the end of a contract (gdpr/services/purge.py, issue 11 item 5):
due day, tombstone, restriction, legal holds, files after the commit, idempotence, failure
rollback, the certificate's evidence, the command and the retention-end job."""

from __future__ import annotations

import os
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from contracts.catalogue import plans_seed
from contracts.models import Booking, BookingState, Contract, ContractStatus
from contracts.services import booking_create
from devices.models import Device
from gdpr.models import DeletionCertificate, LegalHold, PendingFileDeletion
from gdpr.services import purge as purge_service
from gdpr.services.pending_files import pending_files_delete
from gdpr.services.purge import purge_due
from gdpr.services.retention import retained_records_expire
from portal.models import AccessLogEntry, AuditEvent, Document, Membership, Organisation, User
from portal.periods import purge_schedule
from portal.services.mfa import mfa_verification_record
from tests.factories import DeviceFactory

END = date(2026, 9, 30)
PURGE_ON = date(2026, 11, 26)  # end + 57 days (DOMAIN §5)


def _stored_document(customer, name: str, **fields) -> Document:
    path = default_storage.save(f"documents/test/{name}", ContentFile(b"%PDF-1.7 test"))
    return Document.objects.create(customer=customer, kind="contract_summary", title=name,
                                   filename=name, file=path, sha256="0" * 64, size=13,
                                   created_at=timezone.now(), **fields)


@pytest.fixture
def ended(world, client):
    """Customer A (K-20001) with booked and unbooked devices, a stored document, audit events
    with IPs and an access log, whose contract ended on END."""
    customer = world["orgs"]["customer_a"]
    Organisation.objects.filter(pk=customer.pk).update(customer_number="K-20001",
                                                        vat_id="DE136695976")
    admin, member = world["people"]["customer_admin"], world["people"]["customer_member"]
    plans = {plan.code: plan for plan in plans_seed()}
    booked = DeviceFactory(customer=customer, created_by=admin,
                           notes=f"Laptop von {admin.get_full_name()}")
    free = DeviceFactory(customer=customer, notes=f"Ansprechpartner {member.email}")
    with transaction.atomic():
        booking_create(actor=admin, customer=customer, plan=plans["mc-standard"],
                       devices=[booked])
    mfa_verification_record(actor=admin, method="totp", succeeded=True, ip="192.0.2.7")
    AccessLogEntry.objects.create(user=member, organisation=customer, method="GET",
                                  path="/geraete/", status_code=200, ip_address="192.0.2.8",
                                  user_agent="Firefox")
    document = _stored_document(customer, "zusammenfassung.pdf")
    Booking.objects.filter(customer=customer).update(state=BookingState.ENDED,
                                                     effective_end=END)
    Contract.objects.filter(customer=customer).update(
        status=ContractStatus.ENDED, effective_end=END,
        purge_on=purge_schedule(contract_end=END).purge_on)
    customer.refresh_from_db()
    return {"customer": customer, "admin": admin, "member": member, "booked": booked,
            "free": free, "document": document, "world": world,
            "people": [admin, member]}


def _purge(day=PURGE_ON, **kwargs):
    return purge_due(today=day, **kwargs)


def test_the_purge_day_is_end_plus_57(ended):
    assert purge_schedule(contract_end=END).purge_on == PURGE_ON
    assert _purge(PURGE_ON - timedelta(days=1)).purged == []
    assert Organisation.objects.get(pk=ended["customer"].pk).purged_at is None
    assert _purge(PURGE_ON).purged == ["K-20001"]


def test_a_running_contract_is_never_purged(ended):
    Contract.objects.filter(customer=ended["customer"]).update(status=ContractStatus.ENDING)
    assert _purge(date(2027, 6, 1)).purged == []


def test_the_purge_deletes_pseudonymises_and_keeps_the_tombstone(
        ended, django_capture_on_commit_callbacks):
    customer = ended["customer"]
    people_ids = [p.pk for p in ended["people"]]
    with django_capture_on_commit_callbacks(execute=True):
        report = _purge()
    assert report.purged == ["K-20001"] and report.failed == []
    tomb = Organisation.objects.get(pk=customer.pk)
    assert (tomb.name, tomb.street, tomb.city, tomb.vat_id, tomb.partner_id, tomb.is_active) == (
        "K-20001", "", "", "", None, False)
    assert tomb.purged_at is not None
    assert not Membership.objects.filter(organisation=customer).exists()
    for user in User.objects.filter(pk__in=people_ids):
        assert user.email.startswith("geloescht-") and not user.is_active
        assert not user.has_usable_password() and user.get_full_name() == ""
    assert not TOTPDevice.objects.filter(user_id__in=people_ids).exists()
    # The booked device is kept (bookings: 8 years) but loses its personal fields; the
    # unbooked one is gone.
    booked = Device.objects.get(pk=ended["booked"].pk)
    assert booked.notes == "" and booked.created_by_id is None
    assert not Device.objects.filter(pk=ended["free"].pk).exists()
    assert Booking.objects.filter(customer=customer).count() == 1
    assert not AccessLogEntry.objects.filter(organisation=customer).exists()
    # The document had no retention duty: row and file are gone after the commit.
    assert not Document.objects.filter(pk=ended["document"].pk).exists()
    assert not default_storage.exists(ended["document"].file.name)
    assert not PendingFileDeletion.objects.exists()


def test_the_certificate_records_every_store_and_no_personal_data(ended):
    people = ended["people"]
    identifiers = [text for p in people for text in (p.email, p.first_name, p.last_name)]
    identifiers += ["192.0.2.7", "192.0.2.8", "Kunde A"]
    _purge()
    certificate = DeletionCertificate.objects.get()
    assert certificate.kind == "purge" and certificate.reference == "K-20001"
    assert certificate.contract_end == END
    assert certificate.backup_expires_on == (
        timezone.localdate(certificate.performed_at)
        + timedelta(days=30))
    stores = {store["store"]: store for store in certificate.stores}
    assert stores["devices.Device"]["before"] == 2 and stores["devices.Device"]["after"] == 1
    assert stores["portal.Membership"] == {"store": "portal.Membership", "kind": "table",
                                           "before": 2, "after": 0, "action": "deleted"}
    assert stores["portal.AccessLogEntry"]["kind"] == "log"
    assert stores["portal.AccessLogEntry"]["after"] == 0
    assert stores["files"]["before"] == 1 and stores["files"]["after"] == 0
    assert {"cache"} <= set(stores)
    retained = {item["store"]: item for item in certificate.retained}
    assert retained["contracts.Booking"]["until"] == "2034-12-31"  # 8 years from end of 2026
    assert "§ 147" in retained["contracts.Booking"]["basis"]
    assert certificate.deleted_rows >= 5 and len(certificate.deleted_ids_sha256) == 64
    assert certificate.rule_version.startswith("2026-12/")
    from pypdf import PdfReader

    pdf = "".join(page.extract_text() for page in
                  PdfReader(certificate.document.file.open()).pages)
    assert "Löschprotokoll" in pdf and "K-20001" in pdf
    text = repr((certificate.stores, certificate.retained, certificate.reference,
                 certificate.method, certificate.performed_by)) + pdf
    for needle in identifiers:
        assert needle not in text
    # No audit event of the customer keeps a person's address, name or IP.
    for event in AuditEvent.objects.filter(organisation=ended["customer"]):
        dump = repr((event.actor_label, event.target_repr, event.ip_address, event.details))
        for needle in identifiers:
            assert needle not in dump, (event.action, needle)


def test_the_deleted_ids_hash_covers_exactly_the_deleted_rows(ended, monkeypatch):
    """The digest is over "<label>:<pk>" lines of every row the purge deleted, in deletion
    order; here recomputed from the same lines seen by the ledger, and its row count equals
    the certificate's before-minus-after over all tables."""
    import hashlib

    from portal import privacy_strategies

    seen: list[str] = []
    add = privacy_strategies.DeletionLedger.add

    def spy(self, label, ids):
        ids = list(ids)
        seen.extend(f"{label}:{pk}\n" for pk in ids)
        add(self, label, ids)

    monkeypatch.setattr(privacy_strategies.DeletionLedger, "add", spy)
    free = ended["free"].pk
    _purge()
    certificate = DeletionCertificate.objects.get()
    assert f"devices.Device:{free}\n" in seen
    assert certificate.deleted_ids_sha256 == hashlib.sha256("".join(seen).encode()).hexdigest()
    tables = [s for s in certificate.stores if s["kind"] in ("table", "log")]
    assert certificate.deleted_rows == len(seen) == sum(s["before"] - s["after"]
                                                        for s in tables)


def test_running_twice_purges_once(ended):
    assert _purge().purged == ["K-20001"]
    assert _purge().purged == []
    assert _purge(PURGE_ON + timedelta(days=1)).purged == []
    assert DeletionCertificate.objects.count() == 1
    assert AuditEvent.objects.filter(action="privacy.customer_purged").count() == 1


def test_a_customer_wide_legal_hold_pauses_the_purge(ended):
    dpo = ended["world"]["people"]["dpo"]
    hold = LegalHold.objects.create(customer=ended["customer"], reason="Rechtsstreit",
                                    placed_by=dpo)
    report = _purge()
    assert report.held == ["K-20001"] and report.purged == []
    assert Organisation.objects.get(pk=ended["customer"].pk).name == "Kunde A"
    assert Device.objects.filter(customer=ended["customer"]).count() == 2
    LegalHold.objects.filter(pk=hold.pk).update(released_at=hold.placed_at,
                                                release_reason="Verfahren beendet",
                                                released_by=dpo)
    assert _purge(PURGE_ON + timedelta(days=3)).purged == ["K-20001"]


def test_a_held_record_stays_untouched(ended):
    free = ended["free"]
    LegalHold.objects.create(customer=ended["customer"], model_label="devices.Device",
                             object_id=str(free.pk), reason="Beweissicherung",
                             placed_by=ended["world"]["people"]["dpo"])
    _purge()
    kept = Device.objects.get(pk=free.pk)
    assert kept.notes == free.notes  # neither deleted nor cleared
    certificate = DeletionCertificate.objects.get()
    devices = {s["store"]: s for s in certificate.stores}["devices.Device"]
    assert (devices["before"], devices["after"], devices["held"]) == (2, 2, 1)
    assert devices["action"] == "retained+held"


def test_a_released_record_hold_is_purged_by_the_next_run(ended):
    from gdpr.services.holds import legal_hold_place, legal_hold_release

    dpo, free = ended["world"]["people"]["dpo"], ended["free"]
    hold = legal_hold_place(actor=dpo, customer=ended["customer"], reason="Beweissicherung",
                            model_label="devices.Device", object_id=str(free.pk))
    _purge()
    assert Device.objects.filter(pk=free.pk).exists()
    second = legal_hold_place(actor=dpo, customer=ended["customer"], reason="zweites Verfahren",
                              model_label="devices.Device", object_id=str(free.pk))
    legal_hold_release(actor=dpo, hold=hold, reason="Verfahren beendet")
    assert _purge(PURGE_ON + timedelta(days=1)).released == []  # the second hold still holds
    assert Device.objects.filter(pk=free.pk).exists()
    legal_hold_release(actor=dpo, hold=second, reason="auch beendet")
    assert _purge(PURGE_ON + timedelta(days=2)).released == ["K-20001"]
    assert not Device.objects.filter(pk=free.pk).exists()
    event = AuditEvent.objects.get(action="purge.held_records_purged")  # one row, one event
    assert event.details["deleted"] == 1 and len(event.details["deleted_ids_sha256"]) == 64
    assert _purge(PURGE_ON + timedelta(days=3)).released == []  # once


def test_a_failure_half_way_changes_nothing(
        ended, monkeypatch, django_capture_on_commit_callbacks):
    def broken(certificate):
        raise RuntimeError("PDF renderer down")

    monkeypatch.setattr("gdpr.certificates.certificate_document_create", broken)
    with django_capture_on_commit_callbacks(execute=True):
        report = _purge()
    assert report.purged == [] and report.failed[0][0] == "K-20001"
    assert "PDF renderer down" in report.failed[0][1]
    customer = Organisation.objects.get(pk=ended["customer"].pk)
    assert customer.purged_at is None and customer.name == "Kunde A"
    assert Membership.objects.filter(organisation=customer).count() == 2
    assert Device.objects.filter(customer=customer).count() == 2
    assert default_storage.exists(ended["document"].file.name)
    assert not PendingFileDeletion.objects.exists() and not DeletionCertificate.objects.exists()


def test_a_failed_file_deletion_is_retried(
        ended, monkeypatch, django_capture_on_commit_callbacks):
    calls = []

    def failing(path):
        calls.append(path)
        raise OSError("storage unreachable")

    monkeypatch.setattr(default_storage, "delete", failing)
    with django_capture_on_commit_callbacks(execute=True):
        _purge()
    pending = PendingFileDeletion.objects.get()
    assert pending.attempts == 1 and "unreachable" in pending.last_error
    monkeypatch.undo()
    assert pending_files_delete() == {"deleted": 1, "pending": 0}
    assert not default_storage.exists(ended["document"].file.name)
    assert not PendingFileDeletion.objects.exists()


def test_retained_rows_are_restricted_to_the_dpo(ended):
    _purge()
    people = ended["world"]["people"]
    customer = ended["customer"]
    assert not Organisation.objects.visible_to(people["provider_staff"]).filter(
        pk=customer.pk).exists()
    assert not Booking.objects.visible_to(people["provider_admin"]).filter(
        customer=customer).exists()
    assert not Booking.objects.visible_to(people["partner_support"]).filter(
        customer=customer).exists()
    assert Booking.objects.visible_to(people["dpo"]).filter(customer=customer).count() == 1
    assert Organisation.objects.visible_to(people["dpo"]).filter(pk=customer.pk).exists()


def test_retained_records_are_deleted_when_their_period_ends(ended):
    _purge()
    customer = ended["customer"]
    assert retained_records_expire(today=date(2034, 12, 31)) == {}
    assert Booking.objects.filter(customer=customer).count() == 1
    result = retained_records_expire(today=date(2035, 1, 1))
    assert result["K-20001"]["contracts.Booking"] == 1
    assert result["K-20001"]["devices.Device"] == 1
    assert not Booking.objects.filter(customer=customer).exists()
    assert not Device.objects.filter(customer=customer).exists()
    assert retained_records_expire(today=date(2035, 1, 2)) == {}  # twice: nothing more
    assert AuditEvent.objects.filter(action="purge.retention_ended").count() == 1


def test_the_retention_end_takes_dated_prices_upgrade_chains_and_released_holds(ended):
    from contracts.models import BookingPrice
    from gdpr.services.holds import legal_hold_place, legal_hold_release

    customer, dpo = ended["customer"], ended["world"]["people"]["dpo"]
    booking = Booking.objects.get(customer=customer)
    successor = Booking.objects.create(**{
        field.attname: getattr(booking, field.attname)
        for field in Booking._meta.concrete_fields if field.attname not in ("id", "replaces_id")},
        replaces=booking)  # an upgrade: the successor protects its predecessor
    BookingPrice.objects.create(booking=successor, customer=customer,
                                valid_from=date(2026, 6, 1), monthly_price="9.00",
                                price_change=_price_change())
    released = legal_hold_place(actor=dpo, customer=customer, reason="alt",
                                model_label="devices.Device", object_id=str(ended["free"].pk))
    legal_hold_release(actor=dpo, hold=released, reason="erledigt")
    active = legal_hold_place(actor=dpo, customer=customer, reason="Rechtsstreit",
                              model_label="contracts.Contract",
                              object_id=str(Contract.objects.get(customer=customer).pk))
    _purge()
    result = retained_records_expire(today=date(2035, 1, 1))["K-20001"]
    assert result["contracts.BookingPrice"] == 1 and result["contracts.Booking"] == 2
    assert not Booking.objects.filter(customer=customer).exists()
    assert Contract.objects.filter(customer=customer).exists()  # under the active hold
    assert LegalHold.objects.filter(pk=active.pk).exists()  # an active hold is never deleted
    assert result.get("gdpr.LegalHold") == 1  # the released one went (3 years)


def _price_change():
    from contracts.models import Plan, PlanPriceChange

    return PlanPriceChange.objects.create(
        plan=Plan.objects.get(code="mc-standard"), kind="increase", old_price="8.00",
        new_price="9.00", effective_on=date(2026, 6, 1), announced_on=date(2026, 4, 1))


def test_an_erased_persons_request_goes_when_its_retention_ends(ended):
    from gdpr.models import DataSubjectRequest
    from gdpr.services.erasure import dsr_erase
    from gdpr.services.requests import dsr_create, dsr_identity_checked, dsr_start

    dpo, member = ended["world"]["people"]["dpo"], ended["member"]
    request = dsr_create(actor=dpo, kind="erasure", channel="email", received_on=END,
                         requester_name=member.get_full_name(), requester_email=member.email)
    dsr_identity_checked(actor=dpo, request=request, how="Rückruf")
    dsr_start(actor=dpo, request=request)
    dsr_erase(actor=dpo, request=request)
    assert DeletionCertificate.objects.filter(request=request).exists()
    _purge()
    result = retained_records_expire(today=date(2030, 1, 1))  # 3 years from the end of 2026
    assert result["K-20001"]["gdpr.DataSubjectRequest"] == 1
    assert not DataSubjectRequest.objects.filter(pk=request.pk).exists()
    certificate = DeletionCertificate.objects.get(kind="erasure")
    assert certificate.reference == f"Betroffenenanfrage Nr. {request.pk}"


def test_the_command_dry_run_changes_nothing(ended):
    out = StringIO()
    call_command("purge_due", "--today", PURGE_ON.isoformat(), "--dry-run", stdout=out)
    assert "would purge K-20001" in out.getvalue() and "devices.Device 2" in out.getvalue()
    assert Organisation.objects.get(pk=ended["customer"].pk).purged_at is None
    out = StringIO()
    call_command("purge_due", "--today", PURGE_ON.isoformat(), stdout=out)
    assert "purged K-20001" in out.getvalue()
    assert "1 purged, 0 held, 0 failed" in out.getvalue()


def test_a_dry_run_for_a_later_day_lists_contracts_ending_before_it(ended):
    Contract.objects.filter(customer=ended["customer"]).update(status=ContractStatus.ENDING)
    out = StringIO()
    call_command("purge_due", "--today", PURGE_ON.isoformat(), "--dry-run", stdout=out)
    assert "would purge K-20001" in out.getvalue()
    assert purge_due(today=PURGE_ON).purged == []  # a real run purges only ended contracts


def test_the_command_refuses_a_future_day_and_a_bad_date(ended):
    with pytest.raises(CommandError, match="future"):
        call_command("purge_due", "--today", "2999-01-01")
    with pytest.raises(CommandError, match="not a date"):
        call_command("purge_due", "--today", "31.12.2026")
    call_command("purge_due", "--today", "2999-01-01", "--dry-run", stdout=StringIO())
    assert Organisation.objects.get(pk=ended["customer"].pk).purged_at is None


def test_the_certificate_is_insert_only(ended):
    from django.db import IntegrityError

    _purge()
    certificate = DeletionCertificate.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        DeletionCertificate.objects.filter(pk=certificate.pk).update(reference="X")
    with pytest.raises(IntegrityError), transaction.atomic():
        DeletionCertificate.objects.filter(pk=certificate.pk).delete()


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"),
                    reason="DATABASE_URL is not set: the concurrent run needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_purge_once(world):
    from tests.concurrency import run_at_once

    assert connection.vendor == "postgresql"
    customer = world["orgs"]["customer_a"]
    DeviceFactory(customer=customer)
    Contract.objects.create(customer=customer, start=date(2025, 1, 1),
                            status=ContractStatus.ENDED, effective_end=END, purge_on=PURGE_ON)
    results = run_at_once(lambda: purge_service.purge_due(today=PURGE_ON),
                          lambda: purge_service.purge_due(today=PURGE_ON))
    assert sorted(len(r.purged) for r in results) == [0, 1]
    assert [r.failed for r in results] == [[], []]
    assert DeletionCertificate.objects.count() == 1
    assert AuditEvent.objects.filter(action="privacy.customer_purged").count() == 1
