"""The contract self-service pages: catalogue, booking, removal, tier change, contract page."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.catalogue import plans_seed
from contracts.models import Booking, BookingState, Contract, ContractStatus, Plan
from contracts.services import booking_change_tier, booking_create
from portal.periods import BERLIN, notice_end
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db

BOOKED_AT = datetime(2026, 11, 20, 10, 0, tzinfo=BERLIN)


@pytest.fixture
def plans(db):
    return {plan.code: plan for plan in plans_seed()}


@pytest.fixture
def customer(world):
    return world["orgs"]["customer_a"]


@pytest.fixture
def admin(world):
    return world["people"]["customer_admin"]


def _book(actor, customer, plan, count=1, **device_kwargs):
    devices = [DeviceFactory(customer=customer, **device_kwargs) for _ in range(count)]
    return booking_create(actor=actor, customer=customer, plan=plan, devices=devices)


def _text(response) -> str:
    return response.content.decode()


# --- catalogue -------------------------------------------------------------------------------


def test_catalogue_shows_families_prices_and_rules(verified_client, world, plans):
    client = verified_client(world["people"]["customer_member"])
    response = client.get(reverse("contracts:catalogue"))
    assert response.status_code == 200
    body = _text(response)
    for text in ("Managed Client", "Server Management", "Anti-Virus Management",
                 "5,00 €", "8,00 €", "12,60 €", "149,00 €", "2,50 €",
                 "Automatische Softwareverteilung", "✓",
                 "12 Monate Mindestlaufzeit, danach monatlich; Kündigung 15 Tage zum Monatsende",
                 "12 Monate Mindestlaufzeit, danach jeweils um 12 Monate; "
                 "Kündigung 3 Monate zum Laufzeitende",
                 "Keine Mindestlaufzeit, Verlängerung monatlich; "
                 "Kündigung 15 Tage zum Monatsende"):
        assert text in body, text
    # A member reads, but gets no booking buttons.
    assert reverse("contracts:book") not in body


def test_catalogue_matrix_ticks_by_tier(verified_client, admin, plans):
    body = _text(verified_client(admin).get(reverse("contracts:catalogue")))
    row = body.split("Hardwaretausch am nächsten Werktag")[1].split("</tr>")[0]
    # Basis and Standard lack the hardware swap, Premium has it.
    assert row.count("nicht enthalten") == 2
    assert row.count(">✓<") == 1
    assert f"{reverse('contracts:book')}?plan=mc-standard" in body


# --- booking ---------------------------------------------------------------------------------


UNKNOWN_PLAN_TEXT = "Die gewählte Leistung gibt es nicht oder sie wird nicht mehr angeboten."


@pytest.mark.parametrize("code", ["gibt-es-nicht", "999", "<script>"])
def test_unknown_plan_in_the_link_is_named(verified_client, admin, plans, code):
    response = verified_client(admin).get(reverse("contracts:book"), {"plan": code},
                                          follow=True)
    assert response.status_code == 200
    assert UNKNOWN_PLAN_TEXT in _text(response)
    assert "<script>" not in _text(response).split("<main", 1)[-1]


def test_retired_plan_in_the_link_is_named(verified_client, admin, plans):
    Plan.objects.filter(code="mc-basis").update(is_active=False)
    body = _text(verified_client(admin).get(reverse("contracts:book"), {"plan": "mc-basis"}))
    assert UNKNOWN_PLAN_TEXT in body


@pytest.mark.parametrize("plan_value", ["999999", "kein-plan", ""])
def test_unknown_plan_in_the_form_is_named_and_nothing_is_booked(verified_client, admin,
                                                                 customer, plans, plan_value):
    device = DeviceFactory(customer=customer)
    response = verified_client(admin).post(reverse("contracts:book"), {
        "plan": plan_value, "devices": [device.pk], "confirm": "1"})
    assert response.status_code == 200
    assert UNKNOWN_PLAN_TEXT in _text(response)
    assert not Booking.objects.exists()


@time_machine.travel(BOOKED_AT, tick=False)
def test_booking_flow_end_to_end(verified_client, admin, customer, plans, world):
    pc1 = DeviceFactory(customer=customer, hostname="pc-eins")
    pc2 = DeviceFactory(customer=customer, hostname="pc-zwei")
    server = DeviceFactory(customer=customer, hostname="srv-eins", kind="server")
    retired = DeviceFactory(customer=customer, hostname="pc-alt",
                            retired_at=datetime(2026, 1, 1, tzinfo=BERLIN))
    foreign = DeviceFactory(customer=world["orgs"]["customer_b"], hostname="pc-fremd")
    plan = plans["mc-standard"]
    client = verified_client(admin)
    url = reverse("contracts:book")

    body = _text(client.get(url))
    assert "Managed Client Standard wählen" in body

    body = _text(client.get(url, {"plan": "mc-standard"}))
    assert "pc-eins" in body and "pc-zwei" in body
    for hidden in ("srv-eins", "pc-alt", "pc-fremd"):
        assert hidden not in body

    data = {"plan": plan.pk, "devices": [pc1.pk, pc2.pk]}
    response = client.post(url, data)
    assert response.status_code == 200
    body = _text(response)
    assert "16,00 €" in body
    assert "21.11.2026" in body  # active from the day after activation
    assert "20.11.2027" in body  # minimum term: 12 months from 21.11.2026
    earliest = notice_end(plan.notice_rule(), received=date(2026, 11, 20),
                          start=date(2026, 11, 21))
    assert earliest == date(2027, 11, 30)
    assert earliest.strftime("%d.%m.%Y") in body
    assert f'name="devices" value="{pc1.pk}"' in body
    assert not Booking.objects.exists()

    response = client.post(url, {**data, "confirm": "1"}, follow=True)
    assert response.status_code == 200
    bookings = Booking.objects.filter(customer=customer).order_by("device__hostname")
    assert [b.device.hostname for b in bookings] == ["pc-eins", "pc-zwei"]
    assert all(b.active_from == date(2026, 11, 21) for b in bookings)
    assert all(b.min_term_end == date(2027, 11, 20) for b in bookings)
    assert not any(b.on_behalf for b in bookings)
    assert "für 2 Geräte gebucht und ab 21.11.2026 aktiv" in _text(response)
    assert response.redirect_chain[-1][0] == reverse("contracts:contract")

    # The same confirmation again (double click, back button): no duplicate, a clear message.
    response = client.post(url, {**data, "confirm": "1"})
    assert response.status_code == 200
    assert "Vielleicht haben Sie die Buchung gerade schon abgeschickt" in _text(response)
    assert "hat bereits eine Leistung aus Managed Client" in _text(response)
    assert Booking.objects.count() == 2

    # Devices of other customers and unfitting devices are refused.
    response = client.post(url, {"plan": plan.pk, "devices": [foreign.pk]})
    assert "Auswahl" in _text(response) or "gültig" in _text(response)
    response = client.post(url, {"plan": plan.pk, "devices": [server.pk]})
    # The form explains with the service's reason (contracts.bookability.refusals).
    assert f"passt nicht zu {server.hostname} (Server)" in _text(response)
    assert Booking.objects.count() == 2
    assert retired.bookings.count() == 0


def test_isa_plan_is_refused_before_confirmation(verified_client, admin, customer, plans):
    server = DeviceFactory(customer=customer, kind="server")
    client = verified_client(admin)
    response = client.post(reverse("contracts:book"),
                           {"plan": plans["srv-plus"].pk, "devices": [server.pk]})
    assert "Infrastrukturanalyse" in _text(response)
    assert "Kostenpflichtig buchen" not in _text(response)


def test_partner_support_books_on_behalf_of_a_customer_it_sees(verified_client, world, plans):
    customer = world["orgs"]["customer_a"]
    device = DeviceFactory(customer=customer)
    client = verified_client(world["people"]["partner_support"])
    url = reverse("contracts:book")
    assert "Kunde wählen" in _text(client.get(url))
    assert "Kunde B" not in _text(client.get(url))
    response = client.post(url, {"kunde": customer.pk, "plan": plans["mc-basis"].pk,
                                 "devices": [device.pk], "confirm": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('contracts:contract')}?kunde={customer.pk}"
    assert Booking.objects.get().on_behalf
    # A customer of another partner is not there for it.
    other = world["orgs"]["customer_b"]
    assert client.get(url, {"kunde": other.pk}).status_code == 404


# --- removal, withdrawal, tier change ---------------------------------------------------------


def test_removal_preview_shows_the_end_and_confirm_sets_it(verified_client, admin, customer,
                                                          plans):
    with time_machine.travel(BOOKED_AT, tick=False):
        (booking,) = _book(admin, customer, plans["mc-standard"])
    received = date(2027, 3, 10)
    expected = notice_end(booking.notice_rule(), received=received, start=booking.term_start)
    assert expected == date(2027, 11, 30)
    url = reverse("contracts:remove", args=[booking.pk])
    with time_machine.travel(datetime(2027, 3, 10, 9, 0, tzinfo=BERLIN), tick=False):
        client = verified_client(admin)
        body = _text(client.get(url))
        assert "30.11.2027" in body
        assert "November 2027" in body  # the last billed month
        response = client.post(url, {"next": reverse("devices:detail",
                                                     args=[booking.device_id])})
    assert response.status_code == 302
    assert response["Location"] == reverse("devices:detail", args=[booking.device_id])
    booking.refresh_from_db()
    assert booking.state == BookingState.ENDING
    assert booking.effective_end == expected
    assert booking.removal_received == received

    # The device page lists it as cancelled with its end, and offers the withdrawal.
    with time_machine.travel(datetime(2027, 3, 11, 9, 0, tzinfo=BERLIN), tick=False):
        client = verified_client(admin)
        body = _text(client.get(reverse("devices:detail", args=[booking.device_id])))
        assert "Leistungen" in body and "30.11.2027" in body
        withdraw = reverse("contracts:withdraw", args=[booking.pk])
        assert withdraw in body
        assert client.get(withdraw).status_code == 405
        response = client.post(withdraw)
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.state == BookingState.ACTIVE and booking.effective_end is None


def test_external_next_is_ignored(verified_client, admin, customer, plans):
    (booking,) = _book(admin, customer, plans["mc-basis"])
    response = verified_client(admin).post(reverse("contracts:remove", args=[booking.pk]),
                                           {"next": "https://evil.example/"})
    assert response["Location"] == reverse("contracts:contract")


def test_change_tier(verified_client, admin, customer, plans):
    (booking,) = _book(admin, customer, plans["mc-basis"])
    client = verified_client(admin)
    url = reverse("contracts:change_tier", args=[booking.pk])
    body = _text(client.get(url))
    assert "Managed Client Premium" in body and "Server Management" not in body
    body = _text(client.post(url, {"plan": plans["mc-premium"].pk}))
    assert "7,60 €" in body  # the difference per month
    assert Booking.objects.count() == 1
    response = client.post(url, {"plan": plans["mc-premium"].pk, "confirm": "1"})
    assert response.status_code == 302
    successor = Booking.objects.get(state=BookingState.ACTIVE)
    assert successor.plan_name == "Managed Client Premium"
    assert successor.replaces_id == booking.pk
    assert successor.term_start == booking.term_start


# --- contract page and cancellation ----------------------------------------------------------


def test_contract_page_without_contract(verified_client, admin, plans):
    body = _text(verified_client(admin).get(reverse("contracts:contract")))
    assert "Noch kein Vertrag" in body
    assert reverse("contracts:book") in body
    assert "Rahmenvertrag kündigen" not in body


def test_contract_page_lists_bookings_total_and_rules(verified_client, admin, customer, plans):
    with time_machine.travel(BOOKED_AT, tick=False):
        _book(admin, customer, plans["mc-standard"], count=2)
        _book(admin, customer, plans["av"])
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN), tick=False):
        client = verified_client(admin)
        body = _text(client.get(reverse("contracts:contract")))
    for text in ("21.11.2026", "20.11.2027", "2026-01", "18,50 €", "Managed Client Standard",
                 "Anti-Virus Management", "Rahmenvertrag kündigen",
                 "12 Monate Mindestlaufzeit, danach monatlich; Kündigung 15 Tage zum Monatsende"):
        assert text in body, text


def _late_booking(admin, customer, plan):
    """A booking whose device sorts after every ``pc-…`` device: on the list's last page."""
    device = DeviceFactory(customer=customer, hostname="zz-letztes-geraet")
    return booking_create(actor=admin, customer=customer, plan=plan, devices=[device])[0]


def test_contract_page_lists_bookings_in_pages_with_totals_over_all_of_them(
        verified_client, admin, customer, plans):
    booked = _book(admin, customer, plans["mc-standard"], count=52)
    late = _late_booking(admin, customer, plans["av"])
    Booking.objects.filter(pk=booked[0].pk).update(state=BookingState.ENDED,
                                                   effective_end=date(2026, 1, 31))
    client = verified_client(admin)

    first = client.get(reverse("contracts:contract"))
    body = _text(first)
    assert len(first.context["rows"]) == 50
    assert "Seite 1 von 2" in body
    assert 'href="?page=2" rel="next"' in body
    assert late.device.hostname not in body
    # Totals and rules cover every booking, also those on the next page: 51 x 8,00 + 2,50;
    # the ended booking counts for neither.
    assert first.context["running"] == 52
    assert "410,50 €" in body
    assert "Anti-Virus Management" in dict(first.context["rules"])

    second = client.get(reverse("contracts:contract"), {"page": 2})
    body = _text(second)
    assert len(second.context["rows"]) == 3
    assert "Seite 2 von 2" in body and 'rel="prev"' in body
    assert late.device.hostname in body
    assert second.context["running"] == 52 and "410,50 €" in body
    # Actions started on page 2 come back to page 2.
    remove = reverse("contracts:remove", args=[late.pk])
    assert f"{remove}?next=/vertrag/%3Fpage%3D2" in body


def test_contract_page_for_staff_keeps_the_customer_across_pages(verified_client, world,
                                                                   customer, plans):
    _book(world["people"]["customer_admin"], customer, plans["mc-basis"], count=51)
    client = verified_client(world["people"]["partner_support"])
    body = _text(client.get(reverse("contracts:contract"), {"kunde": customer.pk}))
    assert f'href="?kunde={customer.pk}&amp;page=2" rel="next"' in body
    body = _text(client.get(reverse("contracts:contract"), {"kunde": customer.pk, "page": 2}))
    assert "Seite 2 von 2" in body
    assert f"?next=/vertrag/%3Fkunde%3D{customer.pk}%26page%3D2" in body


def test_contract_page_names_the_rule_of_each_running_plan_once(verified_client, admin,
                                                               customer, plans):
    """Bookings keep the rule they were booked under: a plan name whose bookings differ shows
    the rule of its first booking in the list; ended bookings give no rule."""
    older = _book(admin, customer, plans["mc-standard"], count=2)
    Booking.objects.filter(pk=older[1].pk).update(min_term="24m")
    (ended,) = _book(admin, customer, plans["mc-basis"])
    Booking.objects.filter(pk=ended.pk).update(state=BookingState.ENDED)
    rules = verified_client(admin).get(reverse("contracts:contract")).context["rules"]
    assert rules == [("Managed Client Standard",
                      "12 Monate Mindestlaufzeit, danach monatlich; "
                      "Kündigung 15 Tage zum Monatsende")]


def test_contract_cancellation_preview_and_confirm(verified_client, admin, customer, plans):
    with time_machine.travel(BOOKED_AT, tick=False):
        _book(admin, customer, plans["mc-standard"])
    url = reverse("contracts:cancel")
    with time_machine.travel(datetime(2027, 3, 10, 9, 0, tzinfo=BERLIN), tick=False):
        client = verified_client(admin)
        assert "30.11.2027" in _text(client.get(url))
        response = client.post(url, follow=True)
    assert "endet am 30.11.2027" in _text(response)
    contract = Contract.objects.get(customer=customer)
    assert contract.status == ContractStatus.ENDING
    assert contract.effective_end == date(2027, 11, 30)
    assert Booking.objects.get().state == BookingState.ENDING


# --- who may do what -------------------------------------------------------------------------


def test_member_reads_but_may_not_act(verified_client, world, customer, plans):
    admin = world["people"]["customer_admin"]
    (booking,) = _book(admin, customer, plans["mc-basis"])
    client = verified_client(world["people"]["customer_member"])
    body = _text(client.get(reverse("contracts:contract")))
    assert "Managed Client Basis" in body
    assert reverse("contracts:remove", args=[booking.pk]) not in body
    assert "Rahmenvertrag kündigen" not in body
    device = DeviceFactory(customer=customer)
    posts = [
        (reverse("contracts:book"), {"plan": plans["mc-basis"].pk, "devices": [device.pk],
                                     "confirm": "1"}),
        (reverse("contracts:remove", args=[booking.pk]), {}),
        (reverse("contracts:withdraw", args=[booking.pk]), {}),
        (reverse("contracts:change_tier", args=[booking.pk]),
         {"plan": plans["mc-premium"].pk, "confirm": "1"}),
        (reverse("contracts:cancel"), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert Booking.objects.count() == 1
    assert Booking.objects.get().state == BookingState.ACTIVE
    assert Contract.objects.get().status == ContractStatus.ACTIVE


def test_other_tenants_booking_is_not_found(verified_client, world, customer, plans):
    (booking,) = _book(world["people"]["customer_admin"], customer, plans["mc-basis"])
    client = verified_client(world["people"]["customer_admin_b"])
    for name in ("remove", "change_tier"):
        assert client.get(reverse(f"contracts:{name}", args=[booking.pk])).status_code == 404
    for name in ("remove", "withdraw", "change_tier"):
        assert client.post(reverse(f"contracts:{name}", args=[booking.pk])).status_code == 404
    assert "Noch kein Vertrag" in _text(client.get(reverse("contracts:contract")))
    assert Booking.objects.get().state == BookingState.ACTIVE


def test_dpo_reads_but_may_not_book(verified_client, world, plans):
    client = verified_client(world["people"]["dpo"])
    assert client.get(reverse("contracts:catalogue")).status_code == 200
    assert client.get(reverse("contracts:book")).status_code == 403


def test_nav_links_the_contract(verified_client, admin, plans):
    body = _text(verified_client(admin).get(reverse("devices:list")))
    assert f'href="{reverse("contracts:contract")}"' in body


# --- query budget ----------------------------------------------------------------------------


def _contract_page_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(reverse("contracts:contract"), params).status_code == 200
    return len(context.captured_queries)


def test_contract_page_queries_do_not_grow_with_bookings_or_pages(verified_client, world,
                                                                  plans):
    plan = plans["mc-standard"]
    small_customer = world["orgs"]["customer_a"]
    big_customer = world["orgs"]["customer_direct"]
    _book(world["people"]["customer_admin"], small_customer, plan, count=3)
    big = _book(world["people"]["customer_admin_direct"], big_customer, plan, count=120)
    Booking.objects.filter(pk__in=[b.pk for b in big[:5]]).update(
        state=BookingState.ENDING, effective_end=date(2099, 1, 31))
    Booking.objects.filter(pk__in=[b.pk for b in big[-5:]]).update(state=BookingState.ENDED)
    small = _contract_page_queries(verified_client(world["people"]["customer_admin"]))
    big_client = verified_client(world["people"]["customer_admin_direct"])
    pages = [_contract_page_queries(big_client, page=number) for number in (1, 2, 3)]
    assert pages == [small] * 3


def test_plan_catalogue_is_seeded(plans):
    assert Plan.objects.count() == 7


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_booking_page_queries_do_not_grow_with_devices(verified_client, world, plans):
    """The device choice of the booking page, at 3 and at 30 devices (some already booked)."""
    plan = plans["mc-standard"]
    url = f"{reverse('contracts:book')}?plan={plan.code}"
    small_admin = world["people"]["customer_admin"]
    large_admin = world["people"]["customer_admin_direct"]
    for _ in range(3):
        DeviceFactory(customer=world["orgs"]["customer_a"])
    for _ in range(25):
        DeviceFactory(customer=world["orgs"]["customer_direct"])
    _book(large_admin, world["orgs"]["customer_direct"], plans["mc-basis"], count=5)
    small = _queries(verified_client(small_admin), url)
    large = _queries(verified_client(large_admin), url)
    assert small == large


def test_device_page_queries_do_not_grow_with_bookings(verified_client, world, plans):
    """The device detail lists its bookings (ended tier changes included) without N+1."""
    customer = world["orgs"]["customer_a"]
    admin = world["people"]["customer_admin"]
    plain = DeviceFactory(customer=customer)
    booked = _book(admin, customer, plans["mc-basis"])[0]
    for code in ("mc-standard", "mc-premium", "mc-standard", "mc-basis"):
        booked = booking_change_tier(actor=admin, booking=booked, plan=plans[code])
    client = verified_client(admin)
    few = _queries(client, reverse("devices:detail", args=[plain.pk]))
    many = _queries(client, reverse("devices:detail", args=[booked.device_id]))
    assert few == many


def test_withdrawal_is_offered_only_where_the_service_allows_it(verified_client, admin, customer,
                                                               plans):
    """A removed booking offers "withdraw" on the contract and device pages; once the whole
    framework contract is cancelled, it does not (the service would refuse)."""
    from contracts.services import booking_remove, contract_cancel

    booking, other = _book(admin, customer, plans["mc-standard"], count=2)
    booking_remove(actor=admin, booking=booking)
    client = verified_client(admin)
    withdraw = reverse("contracts:withdraw", args=[booking.pk])
    device_page = reverse("devices:detail", args=[booking.device_id])
    assert withdraw in _text(client.get(reverse("contracts:contract")))
    assert withdraw in _text(client.get(device_page))

    contract_cancel(actor=admin, contract=booking.contract)
    assert withdraw not in _text(client.get(reverse("contracts:contract")))
    assert withdraw not in _text(client.get(device_page))


def test_no_withdrawal_after_the_providers_extraordinary_termination(verified_client, world,
                                                                     admin, customer, plans):
    """Issue 9: after the provider ended the contract for good cause, neither the contract page
    nor the device page offers "Kündigung zurücknehmen" (the service refuses it)."""
    from contracts.services import booking_remove, contract_terminate_extraordinary

    with time_machine.travel(BOOKED_AT, tick=False):
        removed, kept = _book(admin, customer, plans["mc-standard"], count=2)
        booking_remove(actor=admin, booking=removed)
        contract_terminate_extraordinary(actor=world["people"]["provider_staff"],
                                         contract=removed.contract, end=date(2026, 12, 31),
                                         reason="Zahlungsverzug")
        client = verified_client(admin)
        for page in (reverse("contracts:contract"),
                     reverse("devices:detail", args=[removed.device_id]),
                     reverse("devices:detail", args=[kept.device_id])):
            body = _text(client.get(page))
            assert "Kündigung zurücknehmen" not in body, page
            for booking in (removed, kept):
                assert reverse("contracts:withdraw", args=[booking.pk]) not in body, page
