"""Contract documents: the booking confirmation PDF attached to the booking e-mail, and the
contract summary downloaded from the contract page."""

from __future__ import annotations

import os
from datetime import date

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from contracts.documents import BOOKING_CONFIRMATION, CONTRACT_SUMMARY
from contracts.models import Contract
from portal.documents.models import Document
from portal.models import AccessLogEntry
from portal.notifications.models import Notification
from portal.notifications.service import notification_send
from portal.roles import Role
from tests.concurrency import run_at_once
from tests.contracts.test_services import at, book, workstation
from tests.factories import make_person
from tests.outbox import deliver_queued
from tests.pdf import pdf_fonts, pdf_mapped_characters, pdf_streams


@pytest.fixture
def customer(world):
    customer = world["orgs"]["customer_a"]
    customer.name, customer.street = "Müller & Söhne GmbH", "Königstraße 5"
    customer.save(update_fields=["name", "street"])
    return customer


def _booked(world, customer, catalogue, devices: int = 1):
    """The customer's admin books mc-basis on ``devices`` workstations on 10 March 2026."""
    with at(date(2026, 3, 10)):
        return book(world["people"]["customer_admin"], customer, catalogue["mc-basis"],
                    [workstation(customer) for _ in range(devices)], date(2026, 3, 10))


def _attachments(message) -> list[tuple[str, bytes, str]]:
    return [attachment for attachment in message.attachments
            if not isinstance(attachment, str)]


def test_booking_email_carries_the_confirmation_pdf_made_once(world, catalogue, customer):
    staff = world["people"]["provider_staff"]  # on behalf: the actor and the admins are told
    second_admin = make_person(Role.CUSTOMER_ADMIN, customer)
    with at(date(2026, 3, 10)):
        bookings = book(staff, customer, catalogue["mc-basis"],
                        [workstation(customer), workstation(customer)], date(2026, 3, 10))
    assert deliver_queued() == 3
    [document] = Document.objects.all()
    assert document.kind == BOOKING_CONFIRMATION
    assert document.customer == customer and document.created_by == staff
    assert document.retain_until == date(2032, 12, 31)
    stored = document.file.open("rb").read()
    for message in mail.outbox:
        [(name, content, mimetype)] = _attachments(message)
        assert (name, mimetype) == (document.filename, "application/pdf")
        assert content == stored
        assert "Die Buchungsbestätigung liegt dieser E-Mail als PDF bei." in message.body
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [staff.email, second_admin.email, world["people"]["customer_admin"].email])
    assert document.filename.startswith("Buchungsbestaetigung-") and \
        document.filename.endswith("-2026-03-10.pdf")
    assert b"pdfaid:part" in pdf_streams(stored)
    assert pdf_fonts(stored) <= {"Portal-Sans", "Portal-Sans-Bold"}
    # The customer's name and the notice rule's words: umlauts drawn from the bundled font.
    assert {"ü", "ö", "ß", "&"} <= pdf_mapped_characters(stored)
    assert len(bookings) == 2


def _booked_on_behalf(world, customer, catalogue) -> list[int]:
    """Staff book on behalf: one ``notify`` call, three queued rows; their primary keys."""
    make_person(Role.CUSTOMER_ADMIN, customer)
    with at(date(2026, 3, 10)):
        book(world["people"]["provider_staff"], customer, catalogue["mc-basis"],
             [workstation(customer)], date(2026, 3, 10))
    rows = list(Notification.objects.order_by("pk").values_list("pk", flat=True))
    assert len(rows) == 3 and Notification.objects.values("batch").distinct().count() == 1
    return rows


def _one_document_for_the_batch() -> None:
    [document] = Document.objects.all()
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}
    assert all(ids == [document.pk]
               for ids in Notification.objects.values_list("document_ids", flat=True))


def test_rows_of_one_batch_sent_one_by_one_share_one_document(world, catalogue, customer):
    for pk in _booked_on_behalf(world, customer, catalogue):
        assert notification_send(pk) == "sent"
    _one_document_for_the_batch()
    assert len(mail.outbox) == 3


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"),
                    reason="DATABASE_URL is not set: the concurrent run needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_rows_of_one_batch_sent_at_once_make_the_document_once(world, catalogue, customer):
    """Two workers on two rows of one batch: the second waits for the first's document."""
    assert connection.vendor == "postgresql"
    first, second, third = _booked_on_behalf(world, customer, catalogue)
    results = run_at_once(lambda: notification_send(first), lambda: notification_send(second))
    assert results == ["sent", "sent"]
    assert notification_send(third) == "sent"
    _one_document_for_the_batch()


def test_confirmation_is_the_same_pdf_when_made_again(world, catalogue, customer):
    from contracts.documents import booking_confirmation_create

    admin = world["people"]["customer_admin"]
    bookings = _booked(world, customer, catalogue)
    deliver_queued()
    first = Document.objects.get()
    again = booking_confirmation_create(actor=admin, customer=customer, bookings=bookings,
                                        issued=first.created_at)
    assert again.sha256 == first.sha256


def test_contract_page_offers_the_summary_and_it_downloads(world, catalogue, customer,
                                                           verified_client):
    admin = world["people"]["customer_admin"]
    _booked(world, customer, catalogue)
    client = verified_client(admin)
    page = client.get(reverse("contracts:contract"))
    assert "Vertragsübersicht (PDF)" in page.content.decode()
    assert reverse("contracts:summary_pdf") in page.content.decode()
    response = client.post(reverse("contracts:summary_pdf"), follow=True)
    document = Document.objects.get(kind=CONTRACT_SUMMARY)
    assert response.redirect_chain == [(document.get_absolute_url(), 302)]
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert document.customer == customer and document.retain_until is None
    assert AccessLogEntry.objects.filter(path=document.get_absolute_url(),
                                         is_download=True).exists()


def test_staff_make_the_summary_of_the_customer_they_pick(world, catalogue, customer,
                                                          verified_client):
    _booked(world, customer, catalogue)
    client = verified_client(world["people"]["provider_staff"])
    page = client.get(reverse("contracts:contract"), {"kunde": customer.pk})
    assert f'name="kunde" value="{customer.pk}"' in page.content.decode()
    response = client.post(reverse("contracts:summary_pdf"), {"kunde": customer.pk})
    assert response.status_code == 302
    assert Document.objects.get(kind=CONTRACT_SUMMARY).customer == customer


def test_summary_of_a_customer_without_contract_or_of_another_customer_is_404(
        world, catalogue, customer, verified_client):
    client = verified_client(world["people"]["customer_admin_b"])
    assert client.post(reverse("contracts:summary_pdf")).status_code == 404
    _booked(world, customer, catalogue)
    partner_b = verified_client(world["people"]["partner_support_b"])
    assert partner_b.post(reverse("contracts:summary_pdf"),
                          {"kunde": customer.pk}).status_code == 404
    assert not Document.objects.filter(kind=CONTRACT_SUMMARY).exists()
    assert Contract.objects.count() == 1


def test_summary_is_not_made_by_get(world, verified_client, customer):
    client = verified_client(world["people"]["customer_admin"])
    assert client.get(reverse("contracts:summary_pdf")).status_code == 405
