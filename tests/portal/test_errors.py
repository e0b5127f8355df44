"""Error pages with DEBUG off: 403, 404, a failed CSRF check and 500 are styled, German (the
person's language), and offer a way back; 500 renders without request, context processors or
database."""

from __future__ import annotations

import pytest
from django.template import engines
from django.test import Client
from django.urls import path

from portal.roles import Role
from portal.urls import urlpatterns as portal_urlpatterns
from tests.factories import OrganisationFactory, make_person


def _broken_view(request):
    raise RuntimeError("kaputt")


urlpatterns = [path("test-fehler/", _broken_view), *portal_urlpatterns]


@pytest.fixture(autouse=True)
def _production_like(settings):
    settings.DEBUG = False


@pytest.mark.django_db
def test_404_is_a_styled_german_page_with_a_way_back(verified_client):
    client = verified_client(make_person(Role.CUSTOMER_ADMIN, OrganisationFactory()))
    response = client.get("/gibt-es-nicht/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Seite nicht gefunden" in html
    assert 'href="/"' in html and "Zur Übersicht" in html
    assert "portal/portal.css" in html
    assert '<html lang="de">' in html


@pytest.mark.django_db
def test_403_names_the_reason_and_offers_the_way_back(verified_client):
    member = make_person(Role.CUSTOMER_MEMBER, OrganisationFactory())
    response = verified_client(member).get("/team/einladen/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Kein Zugriff" in html
    assert "Nur Kunden-Administratoren können Kollegen einladen." in html
    assert "Zur Übersicht" in html and "Forbidden" not in html


@pytest.mark.django_db
def test_failed_csrf_check_is_explained_in_the_portal_layout():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/konto/login/", {"login": "a@example.com", "password": "x"},
                           HTTP_REFERER="http://testserver/konto/login/?next=/vertrag/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Formular abgelaufen" in html
    assert 'href="http://testserver/konto/login/?next=/vertrag/"' in html
    assert "CSRF verification failed" not in html
    assert "Zur Anmeldung" in html


@pytest.mark.django_db
def test_failed_csrf_check_never_links_to_another_site():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/konto/login/", HTTP_REFERER="https://evil.example/")
    assert "evil.example" not in response.content.decode()
    assert 'href="/konto/login/"' in response.content.decode()


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_500_is_the_styled_page():
    response = Client(raise_request_exception=False).get("/test-fehler/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Technischer Fehler" in html and 'href="/"' in html
    assert "portal/portal.css" in html


def test_500_renders_without_request_context_processors_or_database():
    """No ``db`` fixture: a database query would fail the test."""
    html = engines["django"].get_template("500.html").render()
    assert "Technischer Fehler" in html and "Zur Übersicht" in html


@pytest.mark.django_db
def test_error_pages_follow_the_language(verified_client, settings):
    client = verified_client(make_person(Role.CUSTOMER_ADMIN, OrganisationFactory()))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/gibt-es-nicht/")
    assert '<html lang="en">' in response.content.decode()
