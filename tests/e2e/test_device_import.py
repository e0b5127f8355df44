"""A customer admin imports the shipped sample inventory in a real browser: upload, preview,
confirm, and the devices are in the list; then exports the inventory again."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.conf import settings

from devices.models import Device
from portal.roles import Role
from tests.e2e.test_login_dashboard import login
from tests.factories import OrganisationFactory, make_person

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SAMPLE = Path(settings.BASE_DIR) / "docs" / "samples" / "devices.csv"


def _sample_rows() -> list[dict]:
    text = SAMPLE.read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


@pytest.mark.parametrize("sample", ["devices.csv", "devices.xlsx"])
def test_customer_admin_imports_the_sample_file(live_server, page, sample):
    customer = OrganisationFactory(name="Rhein-Main Handel GmbH")
    admin = make_person(Role.CUSTOMER_ADMIN, customer)
    rows = _sample_rows()
    login(page, live_server.url, admin)

    page.click("nav >> text=Geräte")
    page.click("main >> text=Importieren")
    page.set_input_files("input[type=file]", str(SAMPLE.with_name(sample)))
    page.click("main button[type=submit]")

    # The preview: every row new, nothing written yet.
    page.wait_for_selector("text=Übernehmen")
    assert Device.objects.filter(customer=customer).count() == 0
    body = page.locator("main").inner_text()
    assert str(len(rows)) in body
    assert "fehlerhaft" in body.lower() or "neu" in body.lower()

    page.click("main button:has-text('Übernehmen')")
    page.wait_for_selector("text=Zur Geräteliste")
    assert Device.objects.filter(customer=customer).count() == len(rows)

    page.click("text=Zur Geräteliste")
    listing = page.locator("table.list").inner_text()
    assert rows[0]["hostname"] in listing
    assert rows[0]["serial"] in listing

    with page.expect_download() as download_info:
        page.click("main >> text=Exportieren (CSV)")
    exported = Path(download_info.value.path()).read_bytes().decode("utf-8-sig")
    assert exported.splitlines()[0].startswith("hostname;serial;kind")
    assert rows[0]["serial"] in exported
