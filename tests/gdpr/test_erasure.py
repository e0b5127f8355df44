"""Erasure requests (Art. 17 DSGVO) carried out over the privacy registry: the account is
pseudonymised and cannot log in, the request is closed with the result per entry, the last
administrator of a running contract is refused."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from contracts.catalogue import plans_seed
from contracts.services import booking_create
from gdpr.models import DataSubjectRequest, RequestChannel, RequestKind, RequestState
from gdpr.services.erasure import dsr_erase, erasure_preview
from gdpr.services.requests import dsr_create, dsr_identity_checked, dsr_start
from portal.models import AuditEvent, User
from portal.roles import Role
from tests.factories import DeviceFactory, make_person

pytestmark = pytest.mark.django_db


def _erasure(world, person, *, start=True) -> DataSubjectRequest:
    dpo = world["people"]["dpo"]
    request = dsr_create(actor=dpo, kind=RequestKind.ERASURE, channel=RequestChannel.EMAIL,
                         received_on=date.today(), requester_name=person.get_full_name(),
                         requester_email=person.email)
    if start:
        dsr_identity_checked(actor=dpo, request=request, how="Rückruf")
        dsr_start(actor=dpo, request=request)
    return request


def _running_contract(world, admin, customer):
    plan = {p.code: p for p in plans_seed()}["mc-basis"]
    booking_create(actor=admin, customer=customer, plan=plan,
                   devices=[DeviceFactory(customer=customer)])


def test_the_person_is_pseudonymised_and_the_request_closed_with_the_result(world):
    member = world["people"]["customer_member"]
    email = member.email
    request = _erasure(world, member)
    request = dsr_erase(actor=world["people"]["dpo"], request=request)
    assert request.state == RequestState.DONE and request.closed_at is not None
    assert request.outcome.startswith("Löschung ausgeführt am")
    assert "portal.User: 1 pseudonymisiert" in request.outcome
    member.refresh_from_db()
    assert not member.is_active and member.email != email
    assert not User.objects.filter(email=email).exists()
    assert AuditEvent.objects.filter(action="dsr.erased").count() == 1
    assert AuditEvent.objects.filter(action="privacy.person_erased").count() == 1


def test_an_erasure_writes_a_certificate_without_the_persons_data(world):
    from pypdf import PdfReader

    from gdpr.models import DeletionCertificate

    member = world["people"]["customer_member"]
    secrets = [member.email, member.first_name, member.last_name]
    request = dsr_erase(actor=world["people"]["dpo"], request=_erasure(world, member))
    certificate = DeletionCertificate.objects.get(request=request)
    assert certificate.kind == "erasure"
    assert certificate.reference == f"Betroffenenanfrage Nr. {request.pk}"
    assert certificate.customer == world["orgs"]["customer_a"]
    assert certificate.performed_by == "Person mit der Rolle Datenschutzbeauftragter"
    stores = {store["store"]: store for store in certificate.stores}
    assert stores["portal.Membership"]["before"] == 1 and stores["portal.Membership"]["after"] == 0
    assert stores["portal.User"]["action"] == "pseudonymised"
    assert certificate.deleted_rows >= 2  # membership, second factor
    text = "".join(page.extract_text() for page in PdfReader(certificate.document.file.open())
                   .pages)
    dump = repr((certificate.stores, certificate.retained, certificate.method)) + text
    assert "Löschprotokoll" in text
    for secret in secrets:
        assert secret not in dump


def test_the_preview_lists_each_entry_with_its_strategy(world):
    preview = erasure_preview(world["people"]["customer_member"])
    labels = {row["label"]: row for row in preview}
    assert labels["portal.User"]["count"] == 1
    assert labels["otp_totp.TOTPDevice"]["strategy"] == "löschen"
    assert labels["portal.User"]["strategy"] == "pseudonymisieren"


def test_the_last_admin_of_a_running_contract_is_refused(world):
    admin = world["people"]["customer_admin"]
    _running_contract(world, admin, world["orgs"]["customer_a"])
    request = _erasure(world, admin)
    with pytest.raises(ValidationError, match="letzte Administrator"):
        dsr_erase(actor=world["people"]["dpo"], request=request)
    admin.refresh_from_db()
    request.refresh_from_db()
    assert admin.is_active and request.state == RequestState.IN_PROGRESS
    # With a second administrator, the first can go.
    make_person(Role.CUSTOMER_ADMIN, world["orgs"]["customer_a"])
    assert dsr_erase(actor=world["people"]["dpo"], request=request).state == RequestState.DONE


def test_only_an_erasure_request_in_progress_by_a_handler(world):
    member = world["people"]["customer_member"]
    received = _erasure(world, member, start=False)
    with pytest.raises(ValidationError, match="in Bearbeitung"):
        dsr_erase(actor=world["people"]["dpo"], request=received)
    with pytest.raises(PermissionDenied):
        dsr_erase(actor=world["people"]["partner_support"], request=received)
    member.refresh_from_db()
    assert member.is_active


def test_the_admin_step_shows_the_preview_and_erases_after_confirming(world, verified_client):
    member = world["people"]["customer_member"]
    request = _erasure(world, member)
    client = verified_client(world["people"]["dpo"])
    page = client.get(reverse("admin:gdpr_datasubjectrequest_change", args=[request.pk]))
    url = reverse("admin:gdpr_datasubjectrequest_step", args=[request.pk, "loeschen"])
    assert url in page.text
    form = client.get(url)
    assert "portal.User" in form.text and "die Löschung ist endgültig" in form.text
    client.post(url, {})  # not confirmed: nothing happens
    member.refresh_from_db()
    assert member.is_active
    assert client.post(url, {"confirm": "on"}).status_code == 302
    member.refresh_from_db()
    assert not member.is_active
    # Not offered for other kinds of request.
    access = dsr_create(actor=world["people"]["dpo"], kind=RequestKind.ACCESS,
                        channel=RequestChannel.EMAIL, received_on=date.today(),
                        requester_name="X", requester_email="x@example.org")
    assert client.get(reverse("admin:gdpr_datasubjectrequest_step",
                              args=[access.pk, "loeschen"])).status_code == 403


def test_an_erasure_request_with_an_account_is_not_closed_by_hand(world, verified_client):
    from gdpr.services.requests import dsr_close

    member = world["people"]["customer_member"]
    request = _erasure(world, member)
    with pytest.raises(ValidationError, match="Löschung ausführen"):
        dsr_close(actor=world["people"]["dpo"], request=request, outcome="erledigt")
    request.refresh_from_db()
    assert request.state == RequestState.IN_PROGRESS
    page = verified_client(world["people"]["dpo"]).get(
        reverse("admin:gdpr_datasubjectrequest_change", args=[request.pk]))
    assert "schritt/loeschen/" in page.content.decode()
    assert "schritt/abschliessen/" not in page.content.decode()


def _hold(world, customer, **record):
    from django.db import transaction

    from gdpr.services.holds import legal_hold_place

    with transaction.atomic():
        return legal_hold_place(actor=world["people"]["dpo"], customer=customer,
                                reason="Rechtsstreit", **record)


HELD = ("Für Kunde A besteht eine Aufbewahrungssperre (Legal Hold); die Löschung ist bis zu "
        "ihrer Aufhebung ausgesetzt (Art. 17 Abs. 3 lit. e DSGVO).")


def test_a_person_of_a_customer_under_a_legal_hold_is_not_erased(world, verified_client):
    from django.db import transaction

    from gdpr.services.holds import legal_hold_release

    dpo, member = world["people"]["dpo"], world["people"]["customer_member"]
    hold = _hold(world, world["orgs"]["customer_a"])
    request = _erasure(world, member)
    with pytest.raises(ValidationError) as exc:
        dsr_erase(actor=dpo, request=request)
    assert exc.value.messages == [HELD]
    member.refresh_from_db()
    request.refresh_from_db()
    assert member.is_active and request.state == RequestState.IN_PROGRESS
    assert not AuditEvent.objects.filter(action="privacy.person_erased").exists()
    # The admin's step page says why before anyone confirms.
    url = reverse("admin:gdpr_datasubjectrequest_step", args=[request.pk, "loeschen"])
    client = verified_client(dpo)
    assert HELD in client.get(url).text
    assert client.post(url, {"confirm": "on"}).status_code == 200
    member.refresh_from_db()
    assert member.is_active
    # Released, the erasure goes ahead.
    with transaction.atomic():
        legal_hold_release(actor=dpo, hold=hold, reason="Verfahren beendet")
    assert dsr_erase(actor=dpo, request=request).state == RequestState.DONE


def test_a_former_member_of_a_held_customer_is_not_erased_either(world):
    from portal.models import Membership

    dpo, member = world["people"]["dpo"], world["people"]["customer_member"]
    request = _erasure(world, member)  # the request names customer A
    assert request.customer == world["orgs"]["customer_a"]
    Membership.objects.filter(user=member).delete()  # left the customer since
    _hold(world, world["orgs"]["customer_a"])
    with pytest.raises(ValidationError) as exc:
        dsr_erase(actor=dpo, request=request)
    assert exc.value.messages == [HELD]


def test_a_hold_of_another_customer_or_of_one_record_does_not_stop_the_erasure(world):
    customer = world["orgs"]["customer_a"]
    _hold(world, world["orgs"]["customer_b"])
    _hold(world, customer, model_label="devices.Device",
          object_id=str(DeviceFactory(customer=customer).pk))
    request = _erasure(world, world["people"]["customer_member"])
    assert dsr_erase(actor=world["people"]["dpo"], request=request).state == RequestState.DONE
