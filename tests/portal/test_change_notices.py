"""Change notices with an objection window, through the real services: deadlines counted by
hand (BGB §§ 187, 188, 193 with German holidays), the minimum lead of terms changes, who may
object and until when, deemed acceptance, delivery by e-mail and first sight in the portal."""

from __future__ import annotations

import os
from datetime import date, datetime

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import override_settings

from portal.change_notices.kinds import NoticeKind, kind_get, kinds, notice_page_url
from portal.change_notices.services import (
    change_notice_issue,
    change_notice_object,
    change_notice_objection_refusal,
    change_notice_seen,
    change_notices_deem_accepted,
)
from portal.models import AuditEvent, ChangeNotice, NoticeDecision
from portal.periods import BERLIN, Period
from portal.registries import schedules
from tests.concurrency import run_at_once
from tests.outbox import deliver_queued

SUBPROCESSOR = "subprocessor_change"


@pytest.fixture
def subprocessor_kind():
    """The sub-processor kind as gdpr declares it (30 days, reason required)."""
    return kind_get(SUBPROCESSOR)


def _issue(world, kind="price_increase", *, sent_on, effective_on, customers=None, **extra):
    customers = customers or [world["orgs"]["customer_a"]]
    return change_notice_issue(
        actor=world["people"]["provider_staff"], kind=kind, customers=customers,
        title="Neue Preise ab Juni", text="Der Preis von Managed Client Basis steigt auf 6,00 EUR.",
        subject=world["orgs"]["provider"], effective_on=effective_on, sent_on=sent_on, **extra)


def _at(day: date, hour: int = 12):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN),
                               tick=False)


# --- Deadlines, counted by hand ------------------------------------------------------------

def test_subprocessor_change_on_friday_runs_to_monday_after_the_sunday(world, subprocessor_kind):
    # 2027-03-26 (Fri) + 30 days = 2027-04-25, a Sunday -> Monday 2027-04-26 (BGB § 193).
    [notice] = _issue(world, SUBPROCESSOR, sent_on=date(2027, 3, 26),
                      effective_on=date(2027, 4, 27))
    assert notice.received_on == date(2027, 3, 26)
    assert notice.deadline == date(2027, 4, 26)
    assert notice.window == "30d"


def test_price_notice_deadline_moves_off_ascension_day(world):
    # 2027-04-08 (Thu) + 4 weeks = 2027-05-06, Ascension Day -> Friday 2027-05-07.
    [notice] = _issue(world, sent_on=date(2027, 4, 8), effective_on=date(2027, 6, 1))
    assert notice.deadline == date(2027, 5, 7)
    notice.refresh_from_db()
    assert notice.decision == NoticeDecision.PENDING
    assert "bis zum 07.05.2027" in notice.text and "gilt die Änderung als angenommen" in notice.text
    assert "Managed Client Basis steigt" in notice.text
    assert (notice.subject_type, notice.subject_id) == (
        "portal.organisation", str(world["orgs"]["provider"].pk))
    event = AuditEvent.objects.get(action="change_notice.issued")
    assert event.details["deadline"] == "2027-05-07"
    assert event.actor == world["people"]["provider_staff"]


def test_terms_change_sent_less_than_two_weeks_before_it_takes_effect_is_refused(world):
    with pytest.raises(ValidationError) as refused:
        _issue(world, "terms_change", sent_on=date(2027, 4, 1), effective_on=date(2027, 4, 14))
    assert "spätestens am 31.03.2027 zugehen" in str(refused.value)
    assert not ChangeNotice.objects.exists()
    assert not AuditEvent.objects.filter(action="change_notice.issued").exists()
    # Exactly two weeks: received 2027-04-01, in effect 2027-04-15. Window 2 weeks -> 04-15.
    [notice] = _issue(world, "terms_change", sent_on=date(2027, 4, 1),
                      effective_on=date(2027, 4, 15))
    assert notice.deadline == date(2027, 4, 15)


def test_a_change_before_its_notice_or_to_a_partner_is_refused(world):
    with pytest.raises(ValidationError, match="nicht vor dem Zugang"):
        _issue(world, sent_on=date(2027, 4, 8), effective_on=date(2027, 4, 7))
    with pytest.raises(ValidationError, match="nur an Kunden"):
        _issue(world, sent_on=date(2027, 4, 8), effective_on=date(2027, 6, 1),
               customers=[world["orgs"]["customer_a"], world["orgs"]["partner_a"]])
    assert not ChangeNotice.objects.exists()  # the customer's notice went with the refusal


@override_settings(PORTAL_CHANGE_NOTICE_WINDOWS={"price_increase": "6w"})
def test_the_window_is_the_providers_setting(world):
    # 2027-04-08 + 6 weeks = 2027-05-20, a Thursday and no holiday.
    [notice] = _issue(world, sent_on=date(2027, 4, 8), effective_on=date(2027, 6, 1))
    assert (notice.window, notice.deadline) == ("6w", date(2027, 5, 20))


def test_an_undeclared_kind_and_a_customer_as_issuer_are_refused(world):
    with pytest.raises(ValueError, match="not declared"):
        _issue(world, "no_such_kind", sent_on=date(2027, 4, 8), effective_on=date(2027, 6, 1))
    with pytest.raises(PermissionDenied):
        change_notice_issue(actor=world["people"]["customer_admin"], kind="price_increase",
                            customers=[world["orgs"]["customer_a"]], title="x", text="x",
                            subject=None, effective_on=date(2027, 6, 1))
    assert not ChangeNotice.objects.exists()


# --- Objections ----------------------------------------------------------------------------

def test_the_customer_admin_objects_until_the_deadline_but_not_after(world):
    admin = world["people"]["customer_admin"]
    [late, in_time] = (_issue(world, sent_on=date(2027, 4, 8), effective_on=date(2027, 6, 1))[0]
                       for _ in range(2))
    # The day after the deadline, just after midnight:
    with _at(date(2027, 5, 8), hour=0), pytest.raises(ValidationError) as refused:
        change_notice_object(actor=admin, notice=late, reason="zu teuer")
    assert "Die Widerspruchsfrist endete am 07.05.2027." in str(refused.value)
    late.refresh_from_db()
    assert (late.decision, late.decided_at, late.decided_by) == (NoticeDecision.PENDING, None, None)

    with _at(date(2027, 5, 7), hour=23):  # the deadline itself, late in the evening
        change_notice_object(actor=admin, notice=in_time, reason="zu teuer")
    in_time.refresh_from_db()
    assert in_time.decision == NoticeDecision.OBJECTED
    assert (in_time.decided_by, in_time.reason) == (admin, "zu teuer")
    assert in_time.decided_at is not None
    assert AuditEvent.objects.filter(action="change_notice.objected", actor=admin).count() == 1
    with pytest.raises(ValidationError, match="bereits entschieden"):
        change_notice_object(actor=admin, notice=in_time, reason="noch einmal")


def test_objection_without_reason_is_refused_where_the_kind_requires_one(world,
                                                                         subprocessor_kind):
    [notice] = _issue(world, SUBPROCESSOR, sent_on=date(2027, 3, 26),
                      effective_on=date(2027, 4, 27))
    with _at(date(2027, 4, 1)), pytest.raises(ValidationError) as refused:
        change_notice_object(actor=world["people"]["customer_admin"], notice=notice, reason="  ")
    assert "reason" in refused.value.message_dict
    notice.refresh_from_db()
    assert notice.decision == NoticeDecision.PENDING
    assert not AuditEvent.objects.filter(action="change_notice.objected").exists()
    # A price increase needs no reason.
    [price] = _issue(world, sent_on=date(2027, 4, 8), effective_on=date(2027, 6, 1))
    with _at(date(2027, 4, 9)):
        change_notice_object(actor=world["people"]["customer_admin"], notice=price, reason="")
    price.refresh_from_db()
    assert price.decision == NoticeDecision.OBJECTED


def test_the_issuing_apps_hook_runs_inside_the_objection(world):
    """A kind's ``on_objected`` (gdpr opens a DPO case) runs in the objection's transaction:
    when it fails, the objection is not stored either."""
    seen = []

    def hook(*, notice, actor):
        seen.append((notice.decision, actor))
        if notice.reason == "scheitern":
            raise RuntimeError("hook failed")

    kinds.register(NoticeKind(code="hooked", label="Test", window=Period(weeks=2),
                              on_objection="", silence_text="", on_objected=hook))
    try:
        first, second = (_issue(world, "hooked", sent_on=date(2027, 4, 8),
                                effective_on=date(2027, 6, 1))[0] for _ in range(2))
        admin = world["people"]["customer_admin"]
        with _at(date(2027, 4, 9)):
            change_notice_object(actor=admin, notice=first, reason="nein")
            with pytest.raises(RuntimeError):
                change_notice_object(actor=admin, notice=second, reason="scheitern")
    finally:
        kinds.unregister("hooked")
    assert seen == [(NoticeDecision.OBJECTED, admin)] * 2
    second.refresh_from_db()
    assert second.decision == NoticeDecision.PENDING
    assert AuditEvent.objects.filter(action="change_notice.objected").count() == 1


@pytest.mark.parametrize("person", ["customer_member", "partner_support", "provider_staff",
                                    "provider_admin", "customer_admin_b"])
def test_only_the_customers_admin_may_object(world, person):
    [notice] = _issue(world, sent_on=date(2027, 4, 8), effective_on=date(2027, 6, 1))
    with _at(date(2027, 4, 9)), pytest.raises(PermissionDenied):
        change_notice_object(actor=world["people"][person], notice=notice, reason="nein")
    notice.refresh_from_db()
    assert notice.decision == NoticeDecision.PENDING
    assert not AuditEvent.objects.filter(action="change_notice.objected").exists()


def test_objection_refusal_names_the_state_without_a_clock(world):
    [notice] = _issue(world, sent_on=date(2027, 4, 8), effective_on=date(2027, 6, 1))
    assert change_notice_objection_refusal(notice, today=date(2027, 5, 7)) is None
    assert "07.05.2027" in change_notice_objection_refusal(notice, today=date(2027, 5, 8))


# --- Deemed acceptance ---------------------------------------------------------------------

def test_deemed_acceptance_after_the_deadline_is_idempotent(world):
    [past] = _issue(world, sent_on=date(2027, 4, 8), effective_on=date(2027, 6, 1))
    [objected] = _issue(world, sent_on=date(2027, 4, 8), effective_on=date(2027, 6, 1))
    [running] = _issue(world, sent_on=date(2027, 4, 12), effective_on=date(2027, 6, 1))
    with _at(date(2027, 4, 20)):
        change_notice_object(actor=world["people"]["customer_admin"], notice=objected, reason="")

    assert change_notices_deem_accepted(today=date(2027, 5, 7)) == 0  # deadline day: still open
    assert change_notices_deem_accepted(today=date(2027, 5, 8)) == 1
    assert change_notices_deem_accepted(today=date(2027, 5, 8)) == 0

    decisions = dict(ChangeNotice.objects.values_list("pk", "decision"))
    assert decisions == {past.pk: NoticeDecision.DEEMED_ACCEPTED,
                         objected.pk: NoticeDecision.OBJECTED,
                         running.pk: NoticeDecision.PENDING}  # deadline 2027-05-10
    past.refresh_from_db()
    assert past.decided_at is not None and past.decided_by is None
    assert AuditEvent.objects.filter(action="change_notice.deemed_accepted").count() == 1
    with pytest.raises(ValidationError, match="bereits entschieden"):
        change_notice_object(actor=world["people"]["customer_admin"], notice=past, reason="")


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"),
                    reason="DATABASE_URL is not set: the concurrent run needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_deemed_acceptance_from_two_workers_decides_each_notice_once(world):
    assert connection.vendor == "postgresql"
    notices = _issue(world, sent_on=date(2027, 4, 8), effective_on=date(2027, 6, 1),
                     customers=[world["orgs"][key] for key in
                                ("customer_a", "customer_b", "customer_direct")])
    results = run_at_once(lambda: change_notices_deem_accepted(today=date(2027, 5, 8)),
                          lambda: change_notices_deem_accepted(today=date(2027, 5, 8)))
    assert sorted(results) == [0, 3]
    assert set(ChangeNotice.objects.values_list("decision", flat=True)) == {
        NoticeDecision.DEEMED_ACCEPTED}
    for notice in notices:
        assert AuditEvent.objects.filter(action="change_notice.deemed_accepted",
                                         target_id=str(notice.pk)).count() == 1


def test_the_daily_job_is_scheduled():
    job = schedules.get("portal.deem_accepted_change_notices")
    assert job.func == "portal.change_notices.tasks.deem_accepted_change_notices"


# --- Visibility, delivery, first sight ----------------------------------------------------

def test_notices_are_visible_to_their_customer_its_partner_and_the_provider(world):
    orgs, people = world["orgs"], world["people"]
    a, b = _issue(world, sent_on=date(2027, 4, 8), effective_on=date(2027, 6, 1),
                  customers=[orgs["customer_a"], orgs["customer_b"]])

    def seen_by(person):
        return set(ChangeNotice.objects.visible_to(people[person]).values_list("pk", flat=True))

    assert seen_by("customer_admin") == seen_by("customer_member") == {a.pk}
    assert seen_by("partner_support") == {a.pk}
    assert seen_by("customer_admin_b") == seen_by("partner_support_b") == {b.pk}
    assert seen_by("provider_staff") == seen_by("dpo") == {a.pk, b.pk}
    assert seen_by("customer_admin_direct") == set()


def test_the_customer_admins_are_emailed_and_the_sent_email_is_the_delivery(world):
    [notice] = _issue(world, sent_on=date(2027, 4, 8), effective_on=date(2027, 6, 1))
    assert notice.delivered_at is None
    assert deliver_queued() == 1
    [message] = mail.outbox
    assert message.to == [world["people"]["customer_admin"].email]
    assert "Neue Preise ab Juni" in message.subject
    assert "07.05.2027" in message.body
    assert "gilt die Änderung als angenommen" in message.body
    # The e-mail links to the notice's page (declared by the app that shows notices).
    assert f"{settings.PORTAL_BASE_URL}{notice_page_url(notice)}" in message.body
    assert notice_page_url(notice).endswith(f"/{notice.pk}/")
    notice.refresh_from_db()
    assert notice.delivered_at is not None
    event = AuditEvent.objects.get(action="change_notice.delivered")
    assert event.target_id == str(notice.pk)


def test_first_seen_is_recorded_once_and_only_for_the_customers_people(world):
    [notice] = _issue(world, sent_on=date(2027, 4, 8), effective_on=date(2027, 6, 1))
    assert change_notice_seen(actor=world["people"]["provider_staff"], notice=notice) is False
    assert change_notice_seen(actor=world["people"]["partner_support"], notice=notice) is False
    notice.refresh_from_db()
    assert notice.first_seen_at is None

    assert change_notice_seen(actor=world["people"]["customer_member"], notice=notice) is True
    notice.refresh_from_db()
    first = notice.first_seen_at
    assert first is not None
    assert change_notice_seen(actor=world["people"]["customer_admin"], notice=notice) is False
    notice.refresh_from_db()
    assert notice.first_seen_at == first
    assert AuditEvent.objects.filter(action="change_notice.seen").count() == 1


# --- The staff admin -----------------------------------------------------------------------

def _many_notices(customer, count: int) -> None:
    """Rows for the list (the services are tested above; this is only volume)."""
    ChangeNotice.objects.bulk_create(
        ChangeNotice(customer=customer, kind="price_increase", title=f"Preise {i}", text="x",
                     window="4w", received_on=date(2027, 4, 8), effective_on=date(2027, 6, 1),
                     deadline=date(2027, 5, 7)) for i in range(count))


def test_staff_admin_lists_notices_by_kind_label_with_flat_queries(world, verified_client,
                                                                   django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client = verified_client(world["people"]["provider_staff"])
    url = reverse("admin:portal_changenotice_changelist")
    _many_notices(world["orgs"]["customer_a"], 10)
    with CaptureQueriesContext(connection) as ten:
        page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Preiserhöhung" in body and ">price_increase<" not in body
    _many_notices(world["orgs"]["customer_b"], 990)
    with django_assert_num_queries(len(ten.captured_queries)):
        assert client.get(url).status_code == 200


def test_admin_is_read_only_and_scoped_to_the_partners_customers(world, verified_client):
    from django.urls import reverse

    [a, b] = _issue(world, sent_on=date(2027, 4, 8), effective_on=date(2027, 6, 1),
                    customers=[world["orgs"]["customer_a"], world["orgs"]["customer_b"]])
    staff = verified_client(world["people"]["provider_staff"])
    assert staff.get(reverse("admin:portal_changenotice_change", args=[a.pk])).status_code == 200
    assert staff.post(reverse("admin:portal_changenotice_delete", args=[a.pk]),
                      {"post": "yes"}).status_code == 403
    assert ChangeNotice.objects.filter(pk=a.pk).exists()
    staff.logout()
    partner = verified_client(world["people"]["partner_support"])
    listing = partner.get(reverse("admin:portal_changenotice_changelist"))
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [a]
    assert partner.get(reverse("admin:portal_changenotice_change",
                               args=[b.pk])).status_code == 302
    partner.logout()
    customer = verified_client(world["people"]["customer_admin"])
    assert customer.get(reverse("admin:portal_changenotice_changelist")).status_code == 302


# --- The provider's windows ------------------------------------------------------------------

def test_windows_come_from_the_environment_and_a_typo_fails_the_check():
    import json
    import os
    import subprocess
    import sys

    from portal.change_notices.kinds import check_windows

    env = {**os.environ, "PORTAL_CHANGE_NOTICE_WINDOWS": "price_increase=6w, terms_change = 3w"}
    shown = subprocess.run(
        [sys.executable, "-c", "import json, portal.settings.base as s; "
                               "print(json.dumps(s.PORTAL_CHANGE_NOTICE_WINDOWS))"],
        env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, check=True).stdout
    assert json.loads(shown) == {"subprocessor_change": "30d", "price_increase": "6w",
                                 "terms_change": "3w", "price_change_2m": "2m"}
    assert check_windows() == []
    with override_settings(PORTAL_CHANGE_NOTICE_WINDOWS={"price_increase": "4 Wochen"}):
        [error] = check_windows()
    assert error.id == "portal.E101" and "price_increase" in error.msg
