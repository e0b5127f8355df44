"""The end of a contract (DOMAIN § 5, 003 § 24): the e-mail when a termination is registered
(each of the three ways, once per end), the reminder 28 days before the end, the data
provision order (refused later than 30 days before the end) and the page
"Vertragsende & Daten"."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from contracts.services import (
    booking_create,
    booking_remove,
    booking_withdraw_removal,
    contract_cancel,
    contract_terminate_extraordinary,
)
from gdpr.models import DataProvisionOrder
from gdpr.models.contract_end import ContractEndMail, ContractEndMailKind, ProvisionState
from gdpr.services.contract_end import (
    contract_end_reminders_send,
    provision_order_create,
    provision_order_done,
)
from portal.models import AuditEvent
from tests.contracts.test_services import at
from tests.factories import DeviceFactory
from tests.outbox import deliver_queued

PAGE = reverse("gdpr:contract_end")
REGISTERED = "bitte sichern Sie Ihre Daten"
REMINDER = "Erinnerung: Ihr Vertrag endet"


@pytest.fixture
def customer(world):
    return world["orgs"]["customer_a"]


@pytest.fixture
def admin(world):
    return world["people"]["customer_admin"]


def book(admin, customer, plan, *, count=1, day=date(2026, 3, 10)):
    with at(day), transaction.atomic():
        return booking_create(actor=admin, customer=customer, plan=plan,
                              devices=[DeviceFactory(customer=customer, kind="workstation")
                                       for _i in range(count)])


def cancelled(admin, customer, catalogue, day=date(2026, 6, 1)):
    """Managed Client Standard (12 months) booked 2026-03-10, cancelled 2026-06-01: the
    contract ends 2027-03-31."""
    bookings = book(admin, customer, catalogue["mc-standard"])
    with at(day), transaction.atomic():
        return contract_cancel(actor=admin, contract=bookings[0].contract)


def mails(subject_part: str) -> list:
    deliver_queued()
    return [m for m in mail.outbox if subject_part in m.subject]


def assert_dates(message, *, end, kept, purge, order_by, order_open=True):
    """The dates in the body; the provision order is offered until its deadline, after it the
    mail says it had to be ordered by then."""
    body = message.body
    order = (f"bis spätestens {order_by}" if order_open
             else f"war bis zum {order_by} zu beauftragen")
    for text in (f"Vertragsende: {end}", f"aufbewahrt bis: {kept}",
                 f"Löschung aller Daten am: {purge}", order,
                 "http://testserver" + PAGE if "testserver" in body else PAGE):
        assert text in body, (text, body)


# --- the e-mail when the termination is registered ---------------------------------------------

def test_a_customer_cancellation_mails_its_admins_once_with_the_dates(world, catalogue,
                                                                      customer, admin):
    cancelled(admin, customer, catalogue)
    sent = mails(REGISTERED)
    assert len(sent) == 1 and sent[0].to == [admin.email]
    assert "31.03.2027" in sent[0].subject
    assert_dates(sent[0], end="31.03.2027", kept="26.05.2027", purge="27.05.2027",
                 order_by="01.03.2027")
    assert "Vertragsende & Daten" in sent[0].body
    record = ContractEndMail.objects.get()
    assert (record.kind, record.contract_end, record.recipients) == (
        ContractEndMailKind.REGISTERED, date(2027, 3, 31), 1)
    assert AuditEvent.objects.filter(action="contract_end.mailed").count() == 1


def test_a_provider_termination_mails_the_customer_admins(world, catalogue, customer, admin):
    bookings = book(admin, customer, catalogue["mc-standard"])
    with at(date(2026, 6, 1)), transaction.atomic():
        contract_terminate_extraordinary(actor=world["people"]["provider_staff"],
                                         contract=bookings[0].contract, end=date(2026, 9, 30),
                                         reason="Zahlungsverzug")
    sent = mails(REGISTERED)
    assert len(sent) == 1 and sent[0].to == [admin.email]
    assert_dates(sent[0], end="30.09.2026", kept="25.11.2026", purge="26.11.2026",
                 order_by="31.08.2026")


def test_removing_the_last_booking_is_a_termination_and_a_new_end_mails_again(
        world, catalogue, customer, admin):
    first, second = book(admin, customer, catalogue["av"], count=2)
    with at(date(2026, 6, 1)), transaction.atomic():
        booking_remove(actor=admin, booking=first)
    assert mails(REGISTERED) == [] and not ContractEndMail.objects.exists()  # one still runs
    with at(date(2026, 6, 1)), transaction.atomic():
        booking_remove(actor=admin, booking=second)
    sent = mails(REGISTERED)
    assert len(sent) == 1
    assert_dates(sent[0], end="30.06.2026", kept="25.08.2026", purge="26.08.2026",
                 order_by="31.05.2026", order_open=False)
    # Withdrawn and removed again the same day: the same end, no second e-mail.
    with at(date(2026, 6, 1)), transaction.atomic():
        booking_withdraw_removal(actor=admin, booking=second)
    with at(date(2026, 6, 1)), transaction.atomic():
        booking_remove(actor=admin, booking=second)
    assert len(mails(REGISTERED)) == 1
    # Withdrawn and removed later, with another end: told again.
    with at(date(2026, 6, 2)), transaction.atomic():
        booking_withdraw_removal(actor=admin, booking=second)
    with at(date(2026, 6, 20)), transaction.atomic():
        booking_remove(actor=admin, booking=second)
    sent = mails(REGISTERED)
    assert len(sent) == 2 and "31.07.2026" in sent[1].subject
    assert sorted(ContractEndMail.objects.values_list("contract_end", flat=True)) == [
        date(2026, 6, 30), date(2026, 7, 31)]


def _html(message) -> str:
    (html, mimetype), = message.alternatives
    assert mimetype == "text/html"
    return html


def test_the_mail_says_how_the_end_came_about(world, catalogue, customer, admin):
    """A removed last booking is no cancelled contract: the mail says the contract ends with
    that booking unless something is booked again or the removal withdrawn (text and HTML)."""
    (booking,) = book(admin, customer, catalogue["av"])
    with at(date(2026, 6, 1)), transaction.atomic():
        booking_remove(actor=admin, booking=booking)
    removed = (f"Sie haben die letzte gebuchte Leistung von {customer.name} gekündigt. Damit "
               "endet Ihr Vertrag am 30.06.2026, wenn Sie bis dahin nichts neu buchen oder die "
               "Kündigung zurücknehmen.")
    cancelled_text = f"die Kündigung des Vertrags von {customer.name} ist erfasst."
    (sent,) = mails(REGISTERED)
    for part in (sent.body, _html(sent)):
        assert removed in part and cancelled_text not in part, part
    other = world["orgs"]["customer_b"]
    other_admin = world["people"]["customer_admin_b"]
    cancelled(other_admin, other, catalogue)
    (sent,) = [m for m in mails(REGISTERED) if m.to == [other_admin.email]]
    for part in (sent.body, _html(sent)):
        assert f"die Kündigung des Vertrags von {other.name} ist erfasst." in part, part
        assert "letzte gebuchte Leistung" not in part


# --- the reminder 28 days before the end -------------------------------------------------------

def test_the_reminder_goes_on_the_day_once_and_never_after_the_end(world, catalogue, customer,
                                                                   admin):
    cancelled(admin, customer, catalogue)  # ends 2027-03-31, reminder on 2027-03-03
    with at(date(2027, 3, 2)):
        assert contract_end_reminders_send() == 0
    with at(date(2027, 3, 3)):
        assert contract_end_reminders_send() == 1
        assert contract_end_reminders_send() == 0  # idempotent
    with at(date(2027, 3, 4)):
        assert contract_end_reminders_send() == 0
    sent = mails(REMINDER)
    assert len(sent) == 1 and sent[0].to == [admin.email]
    assert_dates(sent[0], end="31.03.2027", kept="26.05.2027", purge="27.05.2027",
                 order_by="01.03.2027", order_open=False)
    assert "in 28 Tagen endet der Vertrag von Kunde A" in sent[0].body
    assert ContractEndMail.objects.filter(kind=ContractEndMailKind.REMINDER).count() == 1


def test_a_missed_reminder_day_is_caught_up_but_not_after_the_end(world, catalogue, customer,
                                                                  admin):
    cancelled(admin, customer, catalogue)
    with at(date(2027, 3, 20)):
        assert contract_end_reminders_send() == 1
    ContractEndMail.objects.filter(kind=ContractEndMailKind.REMINDER).delete()
    with at(date(2027, 4, 1)):
        assert contract_end_reminders_send() == 0


def test_no_reminder_when_the_termination_itself_came_within_the_28_days(world, catalogue,
                                                                         customer, admin):
    bookings = book(admin, customer, catalogue["mc-standard"])
    with at(date(2026, 9, 20)), transaction.atomic():
        contract_terminate_extraordinary(actor=world["people"]["provider_staff"],
                                         contract=bookings[0].contract, end=date(2026, 9, 30),
                                         reason="Zahlungsverzug")
    with at(date(2026, 9, 21)):
        assert contract_end_reminders_send() == 0


# --- data provision order (003 § 24.3) ----------------------------------------------------------

def _order(admin, customer, **fields):
    values = {"wanted_by": date(2027, 3, 20), "scope": "Alle Geräte als CSV",
              "delivery": "Download-Link", **fields}
    with transaction.atomic():
        return provision_order_create(actor=admin, customer=customer, **values)


def test_a_provision_order_is_taken_on_the_last_day_and_refused_the_day_after(
        world, catalogue, customer, admin):
    cancelled(admin, customer, catalogue)  # ends 2027-03-31: order by 2027-03-01
    with at(date(2027, 3, 1)):
        order = _order(admin, customer)
    assert (order.state, order.contract_end, order.ordered_on) == (
        ProvisionState.ORDERED, date(2027, 3, 31), date(2027, 3, 1))
    staff = mails("Datenbereitstellung beauftragt")
    assert {m.to[0] for m in staff} == {world["people"]["provider_admin"].email,
                                        world["people"]["provider_staff"].email}
    assert "Alle Geräte als CSV" in staff[0].body
    with at(date(2027, 3, 2)), pytest.raises(ValidationError) as refused:
        _order(admin, customer)
    assert "mindestens 30 Tage vor dem Vertragsende beauftragt werden: bis zum 01.03.2027" in \
        refused.value.messages[0]
    assert DataProvisionOrder.objects.count() == 1


def test_a_provision_order_needs_a_termination_the_admin_and_a_date_before_the_end(
        world, catalogue, customer, admin):
    book(admin, customer, catalogue["mc-standard"])
    with at(date(2026, 6, 1)), pytest.raises(ValidationError, match="keine Kündigung erfasst"):
        _order(admin, customer)
    cancelled_contract = customer.contract
    with at(date(2026, 6, 1)), transaction.atomic():
        contract_cancel(actor=admin, contract=cancelled_contract)
    with at(date(2026, 6, 2)):
        with pytest.raises(PermissionDenied):
            _order(world["people"]["customer_member"], customer)
        with pytest.raises(ValidationError) as late:
            _order(admin, customer, wanted_by=date(2027, 4, 1))
        assert "wanted_by" in late.value.message_dict
        with pytest.raises(ValidationError) as past:
            _order(admin, customer, wanted_by=date(2026, 6, 1))
        assert "wanted_by" in past.value.message_dict
    assert not DataProvisionOrder.objects.exists()


def test_provider_staff_mark_an_order_done_once(world, catalogue, customer, admin):
    cancelled(admin, customer, catalogue)
    with at(date(2026, 7, 1)):
        order = _order(admin, customer)
    with pytest.raises(PermissionDenied):
        provision_order_done(actor=admin, order=order)
    done = provision_order_done(actor=world["people"]["provider_staff"], order=order,
                                note="per Link übergeben")
    assert done.state == ProvisionState.DONE and done.handled_by == world["people"][
        "provider_staff"]
    assert AuditEvent.objects.filter(action="provision_order.done").count() == 1
    with pytest.raises(ValidationError, match="bereits abgeschlossen"):
        provision_order_done(actor=world["people"]["provider_staff"], order=order)


# --- the page ----------------------------------------------------------------------------------

def test_the_page_is_in_the_navigation_only_while_the_contract_ends(world, catalogue, customer,
                                                                    admin, verified_client):
    book(admin, customer, catalogue["mc-standard"])
    client = verified_client(admin)
    with at(date(2026, 6, 1)):
        assert f'href="{PAGE}"' not in client.get(reverse("portal:dashboard")).content.decode()
        with transaction.atomic():
            contract_cancel(actor=admin, contract=customer.contract)
        assert f'href="{PAGE}"' in client.get(reverse("portal:dashboard")).content.decode()
        body = client.get(PAGE).content.decode()
    for text in ("31.03.2027", "26.05.2027", "27.05.2027", "01.03.2027", "Datenexport erstellen",
                 "Bereitstellung beauftragen"):
        assert text in body, text


@pytest.mark.parametrize("who", ["customer_member", "partner_support", "provider_staff"])
def test_the_page_is_only_for_customer_admins(world, verified_client, who):
    assert verified_client(world["people"][who]).get(PAGE).status_code == 404


def test_the_form_shows_german_errors_and_saves_nothing(world, catalogue, customer, admin,
                                                        verified_client):
    cancelled(admin, customer, catalogue)
    client = verified_client(admin)
    with at(date(2026, 7, 1)):
        response = client.post(PAGE, {"scope": "", "wanted_by": "kein Datum"})
        assert response.status_code == 400
        body = response.content.decode()
        assert "Bitte beschreiben Sie Umfang und Format." in body
        assert "Bitte geben Sie ein gültiges Datum an." in body
        response = client.post(PAGE, {"scope": "Alles", "wanted_by": "2027-05-01"})
        assert response.status_code == 400
        assert "spätestens zum Vertragsende" in response.content.decode()
        assert not DataProvisionOrder.objects.exists()
        response = client.post(PAGE, {"scope": "Alles", "wanted_by": "2027-03-15"})
        assert response.status_code == 302
    assert DataProvisionOrder.objects.get().wanted_by == date(2027, 3, 15)
    with at(date(2027, 3, 2)):
        body = verified_client(admin).get(PAGE).content.decode()
    assert "bis zum 01.03.2027" in body and "Alles" in body  # refused now, the order listed


def test_page_queries_do_not_grow_with_exports_and_orders(world, catalogue, customer, admin,
                                                          verified_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gdpr.models import CustomerExport

    cancelled(admin, customer, catalogue)
    client = verified_client(admin)

    def count() -> int:
        client.get(PAGE)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(PAGE).status_code == 200
        return len(queries)

    def add(n):
        for _i in range(n):
            CustomerExport.objects.create(customer=customer, requested_by=admin, state="done")
            DataProvisionOrder.objects.create(
                customer=customer, ordered_by=admin, ordered_on=date(2026, 7, 1),
                contract_end=date(2027, 3, 31), wanted_by=date(2027, 3, 1), scope="x")

    with at(date(2026, 7, 1)):
        add(1)
        small = count()
        add(9)
        large = count()
    assert small == large
