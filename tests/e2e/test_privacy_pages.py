"""The data-protection pages in a real browser: the customer admin sees the AVV banner,
accepts the AVV, downloads it as PDF (its text holds the version and the acceptance evidence)
and objects to a pending sub-processor change with a reason; the DPO then finds the objection
with its deadline on the start page of the staff admin."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from pypdf import PdfReader

from contracts.catalogue import plans_seed
from contracts.services import booking_create
from gdpr.models import AvvAcceptance, ObjectionCase
from gdpr.services import avv_version_publish
from gdpr.services.subprocessors import subprocessor_add
from portal.models import ChangeNotice, NoticeDecision
from portal.roles import OrganisationKind, Role
from tests.e2e.test_login_dashboard import login
from tests.factories import DeviceFactory, OrganisationFactory, make_person
from tests.gdpr.conftest import draft_version

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _german_page(browser):
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


def test_customer_admin_accepts_downloads_and_objects_and_the_dpo_sees_it(live_server,
                                                                           browser):
    provider = OrganisationFactory(kind=OrganisationKind.PROVIDER, name="Anbieter GmbH")
    dpo = make_person(Role.DPO, provider, first_name="Dagmar")
    customer = OrganisationFactory(name="Bäckerei Schröder GmbH")
    admin = make_person(Role.CUSTOMER_ADMIN, customer, first_name="Claudia")
    plan = {p.code: p for p in plans_seed()}["mc-basis"]
    booking_create(actor=admin, customer=customer, plan=plan,
                   devices=[DeviceFactory(customer=customer)])
    with transaction.atomic():
        avv_version_publish(actor=None, version=draft_version("2026-1"))
    effective = timezone.localdate() + timedelta(days=40)
    subprocessor_add(actor=None, name="Cloud Inc.", service="Rechenzentrum",
                     location="Virginia", country="US", safeguard="scc",
                     data_categories="alle Kundendaten", valid_from=effective)
    notice = ChangeNotice.objects.get(customer=customer)

    context, page = _german_page(browser)
    login(page, live_server.url, admin)
    assert "Bitte nehmen Sie die neue AVV-Version 2026-1 an" in page.content()
    page.click("nav.mainnav a:has-text('Datenschutz')")
    page.click("button:has-text('AVV 2026-1 annehmen')")
    page.wait_for_load_state()
    assert "Sie haben AVV 2026-1 angenommen." in page.content()
    assert "Bitte nehmen Sie die neue AVV-Version" not in page.content()
    acceptance = AvvAcceptance.objects.get(person=admin)
    assert acceptance.ip == "127.0.0.1" and "Chrome" in acceptance.user_agent

    with page.expect_download() as info:
        page.click("form[action$='/pdf/'] button")
    with open(info.value.path(), "rb") as handle:
        pages = [p.extract_text() for p in PdfReader(io.BytesIO(handle.read())).pages]
    text = "\n".join(pages)
    assert "Version 2026-1" in text and "Cloud Inc." not in text  # not yet in force
    evidence = " ".join(pages[-1].split())
    assert "Annahmenachweis" in evidence and "127.0.0.1" in evidence
    assert admin.email in evidence and acceptance.sha256[:16] in evidence.replace(" ", "")

    page.click("a:has-text('Unterauftragsverarbeiter')")
    assert "Cloud Inc." in page.content()
    page.click("button:has-text('Widersprechen')")  # without a reason: refused
    page.wait_for_load_state()
    notice.refresh_from_db()
    assert notice.decision == NoticeDecision.PENDING
    page.fill(f"#id_notice{notice.pk}_reason", "Keine Verarbeitung in den USA.")
    page.click("button:has-text('Widersprechen')")
    page.wait_for_load_state()
    assert "Ihr Widerspruch gegen" in page.content()
    notice.refresh_from_db()
    assert notice.decision == NoticeDecision.OBJECTED and notice.decided_by == admin
    assert notice.reason == "Keine Verarbeitung in den USA."
    case = ObjectionCase.objects.get(notice=notice)
    context.close()

    context, staff = _german_page(browser)
    login(staff, live_server.url, dpo)
    staff.goto(f"{live_server.url}/admin/")
    start = staff.locator("#dpo-start")
    assert "Offene Widersprüche" in start.inner_text()
    row = start.locator("tr", has_text="Bäckerei Schröder GmbH").filter(has_text="Cloud Inc.")
    assert notice.deadline.strftime("%d.%m.%Y") in row.inner_text()
    row.locator("a").first.click()
    staff.wait_for_load_state()
    assert f"/admin/gdpr/objectioncase/{case.pk}/" in staff.url
    assert "Keine Verarbeitung in den USA." in staff.content()
    context.close()
