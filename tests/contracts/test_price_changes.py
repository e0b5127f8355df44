"""Price changes of a plan through the real services: the notice and its deadline, once per
quarter, VAT and decreases, the effective date (dated prices for those who did not object, the
special termination for those who did), who may announce, and the admin view."""

from __future__ import annotations

import os
import uuid
from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.catalogue import plans_seed
from contracts.models import (
    Booking,
    BookingPrice,
    BookingState,
    Plan,
    PlanFamily,
    PlanPriceChange,
    PlanUnit,
    PriceChangeKind,
    PriceChangeState,
    SpecialTerminationOffer,
)
from contracts.price_admin import notices_url
from contracts.price_changes import (
    plan_price_change_announce,
    plan_price_changes_apply,
    special_termination_exercise,
)
from contracts.selectors import booking_price_on, booking_prices_on, special_termination_offers
from contracts.services import booking_create
from portal.change_notices.services import change_notice_object
from portal.models import AuditEvent, ChangeNotice
from portal.periods import BERLIN
from portal.registries import schedules
from tests.concurrency import run_at_once
from tests.factories import DeviceFactory
from tests.outbox import deliver_queued

ANNOUNCED = date(2027, 4, 8)  # a Thursday; the 28th day (2027-05-06) is Ascension Day
EFFECTIVE = date(2027, 6, 1)


def at(day: date, hour: int = 10):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, 0, tzinfo=BERLIN),
                               tick=False)


@pytest.fixture
def plan(db):
    return {p.code: p for p in plans_seed()}["mc-basis"]


@pytest.fixture
def bookings(world, plan):
    """Two workstations of customer A, one of customer B, booked in March 2027."""
    booked = {}
    with at(date(2027, 3, 1)):
        for key, admin in (("customer_a", "customer_admin"), ("customer_b", "customer_admin_b")):
            customer = world["orgs"][key]
            devices = [DeviceFactory(customer=customer, kind="workstation")
                       for _i in range(2 if key == "customer_a" else 1)]
            booked[key] = booking_create(actor=world["people"][admin], customer=customer,
                                         plan=plan, devices=devices)
    return booked


def announce(world, plan, *, day=ANNOUNCED, effective_on=EFFECTIVE, new_price="9.90",
             kind=PriceChangeKind.INCREASE, notice_kind="price_increase", actor="provider_staff"):
    with at(day):
        return plan_price_change_announce(
            actor=world["people"][actor], plan=plan, new_price=Decimal(new_price),
            effective_on=effective_on, kind=kind, notice_kind=notice_kind)


def test_increase_sends_a_notice_per_customer_with_the_hand_computed_deadline(
        world, plan, bookings):
    change = announce(world, plan)
    notices = ChangeNotice.objects.filter(subject_id=str(change.pk)).order_by("customer__name")
    assert [n.customer.name for n in notices] == ["Kunde A", "Kunde B"]
    # 08.04. + 4 weeks = Thursday 06.05.2027, Ascension Day -> Friday 07.05.2027 (BGB § 193).
    assert {n.deadline for n in notices} == {date(2027, 5, 7)}
    assert change.deadline == date(2027, 5, 7)
    assert all(n.kind == "price_increase" and n.effective_on == EFFECTIVE for n in notices)
    assert "9.90 EUR" in notices[0].text and "als angenommen" in notices[0].text
    assert change.old_price == plan.monthly_price and change.state == PriceChangeState.ANNOUNCED
    assert AuditEvent.objects.filter(action="plan.price_change_announced").count() == 1


def test_effective_date_not_before_the_end_of_the_objection_window(world, plan, bookings):
    with pytest.raises(ValidationError) as exc:
        announce(world, plan, effective_on=date(2027, 5, 7))
    assert "frühestens am Tag nach dem Ende der Widerspruchsfrist (07.05.2027)" in str(exc.value)
    assert "08.05.2027" in str(exc.value)
    assert not PlanPriceChange.objects.exists() and not ChangeNotice.objects.exists()
    assert announce(world, plan, effective_on=date(2027, 5, 8)).deadline == date(2027, 5, 7)


def test_second_increase_in_the_same_quarter_refused_next_quarter_allowed(
        world, plan, bookings):
    first = announce(world, plan, effective_on=date(2027, 5, 10))
    with at(date(2027, 5, 10)):
        plan_price_changes_apply()
    plan.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        announce(world, plan, day=date(2027, 5, 11), effective_on=date(2027, 6, 30),
                 new_price="11.00")
    message = str(exc.value)
    assert "Quartal 2/2027 bereits eine Preiserhöhung angekündigt" in message
    assert "am 08.04.2027, wirksam ab 10.05.2027" in message
    assert PlanPriceChange.objects.count() == 1
    second = announce(world, plan, day=date(2027, 5, 11), effective_on=date(2027, 7, 1),
                      new_price="11.00")
    assert second.old_price == first.new_price
    with at(date(2027, 7, 1)):
        plan_price_changes_apply()
    booking = bookings["customer_a"][0]
    assert [booking_price_on(booking, day) for day in (
        date(2027, 3, 2), date(2027, 5, 9), date(2027, 5, 10), date(2027, 6, 30),
        date(2027, 7, 1))] == [first.old_price, first.old_price, Decimal("9.90"),
                               Decimal("9.90"), Decimal("11.00")]
    assert booking.prices.count() == 3  # booked price, then each change


def test_vat_change_needs_no_window_and_no_notice(world, plan, bookings):
    with at(date(2027, 6, 20)):
        change = plan_price_change_announce(
            actor=world["people"]["provider_admin"], plan=plan, new_price=plan.monthly_price,
            effective_on=date(2027, 7, 1), kind=PriceChangeKind.VAT)
    assert change.deadline is None and change.notice_kind == ""
    assert not ChangeNotice.objects.exists()
    with at(date(2027, 7, 1)):
        assert plan_price_changes_apply()["changes"] == 1
    assert not BookingPrice.objects.exists()
    with pytest.raises(ValidationError, match="Nettopreis gleich"):
        announce(world, plan, day=date(2027, 7, 2), effective_on=date(2027, 7, 3),
                 kind=PriceChangeKind.VAT, new_price="99.00")


def test_decrease_applies_to_everyone_without_notice(world, plan, bookings):
    change = announce(world, plan, effective_on=date(2027, 4, 9), new_price="1.00",
                      kind=PriceChangeKind.DECREASE)
    assert not ChangeNotice.objects.exists()
    with at(date(2027, 4, 9)):
        plan_price_changes_apply()
    booking = bookings["customer_b"][0]
    assert booking_price_on(booking, date(2027, 4, 9)) == Decimal("1.00")
    assert change.booking_prices.count() == 6  # the booked price from the start, then 1.00
    booking.refresh_from_db()
    assert booking.monthly_price == Decimal("1.00")
    assert booking_price_on(booking, date(2027, 4, 8)) == change.old_price


def test_at_the_effective_date_non_objectors_get_the_dated_price_objectors_not(
        world, plan, bookings, django_capture_on_commit_callbacks):
    change = announce(world, plan)
    notice_b = ChangeNotice.objects.get(subject_id=str(change.pk), customer__name="Kunde B")
    with at(date(2027, 5, 3)):
        change_notice_object(actor=world["people"]["customer_admin_b"], notice=notice_b,
                             reason="zu teuer")
    old = plan.monthly_price
    with at(EFFECTIVE, hour=0), django_capture_on_commit_callbacks(execute=True):
        first = plan_price_changes_apply()
    with at(EFFECTIVE, hour=1):
        again = plan_price_changes_apply()
    assert first == {"changes": 1, "bookings": 2, "offers": 1}
    assert again == {"changes": 0, "bookings": 0, "offers": 0}
    a1, a2 = bookings["customer_a"]
    b1 = bookings["customer_b"][0]
    assert booking_price_on(a1, date(2027, 5, 31)) == old
    assert booking_price_on(a1, EFFECTIVE) == Decimal("9.90")
    assert booking_price_on(b1, EFFECTIVE) == old
    assert booking_prices_on([a1, a2, b1], EFFECTIVE) == {
        a1.pk: Decimal("9.90"), a2.pk: Decimal("9.90"), b1.pk: old}
    # Customer A's two bookings: the booked price from their start, the new one from 01.06.
    assert sorted(BookingPrice.objects.values_list("booking_id", "valid_from")) == sorted(
        [(a1.pk, a1.active_from), (a1.pk, EFFECTIVE), (a2.pk, a2.active_from),
         (a2.pk, EFFECTIVE)])
    a1.refresh_from_db()
    b1.refresh_from_db()
    assert (a1.monthly_price, b1.monthly_price) == (Decimal("9.90"), old)  # price in force
    plan.refresh_from_db()
    assert plan.monthly_price == Decimal("9.90")
    offer = SpecialTerminationOffer.objects.get()
    assert offer.customer == world["orgs"]["customer_b"] and not offer.customer_may_terminate
    # The objecting customer's admins see the offer and get an e-mail; others see nothing.
    with at(EFFECTIVE):
        offers = special_termination_offers(world["people"]["customer_admin_b"],
                                            world["orgs"]["customer_b"])
        assert [o.bookings for o in offers] == [[b1]]
        assert special_termination_offers(world["people"]["customer_admin"],
                                          world["orgs"]["customer_b"]) == []
    deliver_queued()
    sent = [m for m in mail.outbox if "bisherige Preise gelten weiter" in m.subject]
    assert [m.to for m in sent] == [[world["people"]["customer_admin_b"].email]]


def test_bulk_price_read_is_one_query(world, plan, bookings):
    announce(world, plan)
    with at(EFFECTIVE):
        plan_price_changes_apply()
    all_bookings = list(Booking.objects.all())
    with CaptureQueriesContext(connection) as queries:
        booking_prices_on(all_bookings, EFFECTIVE)
    assert len(queries) == 1


def _objected_offer(world, plan, notice_kind):
    effective = date(2027, 6, 10) if notice_kind == "price_change_2m" else EFFECTIVE
    change = announce(world, plan, notice_kind=notice_kind, effective_on=effective)
    notice = ChangeNotice.objects.get(subject_id=str(change.pk), customer__name="Kunde B")
    with at(date(2027, 5, 3)):
        change_notice_object(actor=world["people"]["customer_admin_b"], notice=notice,
                             reason="zu teuer")
    with at(effective):
        plan_price_changes_apply()
    return SpecialTerminationOffer.objects.get()


def test_special_termination_2m_both_sides_14_days(world, plan, bookings):
    offer = _objected_offer(world, plan, "price_change_2m")
    assert offer.customer_may_terminate
    with at(date(2027, 6, 10)):
        ended = special_termination_exercise(actor=world["people"]["customer_admin_b"],
                                             offer=offer)
    # Declared on the change date: 14 days' notice -> the services end on 24.06.2027.
    assert [(b.state, b.effective_end) for b in ended] == [
        (BookingState.ENDING, date(2027, 6, 24))]
    offer.refresh_from_db()
    assert offer.exercised_by == world["people"]["customer_admin_b"]
    with at(date(2027, 6, 11)), pytest.raises(ValidationError, match="bereits"):
        special_termination_exercise(actor=world["people"]["provider_staff"], offer=offer)


def test_special_termination_price_increase_only_by_the_provider(world, plan, bookings):
    offer = _objected_offer(world, plan, "price_increase")
    with at(date(2027, 6, 2)), pytest.raises(PermissionDenied):
        special_termination_exercise(actor=world["people"]["customer_admin_b"], offer=offer)
    with at(date(2027, 6, 2)):
        ended = special_termination_exercise(actor=world["people"]["provider_staff"],
                                             offer=offer)
    # The provider's ordinary notice: 3 months to the end of a month (02.06. -> 30.09.).
    assert [b.effective_end for b in ended] == [date(2027, 9, 30)]


@pytest.mark.parametrize("who", ["customer_admin", "partner_support", "customer_member", "dpo"])
def test_only_provider_staff_announce(world, plan, bookings, who):
    with pytest.raises(PermissionDenied):
        announce(world, plan, actor=who)
    assert not PlanPriceChange.objects.exists() and not ChangeNotice.objects.exists()


def test_daily_job_is_scheduled():
    job = schedules.get("contracts.price_changes_apply")
    assert job.func == "contracts.tasks.apply_due_price_changes"


# --- Admin ----------------------------------------------------------------------------------------

def _price_change_url(plan) -> str:
    return reverse("admin:contracts_plan_price_change", args=[plan.pk])


def test_admin_announces_through_a_confirmation_page(world, plan, bookings, verified_client):
    with at(ANNOUNCED):
        client = verified_client(world["people"]["provider_staff"])
        page = client.get(reverse("admin:contracts_plan_change", args=[plan.pk]))
        assert _price_change_url(plan) in page.content.decode()
        assert "monthly_price" not in page.context["adminform"].form.fields  # read-only now
        data = {"kind": "increase", "new_price": "9.90", "effective_on": "2027-06-01",
                "notice_kind": "price_increase", "note": ""}
        confirm = client.post(_price_change_url(plan), data)
        text = confirm.content.decode()
        assert confirm.status_code == 200 and "2 Kunden mit 3 laufenden Buchungen" in text
        assert "07.05.2027" in text and not PlanPriceChange.objects.exists()
        done = client.post(_price_change_url(plan), {**data, "confirmed": "yes"})
        assert done.status_code == 302
        change = PlanPriceChange.objects.get()
        assert ChangeNotice.objects.filter(subject_id=str(change.pk)).count() == 2
        changelist = client.get(reverse("admin:contracts_planpricechange_changelist"))
        assert f"subject_id={change.pk}" in changelist.content.decode()
        notices = client.get(notices_url(change))  # the state per customer
        assert notices.status_code == 200 and notices.context["cl"].result_count == 2


def test_admin_shows_a_refusal_and_changes_nothing(world, plan, bookings, verified_client):
    with at(ANNOUNCED):
        client = verified_client(world["people"]["provider_admin"])
        page = client.post(_price_change_url(plan), {
            "kind": "increase", "new_price": "9.90", "effective_on": "2027-05-01",
            "notice_kind": "price_increase", "confirmed": "yes"})
    assert page.status_code == 200 and "frühestens am Tag nach" in page.content.decode()
    assert not PlanPriceChange.objects.exists()


@pytest.mark.parametrize("who", ["partner_support", "customer_admin", "dpo"])
def test_admin_view_refused_to_others(world, plan, verified_client, who):
    client = verified_client(world["people"][who])
    response = client.get(_price_change_url(plan))
    assert response.status_code in (302, 403)


def _bulk_price_changes(count: int) -> None:
    plans = Plan.objects.bulk_create(
        Plan(code=f"bulk-{uuid.uuid4().hex[:10]}", name="Leistung", family=PlanFamily.ANTIVIRUS,
             tier="Standard", unit=PlanUnit.WORKSTATION, monthly_price=Decimal("5.00"))
        for _i in range(count))
    PlanPriceChange.objects.bulk_create(
        PlanPriceChange(plan=p, kind="increase", notice_kind="price_increase",
                        old_price=Decimal("5.00"), new_price=Decimal("6.00"),
                        effective_on=EFFECTIVE, announced_on=ANNOUNCED,
                        deadline=date(2027, 5, 7)) for p in plans)


def test_price_change_changelist_queries_flat(world, verified_client):
    client = verified_client(world["people"]["provider_admin"])
    url = reverse("admin:contracts_planpricechange_changelist")
    counts = []
    for rows in (10, 990):
        _bulk_price_changes(rows)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_contract_page_offers_the_special_termination_and_carries_it_out(
        world, plan, bookings, verified_client):
    offer = _objected_offer(world, plan, "price_change_2m")
    with at(date(2027, 6, 10)):
        client = verified_client(world["people"]["customer_admin_b"])
        page = client.get(reverse("contracts:contract")).content.decode()
        assert "Sonderkündigungsrecht nach Ihrem Widerspruch" in page and "24.06.2027" in page
        other = verified_client(world["people"]["customer_admin"])  # same client, other person
        assert "Sonderkündigungsrecht" not in other.get(reverse("contracts:contract")) \
            .content.decode()
        assert other.post(reverse("contracts:special_termination", args=[offer.pk])) \
            .status_code == 404
        client = verified_client(world["people"]["customer_admin_b"])
        done = client.post(reverse("contracts:special_termination", args=[offer.pk]))
        assert done.status_code == 302
        assert "Sonderkündigungsrecht nach" not in client.get(reverse("contracts:contract")) \
            .content.decode()
    booking = bookings["customer_b"][0]
    booking.refresh_from_db()
    assert (booking.state, booking.effective_end) == (BookingState.ENDING, date(2027, 6, 24))
    assert AuditEvent.objects.filter(action="price_change.special_termination").count() == 1


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"),
                    reason="DATABASE_URL is not set: the concurrent run needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_workers_apply_a_price_change_once(world, plan, bookings):
    assert connection.vendor == "postgresql"
    change = announce(world, plan)
    results = run_at_once(lambda: plan_price_changes_apply(today=EFFECTIVE),
                          lambda: plan_price_changes_apply(today=EFFECTIVE))
    assert sorted(r["changes"] for r in results) == [0, 1]
    assert change.booking_prices.count() == 6
    assert AuditEvent.objects.filter(action="plan.price_change_applied").count() == 1
