"""Registry completeness of the person export (issue 11 item 2): a person with data in every
registered model finds every entry's JSON in the ZIP with at least one row, and the PDF
summary names them."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress, EmailConfirmation
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from pypdf import PdfReader

from contracts.catalogue import plans_seed
from contracts.models import Contract, PlanPriceChange, SpecialTerminationOffer
from contracts.services import booking_create
from devices.models import DeviceImport
from gdpr.exports import PDF_NAME, README_NAME, entry_file_name
from gdpr.models import (
    AvvAcceptance,
    AvvStatus,
    AvvVersion,
    CustomerExport,
    DataProvisionOrder,
    DataSubjectRequest,
    LegalHold,
    ObjectionCase,
    ProcessingRecord,
    ProcessingReview,
    RecordKind,
    SubProcessor,
)
from gdpr.services.exports import person_export_build, person_export_start
from portal.models import AccessLogEntry, ChangeNotice, Document, User
from portal.notifications.models import Notification
from portal.privacy import entries
from tests.factories import DeviceFactory

#: Registered models this test cannot give the person a row in, with the reason; a new entry
#: without a row here fails the test until it is added.
NOT_FILLED: dict[str, str] = {
    "contracts.BookingPrice": "amounts and dates, no people: registered only so that it is "
                              "retained with its booking (person: no rows)",
}


def _notice(customer, person, **fields) -> ChangeNotice:
    return ChangeNotice.objects.create(
        customer=customer, kind="price_increase", title="Preisänderung", text="t", window="4w",
        received_on=date(2027, 4, 8), effective_on=date(2027, 6, 1), deadline=date(2027, 5, 7),
        created_by=person, **fields)


def person_in_every_model(world, client) -> User:
    """The customer admin of customer A with a row in every registered model."""
    person = world["people"]["customer_admin"]  # account, membership, addresses, 2FA
    customer = world["orgs"]["customer_a"]
    now = timezone.now()
    client.force_login(person)  # a session
    EmailConfirmation.objects.create(email_address=EmailAddress.objects.get(user=person),
                                     key="k" * 20, created=now)
    device = DeviceFactory(customer=customer, created_by=person)
    plan = {p.code: p for p in plans_seed()}["mc-standard"]
    with transaction.atomic():  # booking, contract, audit events, notification
        booking_create(actor=person, customer=customer, plan=plan, devices=[device])
    Contract.objects.filter(customer=customer).update(cancelled_by=person)
    DeviceImport.objects.create(customer=customer, created_by=person, file_name="inventar.csv",
                                file_format="csv", file_size=1, file_sha256="0" * 64)
    AccessLogEntry.objects.create(user=person, organisation=customer, method="GET",
                                  path="/geraete/", status_code=200, ip_address="192.0.2.7")
    if not Notification.objects.filter(recipient=person).exists():
        Notification.objects.create(recipient=person, email=person.email, event="test",
                                    template="test", language="de", customer=customer)
    LogEntry.objects.create(user=person, content_type=ContentType.objects.get_for_model(User),
                            object_id=str(person.pk), object_repr=str(person),
                            action_flag=CHANGE, change_message="")
    Document.objects.create(customer=customer, kind="contract_summary", title="Vertrag",
                            filename="vertrag.pdf", file="documents/vertrag.pdf",
                            sha256="0" * 64, size=1, created_at=now, created_by=person)
    change = PlanPriceChange.objects.create(
        plan=plan, kind="increase", old_price=Decimal("8.00"), new_price=Decimal("9.00"),
        effective_on=date(2027, 6, 1), announced_on=date(2027, 4, 8), announced_by=person)
    SpecialTerminationOffer.objects.create(
        price_change=change,
        notice=_notice(customer, person, decision="objected", decided_at=now),
        customer=customer, offered_on=date(2027, 6, 1), exercised_by=person)
    ObjectionCase.objects.create(customer=customer, notice=_notice(customer, person),
                                 opened_at=now, resolved_by=person)
    record = ProcessingRecord.objects.create(
        kind=RecordKind.PROCESSOR, customer=customer, name="Auftrag", purposes="p",
        legal_basis="l", data_categories="d", subject_categories="s", retention="r",
        next_review_due=date(2027, 1, 1))
    ProcessingReview.objects.create(record=record, reviewed_on=date(2026, 1, 1),
                                    outcome="unchanged", reviewer=person)
    version = AvvVersion.objects.create(label="2026-x", status=AvvStatus.PUBLISHED,
                                        published_at=now, sha256="a" * 64, published_by=person)
    AvvAcceptance.objects.create(customer=customer, version=version, accepted_at=now,
                                 sha256="a" * 64, person=person, ip="192.0.2.7")
    SubProcessor.objects.create(name="Rechenzentrum AG", service="s", location="l",
                                country="DE", data_categories="d", valid_from=date(2026, 1, 1),
                                created_by=person)
    DataSubjectRequest.objects.create(
        kind="access", channel="portal", subject=person, customer=customer,
        requester_name=person.get_full_name(), requester_email=person.email,
        received_on=date(2026, 1, 5), deadline=date(2026, 2, 5), state="identity_checked",
        created_by=person)
    CustomerExport.objects.create(customer=customer, requested_by=person)
    DataProvisionOrder.objects.create(
        customer=customer, ordered_by=person, ordered_on=date(2026, 11, 2),
        contract_end=date(2027, 1, 31), wanted_by=date(2026, 12, 15), scope="alles als CSV")
    LegalHold.objects.create(customer=customer, reason="Rechtsstreit", placed_by=person)
    from portal.support.services import ticket_create, ticket_reply

    ticket = ticket_create(actor=person, customer=customer, location="Büro",
                           description="Drucker", occurred_at=now, priority="2",
                           reproducible=True, device=device)
    ticket_reply(actor=person, ticket=ticket, body="Noch da?")
    return person


@pytest.mark.django_db
def test_every_registered_model_is_in_the_zip_with_the_persons_rows(world, client):
    person = person_in_every_model(world, client)
    with transaction.atomic():
        export = person_export_start(actor=person, request=DataSubjectRequest.objects.get())
    export = person_export_build(export_id=export.pk)
    assert export.state == "done", export.error

    archive = zipfile.ZipFile(io.BytesIO(export.file.open("rb").read()))
    names = set(archive.namelist())
    empty = []
    for entry in entries:
        assert entry_file_name(entry) in names, entry.model
        rows = json.loads(archive.read(entry_file_name(entry)).decode("utf-8"))
        if not rows and entry.model not in NOT_FILLED:
            empty.append(entry.model)
    assert empty == [], f"no rows of the person exported for {empty}"
    assert set(NOT_FILLED) <= {entry.model for entry in entries}  # no stale excuses

    assert README_NAME in names and PDF_NAME in names
    assert "devices.Device.json" in archive.read(README_NAME).decode("utf-8")
    pdf = PdfReader(io.BytesIO(archive.read(PDF_NAME)))
    text = " ".join(" ".join(page.extract_text() for page in pdf.pages).split())
    assert person.get_full_name() in text and person.email in text
    assert "Geräte" in text and "Kategorien personenbezogener Daten" in text

    users = json.loads(archive.read("portal.User.json"))
    assert users[0]["email"] == person.email
    assert users[0]["date_joined"][:4].isdigit() and "T" in users[0]["date_joined"]  # ISO
