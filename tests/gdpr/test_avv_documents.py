"""The accepted AVV as PDF (with the acceptance evidence on its last page) and the English
reading version."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.db import transaction
from django.utils import translation
from pypdf import PdfReader

from gdpr.avv import avv_reading_html
from gdpr.documents import AVV_DOCUMENT, avv_pdf_create
from gdpr.models import SubProcessor, TomMeasure
from gdpr.services import avv_accept, avv_version_publish
from portal.documents.models import Document
from tests.gdpr.conftest import draft_version

pytestmark = pytest.mark.django_db


def _accepted(world, version):
    with transaction.atomic():
        return avv_accept(actor=world["people"]["customer_admin"],
                          customer=world["orgs"]["customer_a"], version=version,
                          sha256_seen=version.sha256, ip="192.0.2.7",
                          user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")


def _pages(document: Document) -> list[str]:
    with document.file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def test_the_pdf_holds_the_text_and_ends_with_the_evidence(world, published):
    acceptance = _accepted(world, published)
    document = avv_pdf_create(actor=world["people"]["customer_admin"], acceptance=acceptance)
    assert (document.kind, document.customer) == (AVV_DOCUMENT, world["orgs"]["customer_a"])
    pages = _pages(document)
    assert len(pages) >= 3
    text = " ".join(pages)
    assert "Vereinbarung zur Auftragsverarbeitung" in text and "Version 2026-1" in text
    assert "Maßnahme h" in text
    last = pages[-1]
    assert "Annahmenachweis" in last
    assert "192.0.2.7" in last and "Firefox/140.0" in last
    assert world["people"]["customer_admin"].email in last
    assert published.sha256[:32] in last.replace(" ", "")
    assert "Die Prüfsummen stimmen überein" in last
    assert "SHA-256 des angezeigten Textes" not in " ".join(pages[:-1])


def test_the_pdf_is_rendered_once_per_acceptance_and_reproducible(world, published):
    acceptance = _accepted(world, published)
    first = avv_pdf_create(actor=world["people"]["customer_admin"], acceptance=acceptance)
    again = avv_pdf_create(actor=world["people"]["customer_member"], acceptance=acceptance)
    assert again.pk == first.pk
    assert Document.objects.filter(kind=AVV_DOCUMENT).count() == 1
    # Rendering anew from the same acceptance gives the same bytes (dated with it).
    Document.objects.filter(pk=first.pk).update(filename="anders.pdf")
    rendered = avv_pdf_create(actor=None, acceptance=acceptance)
    assert rendered.pk != first.pk and rendered.sha256 == first.sha256
    # The document is kept as long as the evidence (three years after the year's end).
    assert rendered.retain_until is not None


def test_the_english_reading_version_says_that_the_german_text_binds(world):
    SubProcessor.objects.create(name="Hetzner Online GmbH", service="Rechenzentrum",
                                location="Falkenstein", country="DE", safeguard="eu_eea",
                                data_categories="Kundendaten", valid_from=date(2025, 1, 1))
    version = draft_version()
    TomMeasure.objects.filter(version=version, category="a").update(
        text_en="Badge readers at every entrance")
    version = avv_version_publish(actor=None, version=version)
    with translation.override("en"):
        english = avv_reading_html(version, "en")
    assert "Only the German text is binding" in english
    assert "Version 2026-1" in english
    assert "Badge readers at every entrance" in english  # English wording where entered
    assert "Maßnahme b" in english  # else the binding German one
    assert "Vereinbarung zur Auftragsverarbeitung" not in english
    # The register the binding text names (in force when it was published).
    assert "Hetzner Online GmbH" in english and "Hetzner Online GmbH" in version.text_de
    # German is the binding text itself; the English text changes no hash.
    assert avv_reading_html(version, "de") == version.text_de
    assert "Badge readers" not in version.text_de
