"""A newcomer follows the README: seed the demo, log in as the demo customer admin with the
printed password and TOTP secret, import docs/samples/devices.csv and see what it did."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django_otp.oath import TOTP

from devices.models import Device

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "docs" / "samples" / "devices.csv"
SAMPLE_ROWS = 41
UPDATED = "SRV-BACKUP01"


def readme_demo_login() -> dict:
    """The demo login the README names for the import, as `seed_demo --json` prints it."""
    readme = (ROOT / "README.md").read_text()
    email = re.search(r"log in as the demo customer admin `([^`]+)`", readme).group(1)
    out = io.StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return next(login for login in json.loads(out.getvalue()) if login["email"] == email)


def authenticator_code(secret: str) -> str:
    """What an authenticator app shows for a secret entered by hand (time-based, 6 digits)."""
    return f"{TOTP(base64.b32decode(secret)).token():06d}"


def counts(page) -> dict[str, int]:
    terms = page.locator("main dl.counts dt").all_inner_texts()
    values = page.locator("main dl.counts dd").all_inner_texts()
    return {term.strip(): int(value) for term, value in zip(terms, values, strict=True)}


def test_newcomer_imports_the_readme_sample_into_the_demo_customer(live_server, page,
                                                                  settings):
    settings.DEBUG = True  # seed_demo runs only where DEBUG is on, as with `make run`
    login = readme_demo_login()
    admin_devices = Device.objects.filter(customer__memberships__user__email=login["email"])
    before = admin_devices.count()
    backup_before = admin_devices.get(hostname=UPDATED)

    page.goto(f"{live_server.url}/konto/login/")
    page.fill("input[name=login]", login["email"])
    page.fill("input[name=password]", login["password"])
    page.click("button[type=submit]:not(.button--small)")
    page.wait_for_url(re.compile(r"/konto/2fa/pruefen/"))
    page.fill("input[name=token]", authenticator_code(login["totp_secret"]))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.click("nav >> text=Geräte")
    page.click("main >> text=Importieren")
    page.set_input_files("input[type=file]", str(SAMPLE))
    page.click("main button[type=submit]")

    page.wait_for_selector("text=Übernehmen")
    expected = {"neu": SAMPLE_ROWS - 1, "geändert": 1, "unverändert": 0, "fehlerhaft": 0}
    assert counts(page) == expected
    assert UPDATED in page.locator("main table").inner_text()
    assert admin_devices.count() == before

    page.click("main button:has-text('Übernehmen')")
    page.wait_for_selector("text=Import übernommen")
    assert counts(page) == expected
    assert admin_devices.count() == before + SAMPLE_ROWS - 1
    backup = admin_devices.get(hostname=UPDATED)
    assert backup.pk == backup_before.pk
    assert backup.location == "Lager Offenbach, Technikraum" != backup_before.location
