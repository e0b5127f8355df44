"""The sub-processor register and the objection cases in the staff admin: the provider admin
adds, changes (form, confirmation with customers and deadline, service) and ends entries;
the DPO reads them and closes cases; the lists run flat queries at 10 and 1,000 rows."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contracts.models import Contract
from gdpr.models import CaseResolution, ObjectionCase, Safeguard, SubProcessor
from gdpr.services.subprocessors import subprocessor_add
from portal.models import ChangeNotice
from portal.periods import BERLIN

FRIDAY = date(2027, 3, 26)


@pytest.fixture
def friday():
    with time_machine.travel(datetime(2027, 3, 26, 12, tzinfo=BERLIN), tick=False):
        yield


@pytest.fixture
def running(world):
    for key in ("customer_a", "customer_direct"):
        Contract.objects.create(customer=world["orgs"][key], start=date(2026, 1, 1))


def _row(valid_from=FRIDAY) -> SubProcessor:
    return subprocessor_add(actor=None, name="Hetzner Online GmbH", service="Hosting",
                            location="Falkenstein", country="DE", safeguard=Safeguard.EU_EEA,
                            data_categories="alle", valid_from=valid_from)


def _url(name, *args):
    return reverse(f"admin:gdpr_{name}", args=args)


def test_the_provider_admin_adds_an_entry_and_customers_get_notices(world, verified_client,
                                                                     running, friday):
    client = verified_client(world["people"]["provider_admin"])
    response = client.post(_url("subprocessor_add"), {
        "name": "Mailjet SAS", "service": "E-Mail-Versand", "location": "Paris",
        "country": "FR", "safeguard": Safeguard.EU_EEA, "data_categories": "E-Mail-Adressen",
        "valid_from": "2027-04-15"})
    assert response.status_code == 302
    row = SubProcessor.objects.get(name="Mailjet SAS")
    assert ChangeNotice.objects.filter(subject_id=str(row.pk)).count() == 2


def test_change_shows_a_confirmation_with_customers_and_deadline(world, verified_client,
                                                                 running, friday):
    row = _row()
    client = verified_client(world["people"]["provider_admin"])
    url = _url("subprocessor_change_entry", row.pk)
    assert client.get(url).status_code == 200
    data = {"service": "Hosting", "location": "Nürnberg", "country": "DE",
            "safeguard": Safeguard.EU_EEA, "data_categories": "alle",
            "valid_from": "2027-05-01"}
    confirmation = client.post(url, data)
    text = confirmation.content.decode()
    assert "2 Kunden mit laufendem Vertrag" in text and "26.04.2027" in text
    assert SubProcessor.objects.count() == 1  # nothing written before the confirmation
    response = client.post(url, {**data, "confirmed": "yes"})
    assert response.status_code == 302
    new = SubProcessor.objects.get(predecessor=row)
    assert new.location == "Nürnberg"


def test_a_refused_change_shows_on_the_form(world, verified_client, running, friday):
    row = _row()
    client = verified_client(world["people"]["provider_admin"])
    response = client.post(_url("subprocessor_change_entry", row.pk), {
        "service": "Hosting", "location": "Falkenstein", "country": "DE",
        "safeguard": Safeguard.EU_EEA, "data_categories": "alle", "valid_from": "2027-05-01",
        "confirmed": "yes"})
    assert response.status_code == 200
    assert "Keine Angabe geändert." in response.content.decode()
    assert SubProcessor.objects.count() == 1


def test_end_needs_no_notice(world, verified_client, running, friday):
    row = _row()
    before = ChangeNotice.objects.count()
    client = verified_client(world["people"]["provider_admin"])
    response = client.post(_url("subprocessor_end", row.pk),
                           {"valid_to": "2027-06-30", "confirmed": "yes"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.valid_to == date(2027, 6, 30) and ChangeNotice.objects.count() == before


@pytest.mark.parametrize("who", ["dpo", "provider_staff"])
def test_dpo_and_staff_read_the_register_only(world, verified_client, running, friday, who):
    row = _row()
    client = verified_client(world["people"][who])
    assert client.get(_url("subprocessor_changelist")).status_code == 200
    page = client.get(_url("subprocessor_change", row.pk))
    assert page.status_code == 200
    assert _url("subprocessor_change_entry", row.pk) not in page.content.decode()
    for name in ("subprocessor_change_entry", "subprocessor_replace", "subprocessor_end"):
        assert client.get(_url(name, row.pk)).status_code == 403
    assert client.get(_url("subprocessor_add")).status_code == 403


def _case(world, customer=None, **notice_fields) -> ObjectionCase:
    customer = customer or world["orgs"]["customer_a"]
    notice = ChangeNotice.objects.create(
        customer=customer, kind="subprocessor_change", title="Hetzner: neuer Standort",
        text="x", window="30d", received_on=FRIDAY, effective_on=date(2027, 5, 1),
        deadline=date(2027, 4, 26), decision="objected", decided_at=timezone.now(),
        reason="Standort passt nicht.", **notice_fields)
    return ObjectionCase.objects.create(customer=customer, notice=notice,
                                        opened_at=timezone.now())


def test_the_dpo_closes_a_case_on_its_page(world, verified_client):
    case = _case(world)
    client = verified_client(world["people"]["dpo"])
    page = client.get(_url("objectioncase_change", case.pk)).content.decode()
    assert "Standort passt nicht." in page
    assert _url("objectioncase_resolve", case.pk) in page
    refused = client.post(_url("objectioncase_resolve", case.pk),
                          {"resolution": CaseResolution.RESOLVED, "note": ""})
    assert refused.status_code == 200
    response = client.post(_url("objectioncase_resolve", case.pk), {
        "resolution": CaseResolution.SERVICE_ENDED, "note": "Leistung endet zum 30.04."})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.resolution == CaseResolution.SERVICE_ENDED
    again = client.post(_url("objectioncase_resolve", case.pk), {
        "resolution": CaseResolution.RESOLVED, "note": "noch einmal"})
    assert "bereits abgeschlossen" in again.content.decode()


@pytest.mark.parametrize("who", ["provider_staff", "partner_support"])
def test_others_cannot_close_cases(world, verified_client, who):
    case = _case(world)
    client = verified_client(world["people"][who])
    response = client.post(_url("objectioncase_resolve", case.pk), {
        "resolution": CaseResolution.RESOLVED, "note": "Vermerk"})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.resolution == CaseResolution.OPEN


def _many_rows(world, n: int) -> None:
    customer = world["orgs"]["customer_direct"]
    start = SubProcessor.objects.count()
    SubProcessor.objects.bulk_create([
        SubProcessor(name=f"Dienstleister {start + i}", service="s", location="l",
                     country="DE", data_categories="d", valid_from=FRIDAY)
        for i in range(n)])
    notices = ChangeNotice.objects.bulk_create([
        ChangeNotice(customer=customer, kind="subprocessor_change", title=f"Änderung {i}",
                     text="x", window="30d", received_on=FRIDAY, effective_on=FRIDAY,
                     deadline=date(2027, 4, 26), decision="objected",
                     decided_at=timezone.now()) for i in range(n)])
    ObjectionCase.objects.bulk_create([
        ObjectionCase(customer=customer, notice=notice, opened_at=timezone.now())
        for notice in notices])


def _count(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize("page", ["subprocessor_changelist", "objectioncase_changelist"])
def test_the_dpo_lists_run_flat_queries(world, verified_client, friday, page):
    client = verified_client(world["people"]["dpo"])
    _many_rows(world, 10)
    small = _count(client, _url(page))
    _many_rows(world, 990)
    assert _count(client, _url(page)) == small
