"""The document service: reproducible PDFs from bundled fonts, a fetcher that refuses remote
URLs, stored with their SHA-256, served only to the customer's people behind the MFA gate, and
registered for the purge."""

from __future__ import annotations

import copy
import hashlib
import io
import logging
import socket
from datetime import date, datetime

import pytest
from django.core.files.storage import default_storage
from django.test import TestCase, override_settings
from django.urls import reverse

from portal.documents.kinds import DocumentKind, kind_label, kinds
from portal.documents.models import Document
from portal.documents.privacy import BUSINESS_LETTER_RETENTION
from portal.documents.render import PDF_A, DocumentRenderError, html_to_pdf, render_pdf
from portal.documents.services import document_create
from portal.models import AccessLogEntry, AuditEvent
from portal.periods import BERLIN
from portal.privacy import entries, purge_for_customer
from tests.pdf import pdf_fonts, pdf_mapped_characters, pdf_streams

LETTER = ("{% load i18n %}<html><body><h1>{{ title }}</h1>"
          "<p>{% translate 'Übersicht' %}: Grüße aus Köln, Maß</p></body></html>")
REMOTE = '<html><body><img src="https://example.com/logo.png"><p>x</p></body></html>'
TEST_TEMPLATES = {"test/letter.html": LETTER, "test/remote.html": REMOTE}
ISSUED = datetime(2026, 3, 10, 9, 30, tzinfo=BERLIN)


@pytest.fixture
def templates(settings):
    """The project's templates plus the test's own (in memory)."""
    engine = copy.deepcopy(settings.TEMPLATES[0])
    engine["APP_DIRS"] = False
    engine["OPTIONS"]["loaders"] = [
        ("django.template.loaders.locmem.Loader", TEST_TEMPLATES),
        "django.template.loaders.filesystem.Loader",
        "django.template.loaders.app_directories.Loader"]
    with override_settings(TEMPLATES=[engine]):
        yield


@pytest.fixture(autouse=True)
def test_kinds():
    """The kinds these tests make, declared as an app declares its own."""
    for code in ("test_letter", "x"):
        kinds.register(DocumentKind(code, f"Testdokument {code}"))
    yield
    for code in ("test_letter", "x"):
        kinds.unregister(code)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to resolve or connect fails the test."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def make_document(customer, actor, **kwargs) -> Document:
    return document_create(actor=actor, customer=customer, kind="test_letter",
                           template="test/letter.html", context={"title": "Brief"},
                           filename="brief.pdf", title="Testbrief", issued=ISSUED, **kwargs)


# --- rendering --------------------------------------------------------------------------------

def test_render_yields_a_pdf_in_the_bundled_font_with_umlauts(db, templates, no_network):
    data = render_pdf("test/letter.html", {"title": "Bestätigung"}, lang="de", issued=ISSUED)
    assert data.startswith(b"%PDF-")
    assert pdf_fonts(data) == {"Portal-Sans-Bold", "Portal-Sans"}
    assert {"ä", "ü", "ö", "ß"} <= pdf_mapped_characters(data)


def test_same_input_gives_the_same_bytes(db, templates):
    first = render_pdf("test/letter.html", {"title": "A"}, lang="de", issued=ISSUED)
    again = render_pdf("test/letter.html", {"title": "A"}, lang="de", issued=ISSUED)
    other_day = render_pdf("test/letter.html", {"title": "A"}, lang="de",
                           issued=datetime(2026, 3, 11, tzinfo=BERLIN))
    assert first == again
    assert first != other_day
    assert b"D:20260310083000" in pdf_streams(first)  # the document's date, in UTC


def test_source_date_epoch_dates_a_pdf_without_its_own_date(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01 00:00 UTC
    assert b"D:20260101000000" in pdf_streams(html_to_pdf("<p>x</p>"))


def test_pdf_a_3b_variant_is_reproducible_and_declared():
    first = html_to_pdf("<p>Prüfung</p>", issued=ISSUED, variant=PDF_A)
    assert first == html_to_pdf("<p>Prüfung</p>", issued=ISSUED, variant=PDF_A)
    xmp = pdf_streams(first)
    assert b"pdfaid:part" in xmp and b"pdfaid:conformance" in xmp


@pytest.mark.parametrize("url", ["https://example.com/logo.png", "http://127.0.0.1/x.css",
                                 "file:///etc/passwd", "data:image/png;base64,iVBORw0KGgo="])
def test_urls_outside_the_bundle_are_refused_without_network(url, no_network):
    with pytest.raises(DocumentRenderError, match="refused"):
        html_to_pdf(f'<html><body><img src="{url}"></body></html>')
    assert no_network == []


def test_remote_url_in_a_template_stops_document_create(world, templates, no_network):
    customer = world["orgs"]["customer_a"]
    with pytest.raises(DocumentRenderError):
        document_create(actor=None, customer=customer, kind="x", template="test/remote.html",
                        context={}, filename="x.pdf", title="x")
    assert not Document.objects.exists()
    assert no_network == []


# --- storing ----------------------------------------------------------------------------------

def test_document_create_stores_the_file_with_its_checksum_and_audits(world, templates):
    customer, admin = world["orgs"]["customer_a"], world["people"]["customer_admin"]
    document = make_document(customer, admin)
    with default_storage.open(document.file.name, "rb") as handle:
        stored = handle.read()
    assert document.sha256 == hashlib.sha256(stored).hexdigest()
    assert document.size == len(stored) and stored.startswith(b"%PDF-")
    assert document.file.name.startswith(f"documents/{customer.pk}/2026/03/")
    assert (document.filename, document.content_type) == ("brief.pdf", "application/pdf")
    assert document.retain_until is None
    event = AuditEvent.objects.get(action="document.created")
    assert (event.actor, event.organisation) == (admin, customer)
    assert event.details == {"kind": "test_letter", "sha256": document.sha256,
                             "size": document.size}


def test_a_business_letter_is_retained_six_years_after_its_year(world, templates):
    document = make_document(world["orgs"]["customer_a"], None,
                             retention=BUSINESS_LETTER_RETENTION)
    assert document.retain_until == date(2032, 12, 31)


# --- downloading ------------------------------------------------------------------------------

def test_owner_downloads_the_file_and_the_access_is_logged(world, templates, verified_client,
                                                           django_assert_num_queries):
    customer, admin = world["orgs"]["customer_a"], world["people"]["customer_admin"]
    document = make_document(customer, admin)
    client = verified_client(admin)
    url = reverse("portal:document_download", args=[document.pk])
    # session, person, second factor, membership, document, access-log row (+ its savepoint)
    with django_assert_num_queries(6):
        response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="brief.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    entry = AccessLogEntry.objects.get(path=url)
    assert (entry.user, entry.organisation, entry.is_download, entry.status_code) == (
        admin, customer, True, 200)


def test_partner_support_of_the_customer_may_download(world, templates, verified_client):
    document = make_document(world["orgs"]["customer_a"], None)
    client = verified_client(world["people"]["partner_support"])
    assert client.get(document.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("person", ["customer_admin_b", "partner_support_b"])
def test_other_customers_get_the_same_404_as_for_no_document(world, templates, verified_client,
                                                             person):
    document = make_document(world["orgs"]["customer_a"], None)
    client = verified_client(world["people"][person])
    theirs = client.get(reverse("portal:document_download", args=[document.pk]))
    missing = client.get(reverse("portal:document_download", args=[document.pk + 1000]))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content


def test_unverified_session_is_sent_to_the_second_factor(world, templates, client):
    document = make_document(world["orgs"]["customer_a"], None)
    client.force_login(world["people"]["customer_admin"])
    response = client.get(document.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:mfa_verify"))


def test_anonymous_is_sent_to_login(world, templates, client):
    document = make_document(world["orgs"]["customer_a"], None)
    response = client.get(document.get_absolute_url())
    assert response.status_code == 302 and "/konto/login/" in response["Location"]


def test_tampered_file_is_refused_logged_and_audited(world, templates, verified_client, caplog):
    customer, admin = world["orgs"]["customer_a"], world["people"]["customer_admin"]
    document = make_document(customer, admin)
    default_storage.delete(document.file.name)
    default_storage.save(document.file.name, io.BytesIO(b"%PDF-1.7 forged"))
    client = verified_client(admin)
    with caplog.at_level(logging.ERROR, logger="portal.documents.views"):
        response = client.get(document.get_absolute_url())
    assert response.status_code == 409
    assert "Content-Disposition" not in response
    assert "Prüfsumme" in response.content.decode()
    assert "does not match its SHA-256" in caplog.text
    event = AuditEvent.objects.get(action="document.integrity_failed")
    assert (event.actor, event.details) == (admin, {"sha256": document.sha256})


# --- privacy ----------------------------------------------------------------------------------

def test_purge_deletes_documents_without_retention_and_keeps_business_letters(world,
                                                                             templates):
    customer, admin = world["orgs"]["customer_a"], world["people"]["customer_admin"]
    summary = make_document(customer, admin)
    letter = make_document(customer, admin, retention=BUSINESS_LETTER_RETENTION)
    other = make_document(world["orgs"]["customer_b"], None)
    assert "portal.Document" in entries
    with TestCase.captureOnCommitCallbacks(execute=True):
        outcomes = purge_for_customer(customer, actor=world["people"]["provider_admin"])
    outcome = next(o for o in outcomes if o.model == "portal.Document")
    assert (outcome.deleted, outcome.retained) == (1, 1)
    assert set(Document.objects.values_list("pk", flat=True)) == {letter.pk, other.pk}
    assert not default_storage.exists(summary.file.name)
    letter.refresh_from_db()
    assert letter.created_by is None and default_storage.exists(letter.file.name)


# --- admin ------------------------------------------------------------------------------------

def test_staff_read_documents_in_the_admin_and_download_through_the_view(world, templates,
                                                                         verified_client):
    document = make_document(world["orgs"]["customer_a"], None)
    client = verified_client(world["people"]["provider_staff"])
    listing = client.get(reverse("admin:portal_document_changelist"))
    assert listing.status_code == 200 and "Testbrief" in listing.content.decode()
    page = client.get(reverse("admin:portal_document_change", args=[document.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert f'href="{document.get_absolute_url()}"' in body
    assert "/media/" not in body  # the storage has no public URL to show
    assert client.post(reverse("admin:portal_document_delete", args=[document.pk]),
                       {"post": "yes"}).status_code == 403
    assert Document.objects.filter(pk=document.pk).exists()


def test_partner_support_has_no_document_admin(world, verified_client):
    client = verified_client(world["people"]["partner_support"])
    assert client.get(reverse("admin:portal_document_changelist")).status_code == 403


def test_a_kind_nobody_declared_is_refused(world, templates):
    with pytest.raises(ValueError, match="not declared"):
        document_create(actor=None, customer=world["orgs"]["customer_a"], kind="undeclared",
                        template="test/letter.html", context={}, filename="x.pdf", title="x")
    assert not Document.objects.exists()


def test_the_admin_shows_the_kind_by_its_label(world, templates, verified_client):
    document = make_document(world["orgs"]["customer_a"], world["people"]["customer_admin"])
    client = verified_client(world["people"]["provider_admin"])
    page = client.get(reverse("admin:portal_document_changelist")).content.decode()
    assert "Testdokument test_letter" in page and ">test_letter<" not in page
    assert kind_label(document.kind) == "Testdokument test_letter"
    assert kind_label("retired_kind") == "retired_kind"
