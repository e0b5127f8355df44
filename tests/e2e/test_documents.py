"""Documents in a real browser: the contract summary downloads as a PDF from the contract
page (POST, redirect to the document, ``Content-Disposition: attachment``)."""

from __future__ import annotations

import re

import pytest

from contracts.catalogue import plans_seed
from contracts.documents import CONTRACT_SUMMARY
from contracts.services import booking_create
from portal.documents.models import Document
from portal.roles import Role
from tests.e2e.test_login_dashboard import login
from tests.factories import DeviceFactory, OrganisationFactory, make_person

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_contract_summary_downloads_as_pdf(live_server, page):
    plan = next(plan for plan in plans_seed() if plan.code == "mc-basis")
    customer = OrganisationFactory(name="Rhein-Main Handel GmbH")
    admin = make_person(Role.CUSTOMER_ADMIN, customer)
    booking_create(actor=admin, customer=customer, plan=plan,
                   devices=[DeviceFactory(customer=customer) for _ in range(2)])
    login(page, live_server.url, admin)
    page.goto(f"{live_server.url}/vertrag/")
    with page.expect_download() as info:
        page.click("button:has-text('Vertragsübersicht (PDF)')")
    download = info.value
    document = Document.objects.get(kind=CONTRACT_SUMMARY, customer=customer)
    assert download.suggested_filename == document.filename
    assert re.fullmatch(r"Vertragsuebersicht-.+-\d{4}-\d{2}-\d{2}\.pdf",
                        download.suggested_filename)
    with open(download.path(), "rb") as handle:
        content = handle.read()
    assert content.startswith(b"%PDF-")
    assert content == document.file.open("rb").read()
