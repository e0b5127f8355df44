"""Data-subject requests in the staff admin and on the DPO's start page: the add form calls
``dsr_create``, a request's page offers its next steps (each a form over its service), the
list and the start page run flat queries at 10 and 1,000 requests, overdue first."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gdpr.models import DataSubjectRequest
from gdpr.models.requests import RequestChannel, RequestKind, RequestState
from gdpr.services.requests import dsr_create
from portal.periods import BERLIN

TODAY = date(2026, 2, 2)
LIST = "admin:gdpr_datasubjectrequest_changelist"


@pytest.fixture
def today():
    with time_machine.travel(datetime(2026, 2, 2, 10, tzinfo=BERLIN), tick=False):
        yield TODAY


def _request(world, **extra) -> DataSubjectRequest:
    values = {"kind": RequestKind.ACCESS, "channel": RequestChannel.EMAIL,
              "received_on": date(2026, 1, 31), "requester_name": "Erika Muster",
              "requester_email": "erika@example.org", **extra}
    return dsr_create(actor=world["people"]["dpo"], **values)


def _step(pk, slug):
    return reverse("admin:gdpr_datasubjectrequest_step", args=[pk, slug])


def _bulk(n: int, *, start: int = 0) -> None:
    """``n`` open requests, every third one overdue."""
    DataSubjectRequest.objects.bulk_create([
        DataSubjectRequest(kind=RequestKind.ACCESS, channel=RequestChannel.LETTER,
                           requester_name=f"Person {start + i:04}", received_on=date(2026, 1, 1),
                           deadline=TODAY + timedelta(days=(i % 3) * 10 - 5))
        for i in range(n)])


def test_the_add_form_enters_a_request_through_the_service(world, verified_client, today):
    client = verified_client(world["people"]["provider_staff"])
    member = world["people"]["customer_member"]
    response = client.post(reverse("admin:gdpr_datasubjectrequest_add"), {
        "kind": RequestKind.ERASURE, "channel": RequestChannel.LETTER,
        "received_on": "2026-01-31", "requester_name": "Max Muster",
        "requester_email": member.email.upper(), "details": "Bitte alles löschen"})
    assert response.status_code == 302, response.content.decode()[:2000]
    request = DataSubjectRequest.objects.get()
    assert request.deadline == date(2026, 3, 2) and request.subject == member
    assert request.customer == world["orgs"]["customer_a"]
    assert request.created_by == world["people"]["provider_staff"]


def test_a_future_receipt_shows_on_the_form_and_nothing_is_saved(world, verified_client,
                                                                 today):
    client = verified_client(world["people"]["dpo"])
    response = client.post(reverse("admin:gdpr_datasubjectrequest_add"), {
        "kind": RequestKind.ACCESS, "channel": RequestChannel.EMAIL,
        "received_on": "2026-02-05", "requester_name": "Max Muster"})
    assert not DataSubjectRequest.objects.exists()
    assert "Zukunft" in response.text


def test_the_steps_on_a_request_page_call_their_services(world, verified_client, today):
    request = _request(world)
    client = verified_client(world["people"]["dpo"])
    page = client.get(reverse("admin:gdpr_datasubjectrequest_change", args=[request.pk]))
    assert page.status_code == 200
    assert _step(request.pk, "identitaet") in page.text
    assert _step(request.pk, "beginnen") not in page.text
    empty = client.post(_step(request.pk, "identitaet"), {"how": ""})
    assert empty.status_code == 200
    request.refresh_from_db()
    assert request.state == RequestState.RECEIVED
    assert client.post(_step(request.pk, "identitaet"), {"how": "Ausweiskopie"}).status_code \
        == 302
    assert client.post(_step(request.pk, "beginnen"), {}).status_code == 302
    assert client.post(_step(request.pk, "verlaengern"),
                       {"reason": "Viele Systeme"}).status_code == 302
    refused = client.post(_step(request.pk, "verlaengern"), {"reason": "nochmals"})
    assert refused.status_code == 200 and "bereits" in refused.text
    assert client.post(_step(request.pk, "abschliessen"),
                       {"outcome": "Auskunft erteilt"}).status_code == 302
    request.refresh_from_db()
    assert request.state == RequestState.DONE
    assert request.extended_deadline == date(2026, 4, 30)
    assert request.identity_check == "Ausweiskopie"


def test_refusing_needs_a_reason_on_the_page(world, verified_client, today):
    request = _request(world)
    client = verified_client(world["people"]["provider_admin"])
    assert client.post(_step(request.pk, "ablehnen"), {"reason": ""}).status_code == 200
    assert client.post(_step(request.pk, "ablehnen"),
                       {"reason": "Offenkundig unbegründet"}).status_code == 302
    request.refresh_from_db()
    assert request.state == RequestState.REFUSED


@pytest.mark.parametrize("who", ["partner_support", "customer_admin"])
def test_others_cannot_open_the_requests(world, verified_client, today, who):
    request = _request(world)
    client = verified_client(world["people"][who])
    assert client.get(reverse(LIST)).status_code in (302, 403)
    assert client.post(_step(request.pk, "ablehnen"), {"reason": "x"}).status_code in (302, 403)
    request.refresh_from_db()
    assert request.state == RequestState.RECEIVED


def _measure(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(queries.captured_queries)


def test_the_list_shows_deadline_and_overdue_with_flat_queries(world, verified_client, today):
    client = verified_client(world["people"]["dpo"])
    _bulk(10)
    small_page, small = _measure(client, reverse(LIST))
    assert "überfällig" in small_page.text and "noch 5 Tage" in small_page.text
    _bulk(990, start=10)
    large_page, large = _measure(client, reverse(LIST))
    print(f"\nDSR changelist: {small} queries at 10 requests, {large} at 1,000")
    assert large == small
    overdue, _count = _measure(client, reverse(LIST) + "?due=overdue")
    assert overdue.context["cl"].result_count == 334
    open_ones, _count = _measure(client, reverse(LIST) + "?state__in=received,in_progress")
    assert open_ones.context["cl"].result_count == 1000


def test_the_start_page_lists_open_requests_overdue_first_flat(world, verified_client, today):
    client = verified_client(world["people"]["dpo"])
    _bulk(10)
    page, small = _measure(client, reverse("admin:index"))
    text = page.text
    section = text[text.index("<h3>Betroffenenanfragen"):text.index("<h3>Protokolle")]
    assert section.index("(überfällig)") < section.index("(noch ")  # overdue first
    assert "Betroffenenanfragen" in text and "Keine offenen Anfragen" not in text
    assert "4 Anfragen überfällig." in text
    _bulk(990, start=10)
    page, large = _measure(client, reverse("admin:index"))
    print(f"\nDPO start page with requests: {small} queries at 10, {large} at 1,000")
    assert large == small
    assert "334 Anfragen überfällig." in page.text
    assert "Alle offenen Anfragen ansehen (1000)" in page.text


def test_the_add_page_opens_and_takes_a_chosen_account(world, verified_client, today):
    client = verified_client(world["people"]["dpo"])
    assert client.get(reverse("admin:gdpr_datasubjectrequest_add")).status_code == 200
    admin_b = world["people"]["customer_admin_b"]
    response = client.post(reverse("admin:gdpr_datasubjectrequest_add"), {
        "kind": RequestKind.RECTIFICATION, "channel": RequestChannel.OTHER,
        "received_on": "2026-02-02", "requester_name": "Telefonat", "subject": admin_b.pk})
    assert response.status_code == 302
    assert DataSubjectRequest.objects.get().customer == world["orgs"]["customer_b"]


def test_the_extension_is_not_offered_after_the_first_month(world, verified_client, today):
    request = _request(world)
    url = reverse("admin:gdpr_datasubjectrequest_change", args=[request.pk])
    with time_machine.travel(datetime(2026, 3, 3, 10, tzinfo=BERLIN), tick=False):
        client = verified_client(world["people"]["dpo"])
        page = client.get(url)
        assert _step(request.pk, "verlaengern") not in page.text
        refused = client.post(_step(request.pk, "verlaengern"), {"reason": "spät"})
        assert refused.status_code == 200 and "ersten Monats" in refused.text


def test_the_dpo_makes_the_data_copy_from_the_requests_page_and_downloads_it(
        world, verified_client, django_capture_on_commit_callbacks, monkeypatch):
    from gdpr.models import PersonExport
    from gdpr.services.exports import person_export_build

    queued = []
    monkeypatch.setattr("django_q.tasks.async_task",
                        lambda *args, **kwargs: queued.append(args))
    member = world["people"]["customer_member"]
    dsr = _request(world, requester_email=member.email)
    client = verified_client(world["people"]["dpo"])
    page = client.get(reverse("admin:gdpr_datasubjectrequest_change", args=[dsr.pk]))
    assert "Datenkopie erstellen" not in page.text  # identity not checked yet
    client.post(_step(dsr.pk, "identitaet"), {"how": "Rückruf unter der bekannten Nummer"})
    page = client.get(reverse("admin:gdpr_datasubjectrequest_change", args=[dsr.pk]))
    assert "Datenkopie erstellen" in page.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:gdpr_datasubjectrequest_export", args=[dsr.pk]))
    assert response.status_code == 302 and len(queued) == 1
    export = PersonExport.objects.get(request=dsr)
    person_export_build(export_id=export.pk)
    page = client.get(reverse("admin:gdpr_datasubjectrequest_change", args=[dsr.pk]))
    download = reverse("gdpr:export_download", args=[export.pk])
    assert download in page.text
    assert client.get(download).status_code == 200
    # Provider staff handle requests but do not make or download data copies.
    staff = verified_client(world["people"]["provider_staff"])
    page = staff.get(reverse("admin:gdpr_datasubjectrequest_change", args=[dsr.pk]))
    assert download not in page.text and "Datenkopie erstellen" not in page.text
    staff.post(reverse("admin:gdpr_datasubjectrequest_export", args=[dsr.pk]))
    assert PersonExport.objects.filter(request=dsr).count() == 1
