"""The DPO's start page on the admin index: AVV coverage per customer, open objections, running
change notices, reviews due; only for the DPO and the provider admin; flat queries."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from gdpr.models import ObjectionCase, ProcessingRecord, RecordKind
from gdpr.services import avv_accept
from portal.models import ChangeNotice, Organisation
from portal.roles import OrganisationKind, Role
from tests.factories import make_person

pytestmark = pytest.mark.django_db

TODAY = date(2027, 4, 12)
BERLIN = ZoneInfo("Europe/Berlin")


def _notice(customer, i=0, **fields):
    values = {"customer": customer, "kind": "subprocessor_change",
              "title": f"Neuer Unterauftragsverarbeiter {i}", "text": "x", "window": "30d",
              "received_on": date(2027, 3, 26), "effective_on": date(2027, 5, 1),
              "deadline": date(2027, 4, 26)}
    return ChangeNotice(**{**values, **fields})


def _rows(world, n):
    """``n`` customers, each with an admin, a pending notice, an open case and a record."""
    customers = Organisation.objects.bulk_create([
        Organisation(kind=OrganisationKind.CUSTOMER, name=f"Kunde {i:04}") for i in range(n)])
    notices = ChangeNotice.objects.bulk_create([_notice(c, i) for i, c in enumerate(customers)])
    objected = ChangeNotice.objects.bulk_create([
        _notice(c, i, decision="objected", decided_at=timezone.now(), reason="nein")
        for i, c in enumerate(customers)])
    ObjectionCase.objects.bulk_create([
        ObjectionCase(customer=n.customer, notice=n, opened_at=timezone.now()) for n in objected])
    ProcessingRecord.objects.bulk_create([
        ProcessingRecord(kind=RecordKind.PROCESSOR, customer=c, name=f"Betreuung {c.name}",
                         purposes="x", legal_basis="x", data_categories="x",
                         subject_categories="x", retention="x",
                         next_review_due=TODAY - timedelta(days=i % 3))
        for i, c in enumerate(customers)])
    return customers, notices


def _page(client):
    client.get(reverse("admin:index"))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response, len(queries.captured_queries)


@pytest.fixture
def today():
    with time_machine.travel(datetime(2027, 4, 12, 10, tzinfo=BERLIN), tick=False):
        yield TODAY


def test_the_dpo_sees_coverage_objections_notices_and_reviews(world, verified_client,
                                                              published, today):
    with transaction.atomic():
        avv_accept(actor=world["people"]["customer_admin"], customer=world["orgs"]["customer_a"],
                   version=published, sha256_seen=published.sha256, ip=None, user_agent="")
    _rows(world, 2)
    client = verified_client(world["people"]["dpo"])
    response, _count = _page(client)
    text = response.text
    assert "Datenschutz – Übersicht" in text
    # Kunde A accepted; Kunde B, Kunde Direkt and the two new customers did not.
    assert "1 von 5 Kunden haben sie angenommen, 0 nur eine ältere Version, 4 noch keine." in text
    assert "Kunde 0000" in text and "nie angenommen" in text
    assert "Offene Widersprüche" in text and "26.04.2027" in text
    assert "2 offen, nächste Frist 26.04.2027" in text
    assert "2 Prüfungen überfällig." in text or "1 Prüfung überfällig." in text
    assert "Betroffenenanfragen" in text
    assert reverse("admin:portal_accesslogentry_changelist") in text


@pytest.mark.parametrize("who", ["provider_staff", "partner_support"])
def test_others_do_not_get_the_start_page(world, verified_client, published, who):
    response, _count = _page(verified_client(world["people"][who]))
    assert "Datenschutz – Übersicht" not in response.text


def test_the_start_page_queries_do_not_grow_with_rows(world, verified_client, published, today):
    client = verified_client(world["people"]["dpo"])
    _rows(world, 10)
    _response, small = _page(client)
    _rows(world, 990)
    response, large = _page(client)
    print(f"\nDPO start page: {small} queries at 10 customers, {large} at 1,000")
    assert "Kunde 0999" not in response.text or "Alle Kunden ansehen" in response.text
    assert large == small


def test_the_coverage_list_pages_through_every_customer(world, verified_client, published):
    make_person(Role.CUSTOMER_ADMIN, world["orgs"]["customer_b"])  # a second admin
    client = verified_client(world["people"]["dpo"])
    url = reverse("admin:gdpr_avv_coverage")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert "Kunde B" in response.text and "0 / 2" in response.text
    # Who has not accepted yet, by name (both admins of Kunde B).
    b_admins = [m.user for m in world["orgs"]["customer_b"].memberships.select_related("user")]
    for person in b_admins:
        assert (person.get_full_name() or person.email) in response.text
    Organisation.objects.bulk_create([
        Organisation(kind=OrganisationKind.CUSTOMER, name=f"Kunde {i:04}") for i in range(1000)])
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200 and "Seite 1 von" in response.text
    print(f"\nAVV coverage list: {len(few.captured_queries)} queries at 3 customers, "
          f"{len(many.captured_queries)} at 1,003")
    assert len(many.captured_queries) == len(few.captured_queries)
    assert verified_client(world["people"]["partner_support"]).get(url).status_code == 403
