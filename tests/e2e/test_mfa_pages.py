"""On the second-factor pages (verification and enrolment) the language switch works, and
"signed in" is said only once the second factor is verified."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.roles import Role
from tests.conftest import totp_now
from tests.factories import PASSWORD, OrganisationFactory, make_person

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _password_step(page, base: str, user, landing: str) -> None:
    page.goto(f"{base}/konto/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:not(.button--small)")
    page.wait_for_url(re.compile(landing))


def _switch_language(page, code: str) -> None:
    page.select_option("#language-select", code)
    page.click("form.langswitch button")
    page.wait_for_load_state()


def test_language_switch_on_the_verification_page(live_server, page):
    user = make_person(Role.CUSTOMER_ADMIN, OrganisationFactory(), first_name="Claudia")
    _password_step(page, live_server.url, user, r"/konto/2fa/pruefen/")
    assert "angemeldet" not in page.locator("main").inner_text()

    _switch_language(page, "en")
    assert re.search(r"/konto/2fa/pruefen/", page.url)
    assert page.locator("html").get_attribute("lang") == "en"

    page.fill("input[name=token]", totp_now(TOTPDevice.objects.get(user=user, confirmed=True)))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Successfully signed in" in page.locator("ul.messages").inner_text()  # only now
    user.refresh_from_db()
    assert user.language == "de"  # the cookie only: saved only from a verified session


def test_language_switch_on_the_enrolment_page(live_server, page):
    user = make_person(Role.CUSTOMER_MEMBER, OrganisationFactory(), mfa=False)
    _password_step(page, live_server.url, user, r"/konto/2fa/einrichten/")
    _switch_language(page, "en")
    assert re.search(r"/konto/2fa/einrichten/", page.url)
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".qr svg").count() == 1
    _switch_language(page, "de")
    assert page.locator("html").get_attribute("lang") == "de"
