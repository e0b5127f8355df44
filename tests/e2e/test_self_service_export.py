"""A customer member asks for a copy of their data on "Meine Daten" in a real browser, the
queued job runs (called directly, as the worker would), the page shows the download, and the
downloaded ZIP holds their e-mail address and the PDF summary."""

from __future__ import annotations

import io
import zipfile

import pytest

from gdpr.models import DataSubjectRequest, PersonExport
from gdpr.tasks import person_export_run
from portal.roles import Role
from tests.e2e.test_login_dashboard import login
from tests.factories import OrganisationFactory, make_person

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_customer_member_requests_and_downloads_their_data(live_server, page):
    customer = OrganisationFactory(name="Bäckerei Schröder GmbH")
    member = make_person(Role.CUSTOMER_MEMBER, customer, first_name="Mila",
                         email="mila.meyer@example.com")
    login(page, live_server.url, member)
    page.click("nav.mainnav a:has-text('Datenschutz')")
    page.click("nav.actions a:has-text('Meine Daten')")
    page.click("button:has-text('Meine Daten anfordern')")
    page.wait_for_load_state()
    assert "Ihre Daten werden zusammengestellt" in page.content()
    request = DataSubjectRequest.objects.get(subject=member)
    assert request.kind == "access" and request.channel == "portal"

    export = PersonExport.objects.get(request=request)
    assert person_export_run(export.pk) == "done"
    page.goto(f"{live_server.url}/datenschutz/meine-daten/")
    assert "abrufbar bis" in page.content()
    with page.expect_download() as info:
        page.click("a:has-text('ZIP herunterladen')")
    with open(info.value.path(), "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    assert "mila.meyer@example.com" in archive.read("portal.User.json").decode("utf-8")
    assert "Zusammenfassung.pdf" in archive.namelist()
