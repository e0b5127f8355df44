"""Sending a terms change by hand from the change-notice admin: form, confirmation with the
recipients and the objection deadline, then the service; the minimum lead refused on the form;
only provider admins and staff send, only kinds that name their recipients are offered."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from contracts.catalogue import plans_seed
from contracts.models import Contract, ContractStatus
from contracts.selectors import customers_with_running_contract
from contracts.services import booking_create
from portal.change_notices.kinds import kind_get, kinds_sent_by_hand
from portal.change_notices.services import change_notice_issue, change_notice_preview
from portal.models import AuditEvent, ChangeNotice
from portal.periods import BERLIN
from tests.factories import DeviceFactory, OrganisationFactory
from tests.outbox import deliver_queued

MONDAY = date(2027, 3, 1)
TERMS = {"kind": "terms_change", "title": "Neue AGB ab 22. März",
         "text": "Abschnitt 7 (Haftung) wird neu gefasst.", "effective_on": "2027-03-22"}


def _url(name: str = "send") -> str:
    return reverse(f"admin:portal_changenotice_{name}")


@pytest.fixture
def monday():
    with time_machine.travel(datetime(2027, 3, 1, 10, 0, tzinfo=BERLIN), tick=False):
        yield


@pytest.fixture
def contracts(world):
    """Kunde A and Kunde Direkt booked in February (running contracts); Kunde B has none; a
    fourth customer's contract has ended."""
    plans = {plan.code: plan for plan in plans_seed()}
    with time_machine.travel(datetime(2027, 2, 1, 10, 0, tzinfo=BERLIN), tick=False):
        for key, person in (("customer_a", "customer_admin"),
                            ("customer_direct", "customer_admin_direct")):
            org = world["orgs"][key]
            booking_create(actor=world["people"][person], customer=org,
                           plan=plans["mc-standard"],
                           devices=[DeviceFactory(customer=org, kind="workstation")])
    ended = OrganisationFactory(name="Kunde Ehemals")
    Contract.objects.create(customer=ended, start=date(2025, 1, 1), status=ContractStatus.ENDED)
    deliver_queued()  # the booking e-mails
    mail.outbox.clear()
    return {"running": {world["orgs"]["customer_a"], world["orgs"]["customer_direct"]},
            "ended": ended}


def test_only_customers_with_a_running_contract_are_the_terms_recipients(world, contracts):
    assert set(customers_with_running_contract()) == contracts["running"]
    assert set(kind_get("terms_change").recipients()) == contracts["running"]


def test_staff_send_a_terms_change_after_a_confirmation(world, verified_client, contracts,
                                                        monday):
    staff = world["people"]["provider_staff"]
    client = verified_client(staff)
    form = client.get(_url())
    assert form.status_code == 200
    confirmation = client.post(_url(), TERMS)
    text = confirmation.content.decode()
    assert confirmation.context["confirming"]
    # Received Monday 2027-03-01, two weeks: Monday 2027-03-15 (no holiday).
    assert "2 Kunden erhalten diese Änderungsmitteilung" in text and "15.03.2027" in text
    assert not ChangeNotice.objects.exists()  # nothing sent before the confirmation

    response = client.post(_url(), {**TERMS, "confirmed": "yes"}, follow=True)
    assert response.redirect_chain[-1][0] == _url("changelist")
    assert "2 Kunden erhalten die Änderungsmitteilung" in response.content.decode()
    notices = ChangeNotice.objects.all()
    assert {notice.customer for notice in notices} == contracts["running"]
    assert len(notices) == 2
    for notice in notices:
        assert (notice.kind, notice.received_on, notice.effective_on, notice.deadline,
                notice.window) == ("terms_change", MONDAY, date(2027, 3, 22),
                                   date(2027, 3, 15), "2w")
        assert (notice.subject_type, notice.subject_id, notice.created_by) == ("", "", staff)
        assert notice.text.startswith(TERMS["text"])
        assert "15.03.2027" in notice.text
    events = AuditEvent.objects.filter(action="change_notice.issued")
    assert {event.target_id for event in events} == {str(notice.pk) for notice in notices}
    assert {event.actor_id for event in events} == {staff.pk}

    assert deliver_queued() == 2
    assert sorted(address for message in mail.outbox for address in message.to) == sorted(
        [world["people"]["customer_admin"].email,
         world["people"]["customer_admin_direct"].email])


def test_one_recipient_is_counted_in_the_singular(world, verified_client, contracts, monday):
    Contract.objects.filter(customer=world["orgs"]["customer_direct"]) \
        .update(status=ContractStatus.ENDED)
    client = verified_client(world["people"]["provider_admin"])
    assert "1 Kunde erhält diese" in client.post(_url(), TERMS).content.decode()
    response = client.post(_url(), {**TERMS, "confirmed": "yes"}, follow=True)
    assert "1 Kunde erhält die Änderungsmitteilung" in response.content.decode()
    assert ChangeNotice.objects.get().customer == world["orgs"]["customer_a"]


@pytest.mark.parametrize("confirmed", [{}, {"confirmed": "yes"}])
def test_a_change_less_than_two_weeks_ahead_is_refused_on_the_form(world, verified_client,
                                                                   contracts, monday,
                                                                   confirmed):
    client = verified_client(world["people"]["provider_staff"])
    response = client.post(_url(), {**TERMS, "effective_on": "2027-03-14", **confirmed})
    assert response.status_code == 200 and not response.context["confirming"]
    assert response.context["form"].errors["effective_on"] == [
        "Die Mitteilung muss spätestens am 28.02.2027 zugehen, damit die Änderung am "
        "14.03.2027 wirksam werden kann."]
    assert "28.02.2027" in response.content.decode()
    assert not ChangeNotice.objects.exists()
    assert not AuditEvent.objects.filter(action="change_notice.issued").exists()


def test_exactly_two_weeks_ahead_is_in_time(world, verified_client, contracts, monday):
    client = verified_client(world["people"]["provider_staff"])
    response = client.post(_url(), {**TERMS, "effective_on": "2027-03-15"})
    assert response.context["confirming"]


def test_kinds_without_recipients_are_not_offered(world, verified_client, contracts, monday):
    assert [kind.code for kind in kinds_sent_by_hand()] == ["terms_change"]
    client = verified_client(world["people"]["provider_admin"])
    form = client.get(_url()).context["form"]
    assert [code for code, _label in form.fields["kind"].choices] == ["terms_change"]
    response = client.post(_url(), {**TERMS, "kind": "price_increase", "confirmed": "yes"})
    assert response.status_code == 200 and "kind" in response.context["form"].errors
    assert not ChangeNotice.objects.exists()


@pytest.mark.parametrize("who", ["provider_admin", "provider_staff"])
def test_provider_admins_and_staff_see_the_button(world, verified_client, who):
    page = verified_client(world["people"][who]).get(_url("changelist"))
    assert page.status_code == 200 and _url() in page.content.decode()


@pytest.mark.parametrize("who", ["dpo", "partner_support"])
def test_the_dpo_and_partner_support_may_not_send(world, verified_client, contracts, monday,
                                                  who):
    client = verified_client(world["people"][who])
    page = client.get(_url("changelist"))
    assert page.status_code == 200 and _url() not in page.content.decode()
    assert client.get(_url()).status_code == 403
    assert client.post(_url(), {**TERMS, "confirmed": "yes"}).status_code == 403
    assert not ChangeNotice.objects.exists()


@pytest.mark.parametrize("who", ["customer_admin", "customer_member"])
def test_customers_may_not_send(world, verified_client, contracts, monday, who):
    client = verified_client(world["people"][who])
    assert client.get(_url()).status_code in (302, 403)
    assert client.post(_url(), {**TERMS, "confirmed": "yes"}).status_code in (302, 403)
    assert not ChangeNotice.objects.exists()


def test_the_dpo_sends_no_notice_through_the_service_either(world, contracts):
    with pytest.raises(PermissionDenied):
        change_notice_issue(actor=world["people"]["dpo"], kind="terms_change",
                            customers=kind_get("terms_change").recipients(), title="x",
                            text="x", subject=None, effective_on=date(2027, 3, 22),
                            sent_on=MONDAY)
    assert not ChangeNotice.objects.exists()


def test_the_preview_is_what_the_service_applies(world, contracts):
    kind = kind_get("terms_change")
    preview = change_notice_preview(kind, received_on=MONDAY, effective_on=date(2027, 3, 22))
    assert (str(preview.window), preview.deadline, preview.refusal) == (
        "2w", date(2027, 3, 15), None)
    [notice, _other] = change_notice_issue(
        actor=world["people"]["provider_admin"], kind="terms_change",
        customers=kind.recipients(), title="x", text="x", subject=None,
        effective_on=date(2027, 3, 22), sent_on=MONDAY)
    assert notice.deadline == preview.deadline
    late = change_notice_preview(kind, received_on=MONDAY, effective_on=date(2027, 3, 14))
    assert "28.02.2027" in late.refusal
