"""Data-subject requests (gdpr/services/requests.py): deadlines by Regulation 1182/71, the
extension (once, with a reason, only in the first month, the requester told), the state
order, self-service, requests for nobody, the reminders and who may do what."""

from __future__ import annotations

import os
from datetime import date, datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from gdpr.models import DataSubjectRequest
from gdpr.models.requests import RequestChannel, RequestKind, RequestState
from gdpr.selectors.requests import requests_by_deadline, requests_visible
from gdpr.services.requests import (
    SELF_SERVICE_IDENTITY,
    dsr_close,
    dsr_create,
    dsr_extend,
    dsr_identity_checked,
    dsr_refuse,
    dsr_reminders_send,
    dsr_self_service,
    dsr_start,
)
from portal.models import AuditEvent
from portal.notifications.models import Notification
from portal.periods import BERLIN
from portal.roles import Role
from tests.factories import make_person

RECEIVED = date(2026, 1, 31)  # a Saturday; one month later is 2026-02-28 (Sat) → Mon 03-02


def _at(day: date, hour: int = 10):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN),
                               tick=False)


@pytest.fixture
def feb2():
    with _at(date(2026, 2, 2)):
        yield


def _letter(world, *, email=None, received_on=RECEIVED, kind=RequestKind.ACCESS, **extra):
    person = world["people"]["customer_member"]
    return dsr_create(actor=world["people"]["dpo"], kind=kind, channel=RequestChannel.LETTER,
                      received_on=received_on, requester_name="Erika Muster",
                      requester_email=person.email.upper() if email is None else email,
                      **extra)


def _in_progress(world, request):
    dpo = world["people"]["dpo"]
    request = dsr_identity_checked(actor=dpo, request=request, how="Rückruf unter bekannter "
                                                                   "Nummer")
    return dsr_start(actor=dpo, request=request)


# --- receiving -----------------------------------------------------------------------------


def test_deadline_is_one_month_moved_to_the_next_working_day(world, feb2):
    request = _letter(world)
    assert request.deadline == date(2026, 3, 2)
    assert request.due_on == date(2026, 3, 2)
    assert request.state == RequestState.RECEIVED and request.extended_deadline is None
    # the account is found by the address, whatever its case, and gives the organisation
    assert request.subject == world["people"]["customer_member"]
    assert request.customer == world["orgs"]["customer_a"]
    event = AuditEvent.objects.get(action="dsr.created")
    assert event.details["deadline"] == "2026-03-02" and event.details["subject_found"]


def test_received_in_the_future_is_refused(world, feb2):
    with pytest.raises(ValidationError, match="Zukunft"):
        _letter(world, received_on=date(2026, 2, 3))
    assert not DataSubjectRequest.objects.exists()


def test_request_for_nobody_is_kept_and_closed_with_that_outcome(world, feb2):
    request = _letter(world, email="unbekannt@example.org")
    assert request.subject is None and request.customer is None
    closed = dsr_close(actor=world["people"]["provider_staff"], request=request,
                       outcome="Über diese Person liegen keine Daten vor.")
    assert closed.state == RequestState.DONE and closed.closed_at is not None
    assert AuditEvent.objects.get(action="dsr.closed").details == {"subject_found": False}


# --- extension -------------------------------------------------------------------------------


def test_extension_gives_three_months_and_tells_the_requester(world, feb2):
    request = _letter(world)
    extended = dsr_extend(actor=world["people"]["dpo"], request=request,
                          reason="Umfangreiche Datenbestände in mehreren Systemen.")
    assert extended.deadline == date(2026, 3, 2)  # the original stays
    assert extended.extended_deadline == date(2026, 4, 30) == extended.due_on
    mail = Notification.objects.get(event="dsr.extended")
    assert mail.recipient == world["people"]["customer_member"]
    with pytest.raises(ValidationError, match="bereits"):
        dsr_extend(actor=world["people"]["dpo"], request=extended, reason="noch einmal")


def test_extension_without_account_mails_the_given_address(world, feb2,
                                                           django_capture_on_commit_callbacks):
    request = _letter(world, email="extern@example.org")
    with django_capture_on_commit_callbacks() as callbacks:
        dsr_extend(actor=world["people"]["dpo"], request=request, reason="Rückfragen nötig.")
    assert len(callbacks) == 1 and not Notification.objects.filter(event="dsr.extended")

    from django.core import mail

    from gdpr.notifications import extension_mail_send

    extension_mail_send(request.pk)
    assert mail.outbox[-1].to == ["extern@example.org"]
    assert "30.04.2026" in mail.outbox[-1].body and "Rückfragen nötig." in mail.outbox[-1].body
    assert AuditEvent.objects.filter(action="dsr.extension_mailed").count() == 1


def test_extension_needs_a_reason(world, feb2):
    request = _letter(world)
    with pytest.raises(ValidationError, match="begründen"):
        dsr_extend(actor=world["people"]["dpo"], request=request, reason="  ")
    request.refresh_from_db()
    assert request.extended_deadline is None


def test_extension_after_the_first_month_is_refused(world):
    with _at(date(2026, 2, 2)):
        request = _letter(world)
    with _at(date(2026, 3, 3)), pytest.raises(ValidationError,
                                              match="innerhalb des ersten Monats"):
        dsr_extend(actor=world["people"]["dpo"], request=request, reason="zu spät")
    request.refresh_from_db()
    assert request.extended_deadline is None
    assert not Notification.objects.filter(event="dsr.extended").exists()


def test_extension_on_the_last_day_of_the_first_month_is_allowed(world):
    with _at(date(2026, 2, 2)):
        request = _letter(world)
    with _at(date(2026, 3, 2)):
        assert dsr_extend(actor=world["people"]["dpo"], request=request,
                          reason="Grund").extended_deadline == date(2026, 4, 30)


# --- state order -----------------------------------------------------------------------------


def test_steps_go_in_order(world, feb2):
    dpo = world["people"]["dpo"]
    request = _letter(world)
    with pytest.raises(ValidationError, match="nicht möglich"):
        dsr_start(actor=dpo, request=request)
    with pytest.raises(ValidationError, match="nicht möglich"):
        dsr_close(actor=dpo, request=request, outcome="fertig")
    with pytest.raises(ValidationError, match="Identität"):
        dsr_identity_checked(actor=dpo, request=request, how="")
    request = _in_progress(world, request)
    assert request.state == RequestState.IN_PROGRESS
    with pytest.raises(ValidationError, match="nicht möglich"):
        dsr_identity_checked(actor=dpo, request=request, how="nochmals")
    with pytest.raises(ValidationError, match="Ergebnis"):
        dsr_close(actor=dpo, request=request, outcome="")
    done = dsr_close(actor=dpo, request=request, outcome="Auskunft per Brief erteilt.")
    assert done.state == RequestState.DONE and done.closed_at is not None
    with pytest.raises(ValidationError, match="nicht möglich"):
        dsr_refuse(actor=dpo, request=done, reason="zu spät")
    with pytest.raises(ValidationError, match="nicht möglich"):
        dsr_extend(actor=dpo, request=done, reason="zu spät")
    assert list(AuditEvent.objects.filter(action__startswith="dsr.").order_by("pk")
                .values_list("action", flat=True)) == [
        "dsr.created", "dsr.identity_checked", "dsr.started", "dsr.closed"]


def test_refusal_needs_a_reason(world, feb2):
    request = _letter(world)
    with pytest.raises(ValidationError, match="begründen"):
        dsr_refuse(actor=world["people"]["dpo"], request=request, reason="")
    request.refresh_from_db()
    assert request.state == RequestState.RECEIVED
    refused = dsr_refuse(actor=world["people"]["dpo"], request=request,
                         reason="Identität nicht nachgewiesen.")
    assert refused.state == RequestState.REFUSED
    assert refused.outcome == "Identität nicht nachgewiesen." and refused.closed_at


# --- self-service ----------------------------------------------------------------------------


def test_self_service_counts_the_login_as_identity_check(world, feb2):
    person = world["people"]["customer_member"]
    request = dsr_self_service(actor=person, kind=RequestKind.ERASURE, details="Bitte löschen")
    assert request.channel == RequestChannel.PORTAL and request.received_on == date(2026, 2, 2)
    assert request.state == RequestState.IDENTITY_CHECKED
    assert request.identity_check == SELF_SERVICE_IDENTITY
    assert request.subject == person and request.customer == world["orgs"]["customer_a"]
    assert request.deadline == date(2026, 3, 2)


def test_a_second_open_request_of_the_same_kind_is_refused(world, feb2):
    person = world["people"]["customer_member"]
    dsr_self_service(actor=person, kind=RequestKind.ACCESS)
    with pytest.raises(ValidationError, match="02.03.2026"):
        dsr_self_service(actor=person, kind=RequestKind.ACCESS)
    assert DataSubjectRequest.objects.count() == 1
    dsr_self_service(actor=person, kind=RequestKind.RECTIFICATION)  # another kind is fine
    assert DataSubjectRequest.objects.count() == 2


def test_self_service_needs_a_portal_account(db, feb2):
    from tests.factories import UserFactory

    with pytest.raises(PermissionDenied):
        dsr_self_service(actor=UserFactory(), kind=RequestKind.ACCESS)


# --- who may -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["partner_support", "customer_admin", "customer_member"])
def test_only_handlers_enter_and_work_requests(world, feb2, who):
    person = world["people"][who]
    with pytest.raises(PermissionDenied):
        dsr_create(actor=person, kind=RequestKind.ACCESS, channel=RequestChannel.EMAIL,
                   received_on=RECEIVED, requester_name="X")
    request = _letter(world)
    for step in (lambda: dsr_identity_checked(actor=person, request=request, how="x"),
                 lambda: dsr_extend(actor=person, request=request, reason="x"),
                 lambda: dsr_refuse(actor=person, request=request, reason="x"),
                 lambda: dsr_close(actor=person, request=request, outcome="x")):
        with pytest.raises(PermissionDenied):
            step()
    request.refresh_from_db()
    assert request.state == RequestState.RECEIVED


def test_people_see_only_their_own_requests_handlers_all(world, feb2):
    own = dsr_self_service(actor=world["people"]["customer_member"], kind=RequestKind.ACCESS)
    other = dsr_self_service(actor=world["people"]["customer_admin"], kind=RequestKind.ACCESS)
    assert list(requests_visible(world["people"]["customer_member"])) == [own]
    assert not requests_visible(world["people"]["partner_support"]).exists()
    assert set(requests_visible(world["people"]["provider_staff"])) == {own, other}


def test_by_deadline_lists_overdue_first_with_days_left(world):
    with _at(date(2026, 1, 5)):
        late = _letter(world, received_on=date(2026, 1, 5))  # due 2026-02-05
    with _at(date(2026, 2, 2)):
        soon = _letter(world, email="a@example.org", received_on=date(2026, 2, 2))  # 03-02
        closed = _letter(world, email="b@example.org")
        dsr_refuse(actor=world["people"]["dpo"], request=closed, reason="x")
    rows = list(requests_by_deadline(world["people"]["dpo"], date(2026, 2, 10)))
    assert [row.pk for row in rows] == [late.pk, soon.pk]
    assert rows[0].overdue and not rows[1].overdue
    assert rows[1].time_left.days == 20


# --- reminders ---------------------------------------------------------------------------------


def _reminders(day: date) -> dict:
    with _at(day, 6):
        return dsr_reminders_send()


def test_reminders_seven_days_and_one_day_before_once_each(world, feb2):
    request = _letter(world)  # due 2026-03-02
    second_dpo = make_person(Role.DPO, world["orgs"]["provider"])
    assert _reminders(date(2026, 2, 22)) == {"7d": 0, "1d": 0}
    assert _reminders(date(2026, 2, 23)) == {"7d": 1, "1d": 0}
    assert _reminders(date(2026, 2, 23)) == {"7d": 0, "1d": 0}  # the job twice: once
    assert _reminders(date(2026, 2, 24)) == {"7d": 0, "1d": 0}
    assert _reminders(date(2026, 3, 1)) == {"7d": 0, "1d": 1}
    assert _reminders(date(2026, 3, 2)) == {"7d": 0, "1d": 0}
    mails = Notification.objects.filter(event="dsr.reminder")
    assert set(mails.values_list("recipient", flat=True)) == {world["people"]["dpo"].pk,
                                                             second_dpo.pk}
    assert mails.count() == 4  # two reminders, two DPOs
    assert sorted(mails.values_list("context__days", flat=True)) == [1, 1, 7, 7]
    request.refresh_from_db()
    assert request.reminded_7_days_at and request.reminded_1_day_at
    assert AuditEvent.objects.filter(action="dsr.reminded").count() == 2


def test_reminders_follow_the_extended_deadline_and_skip_closed(world, feb2):
    extended = dsr_extend(actor=world["people"]["dpo"], request=_letter(world), reason="Grund")
    closed = _letter(world, email="c@example.org")
    dsr_refuse(actor=world["people"]["dpo"], request=closed, reason="x")
    assert _reminders(date(2026, 2, 23)) == {"7d": 0, "1d": 0}
    assert _reminders(date(2026, 4, 23)) == {"7d": 1, "1d": 0}
    assert Notification.objects.get(event="dsr.reminder").context["request_id"] == extended.pk


def test_a_missed_seven_day_mark_is_caught_up_but_not_when_overdue(world, feb2):
    _letter(world)  # due 2026-03-02
    assert _reminders(date(2026, 2, 26)) == {"7d": 1, "1d": 0}  # job did not run on 23rd
    late = _letter(world, email="d@example.org", received_on=date(2026, 1, 2))  # due 02-02
    assert late.deadline == date(2026, 2, 2)
    assert _reminders(date(2026, 2, 27)) == {"7d": 0, "1d": 0}


def test_the_reminder_mail_renders(world, feb2):
    from portal.notifications.service import notification_send

    _letter(world)
    _reminders(date(2026, 2, 23))
    from django.core import mail

    row = Notification.objects.get(event="dsr.reminder")
    assert notification_send(row.pk) == "sent"
    assert "02.03.2026" in mail.outbox[-1].body and "Erika Muster" in mail.outbox[-1].body
    assert "/gdpr/datasubjectrequest/" in mail.outbox[-1].body


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"),
                    reason="DATABASE_URL is not set: the concurrent run needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_remind_once(world):
    from tests.concurrency import run_at_once

    assert connection.vendor == "postgresql"
    with _at(date(2026, 2, 2)):
        for i in range(5):
            _letter(world, email=f"p{i}@example.org")
    results = run_at_once(lambda: dsr_reminders_send(today=date(2026, 2, 23)),
                          lambda: dsr_reminders_send(today=date(2026, 2, 23)))
    assert sum(result["7d"] for result in results) == 5
    assert Notification.objects.filter(event="dsr.reminder").count() == 5
    assert AuditEvent.objects.filter(action="dsr.reminded").count() == 5
