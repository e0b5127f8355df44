"""A person logs in with password and TOTP in a real browser, sees the dashboard, switches
language, and a customer admin invites a colleague; adding a second authenticator asks for
password and code first."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import User
from portal.roles import Role
from tests.conftest import totp_now
from tests.factories import PASSWORD, OrganisationFactory, make_person

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(page, base: str, user) -> None:
    page.goto(f"{base}/konto/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:not(.button--small)")
    page.wait_for_url(re.compile(r"/konto/2fa/pruefen/"))
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    page.fill("input[name=token]", totp_now(device))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_login_with_totp_dashboard_and_language_switch(live_server, page, settings):
    customer = OrganisationFactory(name="Bäckerei Schröder GmbH")
    user = make_person(Role.CUSTOMER_ADMIN, customer, first_name="Claudia")
    login(page, live_server.url, user)

    assert page.locator("h1").inner_text() == "Willkommen, Claudia"
    assert "Bäckerei Schröder GmbH" in page.content()
    assert page.locator("html").get_attribute("lang") == "de"

    page.select_option("#language-select", "en")
    page.click("form.langswitch button")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Welcome, Claudia"
    user.refresh_from_db()
    assert user.language == "en"


def test_customer_admin_invites_a_colleague(live_server, page, settings):
    settings.PORTAL_BASE_URL = live_server.url
    customer = OrganisationFactory(name="Kanzlei Weber")
    admin = make_person(Role.CUSTOMER_ADMIN, customer)
    login(page, live_server.url, admin)

    page.click("nav >> text=Team")
    page.click("text=Person einladen")
    page.fill("input[name=first_name]", "Eva")
    page.fill("input[name=last_name]", "Neumann")
    page.fill("input[name=email]", "eva.neumann@kanzlei-weber.example")
    page.select_option("select[name=role]", Role.CUSTOMER_MEMBER)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/team/")
    assert "Eva Neumann wurde eingeladen" in page.content()
    assert "eingeladen" in page.locator("table.list").inner_text()

    invited = User.objects.get(email="eva.neumann@kanzlei-weber.example")
    assert invited.memberships.get().organisation == customer
    assert len(mail.outbox) == 1
    link = re.search(r"http\S+/einladung/\S+/", mail.outbox[0].body).group(0)

    # The colleague accepts the invitation, logs in and must enrol a second factor first.
    page.context.clear_cookies()
    page.goto(link)
    page.fill("input[name=password1]", "Ein-sehr-gutes-Passwort-7")
    page.fill("input[name=password2]", "Ein-sehr-gutes-Passwort-7")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/konto/login/"))
    page.fill("input[name=login]", invited.email)
    page.fill("input[name=password]", "Ein-sehr-gutes-Passwort-7")
    page.click("button[type=submit]:not(.button--small)")
    page.wait_for_url(re.compile(r"/konto/2fa/einrichten/"))
    device = TOTPDevice.objects.get(user=invited, confirmed=False)
    page.fill("input[name=token]", totp_now(device))
    page.click("main form:not(.actions) button[type=submit]")
    assert page.locator("[data-testid=backup-codes] li").count() == 10
    page.click("text=Ich habe die Codes gesichert")
    page.wait_for_url(f"{live_server.url}/")
    assert "Kanzlei Weber" in page.content()


def test_a_second_authenticator_needs_password_and_code_first(live_server, page):
    user = make_person(Role.CUSTOMER_ADMIN, OrganisationFactory(name="Praxis Dr. Yılmaz"))
    login(page, live_server.url, user)

    page.goto(f"{live_server.url}/konto/sicherheit/")
    page.click("text=Weitere Authenticator-App hinzufügen")
    page.wait_for_url(re.compile(r"/konto/sicherheit/bestaetigen/"))
    assert page.locator("h1").inner_text() == "Identität bestätigen"
    assert page.locator("svg").count() == 0  # no QR code before the confirmation
    page.fill("input[name=password]", PASSWORD)
    # The login just used this step's TOTP code (django-otp refuses a replay): a backup code.
    page.fill("input[name=token]", "backup01")
    page.click("[data-testid=reauthenticate-form] button[type=submit]")

    page.wait_for_url(re.compile(r"/konto/2fa/einrichten/"))
    assert page.locator(".qr svg").count() == 1
    new_device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert page.locator("[data-testid=totp-secret]").inner_text()
    page.fill("input[name=token]", totp_now(new_device))
    page.click("main form:not(.actions) button[type=submit]")
    page.wait_for_url(f"{live_server.url}/konto/sicherheit/")
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 2
    # Both authenticators are listed, each now with a button to remove it.
    assert page.locator("form.inline-form button").count() == 2
