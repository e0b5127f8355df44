"""The portal's own Content-Security-Policy blocks nothing on its own pages (no inline styles or
scripts), checked in a real browser, plus a static check of every template."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from portal.roles import Role
from tests.e2e.test_login_dashboard import login
from tests.factories import PASSWORD, DeviceFactory, OrganisationFactory, make_person

CUSTOMER_PAGES = ("/", "/team/", "/team/einladen/", "/konto/sicherheit/", "/geraete/",
                  "/geraete/neu/", "/geraete/import/", "/vertrag/", "/vertrag/leistungen/",
                  "/vertrag/buchen/")
INLINE = re.compile(r"""\sstyle\s*=|<style[\s>]|<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+\s*=""",
                    re.IGNORECASE)


def _collect_csp_violations(page) -> list[str]:
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    return violations


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_customer_pages_raise_no_csp_violation(live_server, page):
    customer = OrganisationFactory(name="Weber & Söhne GmbH")
    admin = make_person(Role.CUSTOMER_ADMIN, customer)
    make_person(Role.CUSTOMER_MEMBER, customer)
    DeviceFactory(customer=customer)
    violations = _collect_csp_violations(page)
    login(page, live_server.url, admin)
    for path in CUSTOMER_PAGES:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        # The policy is really in force (a missing header would make this test pointless).
        assert "style-src 'self'" in response.headers["content-security-policy"], path
    assert violations == []


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_enrolment_page_raises_no_csp_violation(live_server, page):
    person = make_person(Role.CUSTOMER_ADMIN, OrganisationFactory(), mfa=False)
    violations = _collect_csp_violations(page)
    page.goto(f"{live_server.url}/konto/login/")
    page.fill("input[name=login]", person.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:not(.button--small)")
    page.wait_for_url(re.compile(r"/konto/2fa/einrichten/"))
    assert page.locator("svg").count() >= 1  # the QR code
    assert violations == []


def test_no_template_for_a_browser_has_inline_styles_or_scripts():
    """E-mail templates may carry inline styles (mail clients need them); pages may not."""
    root = Path(settings.BASE_DIR) / "templates"
    offenders = []
    for template in root.rglob("*.html"):
        if "email" in template.relative_to(root).parts:
            continue
        for number, line in enumerate(template.read_text().splitlines(), start=1):
            if INLINE.search(line):
                offenders.append(f"{template.relative_to(root)}:{number}: {line.strip()}")
    assert offenders == []
