"""The customer portal's "Datenschutz" pages: accepting the AVV (admins only, as shown, once),
reading it (members, partner support for its customers), the English reading version, the
TOMs, the sub-processor register with its pending changes and the objection, the change
notices received, the banner until the current version is accepted, the MFA gate, and flat
query counts of the lists."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gdpr.models import AvvAcceptance, SubProcessor
from gdpr.services import avv_version_publish
from portal.change_notices.kinds import kind_get
from portal.change_notices.services import change_notice_issue
from portal.models import AuditEvent, ChangeNotice, NoticeDecision
from portal.periods import BERLIN
from tests.gdpr.conftest import draft_version

pytestmark = pytest.mark.django_db

SUBPROCESSOR = "subprocessor_change"
AVV = reverse("gdpr:avv")
ACCEPT = reverse("gdpr:avv_accept")


@pytest.fixture
def subprocessor_kind():
    """The sub-processor kind as gdpr declares it (30 days, reason required)."""
    return kind_get(SUBPROCESSOR)


def _at(day: date, hour: int = 12):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN),
                               tick=False)


def _subprocessor(name="Hosting GmbH", *, valid_from=date(2026, 1, 1), **extra):
    values = {"service": "Rechenzentrum", "location": "Frankfurt am Main", "country": "DE",
              "data_categories": "alle Kundendaten", "valid_from": valid_from, **extra}
    return SubProcessor.objects.create(name=name, **values)


def _subprocessor_notice(world, subject, *, sent_on=date(2027, 3, 26), customer="customer_a"):
    with _at(sent_on), transaction.atomic():
        [notice] = change_notice_issue(
            actor=world["people"]["provider_staff"], kind=SUBPROCESSOR,
            customers=[world["orgs"][customer]], title=f"Neuer Unterauftragsverarbeiter "
            f"{subject.name}", text=f"{subject.name} übernimmt das Hosting.", subject=subject,
            effective_on=date(2027, 5, 1), sent_on=sent_on)
    return notice


# --- AVV: accepting, reading ----------------------------------------------------------------

def test_a_customer_admin_accepts_the_avv_shown_with_evidence(world, published, verified_client):
    client = verified_client(world["people"]["customer_admin"])
    page = client.get(AVV)
    form = page.context["form"]
    assert form is not None and published.sha256 in page.content.decode()
    assert published.text_de.strip()[:40] in page.content.decode()
    response = client.post(ACCEPT, {"version": published.pk, "sha256": published.sha256},
                           REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT="Firefox/140 Test")
    assert response.status_code == 302 and response.url == AVV
    acceptance = AvvAcceptance.objects.get()
    assert (acceptance.person, acceptance.customer, acceptance.version) == (
        world["people"]["customer_admin"], world["orgs"]["customer_a"], published)
    assert (acceptance.ip, acceptance.user_agent, acceptance.sha256) == (
        "198.51.100.23", "Firefox/140 Test", published.sha256)
    assert AuditEvent.objects.filter(action="avv.accepted").count() == 1
    page = client.get(AVV)
    assert page.context["form"] is None
    assert page.context["page"].own_acceptance == acceptance
    assert "angenommen" in page.content.decode()


def test_a_second_submit_says_already_accepted_and_stores_nothing_more(world, published,
                                                                       verified_client):
    client = verified_client(world["people"]["customer_admin"])
    data = {"version": published.pk, "sha256": published.sha256}
    client.post(ACCEPT, data)
    response = client.post(ACCEPT, data, follow=True)
    assert "bereits angenommen" in response.content.decode()
    assert AvvAcceptance.objects.count() == 1


def test_a_version_no_longer_current_is_refused_and_the_new_one_shown(world, published,
                                                                      verified_client):
    client = verified_client(world["people"]["customer_admin"])
    client.get(AVV)  # the page is opened with 2026-1 ...
    with transaction.atomic():
        newer = avv_version_publish(actor=None, version=draft_version("2026-2", extra=" neu"))
    response = client.post(ACCEPT, {"version": published.pk, "sha256": published.sha256},
                           follow=True)  # ... and submitted after 2026-2 was published
    body = response.content.decode()
    assert "nicht mehr aktuell" in body and "2026-2" in body
    assert not AvvAcceptance.objects.exists()
    assert response.context["page"].current == newer
    assert response.context["form"].initial == {"version": newer.pk, "sha256": newer.sha256}


def test_a_tampered_form_is_refused_with_a_message(world, published, verified_client):
    client = verified_client(world["people"]["customer_admin"])
    response = client.post(ACCEPT, {"version": published.pk, "sha256": "x"}, follow=True)
    assert "bitte laden Sie die Seite neu" in response.content.decode()
    assert not AvvAcceptance.objects.exists()


def test_a_member_reads_but_cannot_accept(world, published, verified_client):
    client = verified_client(world["people"]["customer_member"])
    page = client.get(AVV)
    assert page.status_code == 200 and page.context["form"] is None
    assert "annehmen</button>" not in page.content.decode()
    response = client.post(ACCEPT, {"version": published.pk, "sha256": published.sha256})
    assert response.status_code == 403
    assert not AvvAcceptance.objects.exists()


def test_partner_support_sees_its_customers_state_read_only(world, published, verified_client):
    with transaction.atomic():
        from gdpr.services import avv_accept

        avv_accept(actor=world["people"]["customer_admin"], customer=world["orgs"]["customer_a"],
                   version=published, sha256_seen=published.sha256, ip=None, user_agent="")
    client = verified_client(world["people"]["partner_support"])
    assert client.get(AVV).templates[0].name == "portal/pick_customer.html"
    customer = world["orgs"]["customer_a"]
    page = client.get(AVV, {"kunde": customer.pk})
    body = page.content.decode()
    assert page.status_code == 200 and page.context["form"] is None
    assert "aktuelle Version angenommen" in body
    assert world["people"]["customer_admin"].get_full_name() in body
    response = client.post(ACCEPT, {"kunde": customer.pk, "version": published.pk,
                                    "sha256": published.sha256})
    assert response.status_code == 403
    assert AvvAcceptance.objects.count() == 1
    assert client.get(AVV, {"kunde": world["orgs"]["customer_b"].pk}).status_code == 404


def test_the_accepted_avv_downloads_as_pdf(world, published, verified_client):
    client = verified_client(world["people"]["customer_admin"])
    client.post(ACCEPT, {"version": published.pk, "sha256": published.sha256})
    acceptance = AvvAcceptance.objects.get()
    response = client.post(reverse("gdpr:avv_pdf", args=[acceptance.pk]))
    assert response.status_code == 302
    download = client.get(response.url)
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    other = verified_client(world["people"]["customer_admin_b"])
    assert other.post(reverse("gdpr:avv_pdf", args=[acceptance.pk])).status_code == 404


def test_english_reading_version_says_the_german_text_binds(world, published, verified_client):
    client = verified_client(world["people"]["customer_member"])
    assert reverse("gdpr:avv_english") in client.get(AVV).content.decode()
    response = client.get(reverse("gdpr:avv_english"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "verbindlich ist der deutsche Text" in body and 'lang="en"' in body
    english = client.get(AVV, HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 200


def test_toms_and_dpo_pages(world, published, verified_client, settings):
    settings.PORTAL_DPO_CONTACT = "Dr. Datenschutz; dsb@anbieter.example"
    client = verified_client(world["people"]["customer_member"])
    toms = client.get(reverse("gdpr:toms")).content.decode()
    assert "Zutrittskontrolle" in toms and "Maßnahme h" in toms
    dpo = client.get(reverse("gdpr:dpo")).content.decode()
    assert "Dr. Datenschutz" in dpo and "dsb@anbieter.example" in dpo


# --- the banner -----------------------------------------------------------------------------

def test_banner_on_every_page_until_the_admin_accepted(world, published, verified_client):
    client = verified_client(world["people"]["customer_admin"])
    text = "Bitte nehmen Sie die neue AVV-Version 2026-1 an"
    for url in (reverse("portal:dashboard"), reverse("contracts:contract"), AVV):
        assert text in client.get(url).content.decode(), url
    client.post(ACCEPT, {"version": published.pk, "sha256": published.sha256})
    assert text not in client.get(reverse("portal:dashboard")).content.decode()
    with transaction.atomic():
        avv_version_publish(actor=None, version=draft_version("2026-2", extra=" neu"))
    assert "AVV-Version 2026-2" in client.get(reverse("portal:dashboard")).content.decode()


def test_no_banner_for_members_and_partner_support(world, published, verified_client):
    for who in ("customer_member", "partner_support"):
        client = verified_client(world["people"][who])
        assert "AVV-Version" not in client.get(reverse("portal:dashboard")).content.decode()


def test_the_banner_costs_one_query(world, published):
    from gdpr.selectors.avv import avv_label_to_accept
    from portal.tenancy import membership_of

    admin, member = world["people"]["customer_admin"], world["people"]["customer_member"]
    membership_of(admin), membership_of(member)  # every request has looked it up already
    with CaptureQueriesContext(connection) as queries:
        assert avv_label_to_accept(admin) == "2026-1"
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        assert avv_label_to_accept(member) is None
    assert len(queries) == 0


# --- sub-processors, notices, objection -----------------------------------------------------

def test_subprocessor_page_lists_the_register_and_the_pending_change(world, verified_client,
                                                                     subprocessor_kind):
    old = _subprocessor(valid_to=date(2027, 4, 30))
    _subprocessor("Mail AG", service="E-Mail-Versand", country="IE", location="Dublin",
                  safeguard="eu_eea")
    _subprocessor("Alt GmbH", valid_from=date(2020, 1, 1), valid_to=date(2021, 1, 1))
    new = _subprocessor("Cloud Inc.", valid_from=date(2027, 5, 1), country="US",
                        location="Virginia", safeguard="scc", predecessor=old)
    notice = _subprocessor_notice(world, new)
    with _at(date(2027, 4, 1)):
        client = verified_client(world["people"]["customer_admin"])
        response = client.get(reverse("gdpr:subprocessors"))
    body = response.content.decode()
    assert [row.name for row in response.context["page"].object_list] == [
        "Hosting GmbH", "Mail AG"]
    [change] = response.context["changes"]
    assert change["notice"] == notice and change["subprocessor"] == new
    assert change["predecessor"] == old and change["form"] is not None
    assert "ersetzt Hosting GmbH" in body and "26.04.2027" in body
    assert "Standardvertragsklauseln" in body


def test_objection_with_reason_is_recorded(world, verified_client, subprocessor_kind):
    notice = _subprocessor_notice(world, _subprocessor())
    url = reverse("gdpr:notice_object", args=[notice.pk])
    with _at(date(2027, 4, 26)):
        client = verified_client(world["people"]["customer_admin"])
        response = client.post(url, {"reason": "Kein Hosting außerhalb Deutschlands.",
                                     "next": reverse("gdpr:subprocessors")})
    assert response.status_code == 302 and response.url == reverse("gdpr:subprocessors")
    notice.refresh_from_db()
    assert notice.decision == NoticeDecision.OBJECTED
    assert notice.decided_by == world["people"]["customer_admin"]
    assert notice.reason == "Kein Hosting außerhalb Deutschlands."


def test_objection_without_reason_is_a_form_error(world, verified_client, subprocessor_kind):
    notice = _subprocessor_notice(world, _subprocessor())
    with _at(date(2027, 4, 1)):
        client = verified_client(world["people"]["customer_admin"])
        response = client.post(reverse("gdpr:notice_object", args=[notice.pk]), {"reason": " "})
    assert response.status_code == 400
    assert "Bitte begründen Sie Ihren Widerspruch." in response.content.decode()
    notice.refresh_from_db()
    assert notice.decision == NoticeDecision.PENDING


def test_objection_after_the_deadline_is_refused_with_the_deadline(world, verified_client,
                                                                  subprocessor_kind):
    notice = _subprocessor_notice(world, _subprocessor())
    with _at(date(2027, 4, 27)):
        client = verified_client(world["people"]["customer_admin"])
        page = client.get(reverse("gdpr:notice", args=[notice.pk]))
        assert page.context["form"] is None
        assert "Die Widerspruchsfrist endete am 26.04.2027." in page.content.decode()
        response = client.post(reverse("gdpr:notice_object", args=[notice.pk]),
                               {"reason": "zu spät"}, follow=True)
    assert "Die Widerspruchsfrist endete am 26.04.2027." in response.content.decode()
    notice.refresh_from_db()
    assert notice.decision == NoticeDecision.PENDING


def test_members_and_partner_support_cannot_object(world, verified_client, subprocessor_kind):
    notice = _subprocessor_notice(world, _subprocessor())
    with _at(date(2027, 4, 1)):
        for who in ("customer_member", "partner_support"):
            client = verified_client(world["people"][who])
            page = client.get(reverse("gdpr:notice", args=[notice.pk]))
            assert page.status_code == 200 and page.context["form"] is None
            assert client.post(reverse("gdpr:notice_object", args=[notice.pk]),
                               {"reason": "x"}).status_code == 403
    notice.refresh_from_db()
    assert notice.decision == NoticeDecision.PENDING


def test_another_customers_notice_is_not_found(world, verified_client, subprocessor_kind):
    notice = _subprocessor_notice(world, _subprocessor(), customer="customer_b")
    client = verified_client(world["people"]["customer_admin"])
    assert client.get(reverse("gdpr:notice", args=[notice.pk])).status_code == 404
    assert client.post(reverse("gdpr:notice_object", args=[notice.pk]),
                       {"reason": "x"}).status_code == 404
    assert world["orgs"]["customer_b"].name not in client.get(
        reverse("gdpr:notices")).content.decode()


def test_opening_a_notice_records_first_sight_by_the_customer_only(world, verified_client,
                                                                  subprocessor_kind):
    notice = _subprocessor_notice(world, _subprocessor())
    verified_client(world["people"]["partner_support"]).get(
        reverse("gdpr:notice", args=[notice.pk]))
    notice.refresh_from_db()
    assert notice.first_seen_at is None
    with _at(date(2027, 3, 29), hour=9):
        page = verified_client(world["people"]["customer_member"]).get(
            reverse("gdpr:notice", args=[notice.pk]))
    notice.refresh_from_db()
    assert notice.first_seen_at is not None
    assert "gilt die Änderung als genehmigt" in page.content.decode()  # consequence of silence


def test_notices_list_shows_dates_decision_and_who_decided(world, verified_client,
                                                           subprocessor_kind):
    notice = _subprocessor_notice(world, _subprocessor())
    with _at(date(2027, 4, 2)):
        client = verified_client(world["people"]["customer_admin"])
        client.post(reverse("gdpr:notice_object", args=[notice.pk]), {"reason": "Nein."})
        body = client.get(reverse("gdpr:notices")).content.decode()
    for text in ("26.03.2027", "01.05.2027", "26.04.2027", "widersprochen",
                 world["people"]["customer_admin"].get_full_name(),
                 "Änderung der Unterauftragsverarbeiter"):
        assert text in body, text


def test_an_unverified_session_is_sent_to_the_second_factor(world, client):
    client.force_login(world["people"]["customer_admin"])
    for url in (AVV, reverse("gdpr:notices"), reverse("gdpr:subprocessors")):
        response = client.get(url)
        assert response.status_code == 302 and "/konto/2fa/" in response.url, url


# --- query counts ---------------------------------------------------------------------------

def _notices(customer, n, start=0):
    ChangeNotice.objects.bulk_create(ChangeNotice(
        customer=customer, kind=SUBPROCESSOR if i % 2 else "price_increase",
        title=f"Mitteilung {start + i}", text="x", window="30d", received_on=date(2027, 3, 26),
        effective_on=date(2027, 5, 1), deadline=date(2027, 4, 26)) for i in range(n))


def _register(n, start=0):
    SubProcessor.objects.bulk_create(SubProcessor(
        name=f"Anbieter {start + i:04d}", service="Hosting", location="Berlin", country="DE",
        data_categories="Stammdaten", valid_from=date(2026, 1, 1)) for i in range(n))


def _count(client, url) -> tuple[int, object]:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


@pytest.mark.parametrize("url_name, add", [
    ("gdpr:notices", lambda world, n, start: _notices(world["orgs"]["customer_a"], n, start)),
    ("gdpr:subprocessors", lambda world, n, start: _register(n, start)),
])
def test_list_pages_run_the_same_queries_at_10_and_1000_rows(world, published, verified_client,
                                                            subprocessor_kind, url_name, add):
    client = verified_client(world["people"]["customer_admin"])
    url = reverse(url_name)
    add(world, 10, 0)
    small, _ = _count(client, url)
    add(world, 990, 10)
    large, response = _count(client, url)
    print(f"\nqueries {url_name}: {small} at 10 rows, {large} at 1000 rows")
    assert response.context["page"].paginator.count >= 1000
    assert large == small


def test_pending_changes_run_the_same_queries_however_many(world, verified_client,
                                                           subprocessor_kind):
    url = reverse("gdpr:subprocessors")

    def add(n):
        for _ in range(n):
            _subprocessor_notice(world, _subprocessor(f"Neu {SubProcessor.objects.count()}"))

    with _at(date(2027, 4, 1)):
        client = verified_client(world["people"]["customer_admin"])
        add(2)
        small, _ = _count(client, url)
        add(8)
        large, response = _count(client, url)
    print(f"\nqueries pending changes: {small} at 2, {large} at 10")
    assert len(response.context["changes"]) == 10
    assert large == small


def test_toms_in_english_use_the_english_wording_where_entered(world, verified_client):
    from gdpr.models import TomMeasure

    version = draft_version("2026-3")
    TomMeasure.objects.filter(version=version, category="a").update(text_en="Measure a")
    with transaction.atomic():
        avv_version_publish(actor=None, version=version)
    client = verified_client(world["people"]["customer_member"])
    english = client.get(reverse("gdpr:toms"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Measure a" in english and "Maßnahme b" in english
    german = client.get(reverse("gdpr:toms")).content.decode()
    assert "Measure a" not in german and "Maßnahme a" in german


def test_the_navigation_entry_is_for_customer_roles_and_partner_support(world, verified_client):
    link = f'href="{AVV}"'
    for who, shown in (("customer_admin", True), ("customer_member", True),
                       ("partner_support", True), ("provider_staff", False), ("dpo", False)):
        body = verified_client(world["people"][who]).get(reverse("portal:dashboard"))
        assert (link in body.content.decode()) is shown, who


def test_the_dpo_reads_a_customers_notices_without_deciding(world, verified_client,
                                                            subprocessor_kind):
    notice = _subprocessor_notice(world, _subprocessor())
    with _at(date(2027, 4, 1)):
        client = verified_client(world["people"]["dpo"])
        listed = client.get(reverse("gdpr:notices"), {"kunde": world["orgs"]["customer_a"].pk})
        assert [row["notice"] for row in listed.context["rows"]] == [notice]
        page = client.get(reverse("gdpr:notice", args=[notice.pk]))
        assert page.context["form"] is None
        assert client.post(reverse("gdpr:notice_object", args=[notice.pk]),
                           {"reason": "x"}).status_code == 403
    notice.refresh_from_db()
    assert notice.first_seen_at is None and notice.decision == NoticeDecision.PENDING


def test_only_a_notice_deemed_accepted_is_shown_as_decided_by_the_deadline(world,
                                                                          verified_client):
    from django.utils import timezone

    from portal.models import ChangeNotice

    values = {"customer": world["orgs"]["customer_a"], "kind": "price_increase", "text": "x",
              "window": "4w", "received_on": date(2027, 4, 8), "effective_on": date(2027, 6, 1),
              "deadline": date(2027, 5, 7), "decided_at": timezone.now()}
    # An objection whose admin has since left the portal (decided_by cleared) ...
    objected = ChangeNotice.objects.create(title="Einspruch", decision="objected", **values)
    ChangeNotice.objects.create(title="Schweigen", decision="deemed_accepted", **values)
    client = verified_client(world["people"]["customer_admin"])
    body = client.get(reverse("gdpr:notices")).content.decode()
    assert body.count("Fristablauf") == 1
    detail = client.get(reverse("gdpr:notice", args=[objected.pk])).content.decode()
    assert "Fristablauf" not in detail  # ... is not shown as silence
