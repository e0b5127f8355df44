"""The "Datenschutz" pages in a real browser: the customer admin sees the AVV banner, accepts
the AVV, downloads it as PDF (its text holds the version and the acceptance evidence) and
objects to a pending sub-processor change with a reason."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from pypdf import PdfReader

from gdpr.models import AvvAcceptance, SubProcessor
from gdpr.services import avv_version_publish
from portal.change_notices.services import change_notice_issue
from portal.models import ChangeNotice, NoticeDecision
from portal.roles import OrganisationKind, Role
from tests.e2e.test_login_dashboard import login
from tests.factories import OrganisationFactory, make_person
from tests.gdpr.conftest import draft_version
from tests.gdpr.test_portal_pages import subprocessor_kind  # noqa: F401 (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_customer_admin_accepts_downloads_and_objects(live_server, page, subprocessor_kind):  # noqa: F811
    provider = OrganisationFactory(kind=OrganisationKind.PROVIDER, name="Anbieter GmbH")
    customer = OrganisationFactory(name="Bäckerei Schröder GmbH")
    admin = make_person(Role.CUSTOMER_ADMIN, customer, first_name="Claudia")
    with transaction.atomic():
        avv_version_publish(actor=None, version=draft_version("2026-1"))
    cloud = SubProcessor.objects.create(
        name="Cloud Inc.", service="Rechenzentrum", location="Virginia", country="US",
        safeguard="scc", data_categories="alle Kundendaten",
        valid_from=timezone.localdate() + timedelta(days=40))
    with transaction.atomic():
        [notice] = change_notice_issue(
            actor=make_person(Role.PROVIDER_STAFF, provider), kind="subprocessor_change",
            customers=[customer], title="Neuer Unterauftragsverarbeiter Cloud Inc.",
            text="Cloud Inc. übernimmt das Rechenzentrum.", subject=cloud,
            effective_on=timezone.localdate() + timedelta(days=40))

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
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(handle.read())).pages)
    assert "2026-1" in text
    assert "127.0.0.1" in text and acceptance.sha256[:16] in text.replace("\n", "")

    page.click("a:has-text('Unterauftragsverarbeiter')")
    page.fill(f"#id_notice{notice.pk}_reason", "Keine Verarbeitung in den USA.")
    page.click("button:has-text('Widersprechen')")
    page.wait_for_load_state()
    assert "Ihr Widerspruch gegen" in page.content()
    notice.refresh_from_db()
    assert notice.decision == NoticeDecision.OBJECTED and notice.decided_by == admin
    assert ChangeNotice.objects.get(pk=notice.pk).reason == "Keine Verarbeitung in den USA."
