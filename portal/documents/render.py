"""Rendering a Django template to PDF with WeasyPrint, the same on every machine.

- Fonts: the bundled DejaVu Sans (``fonts/``, its licence beside it) through ``@font-face`` in
  the bundled ``pdf.css``; templates name no other family.
- URLs: :class:`BundledOnlyFetcher` opens ``file:`` URLs inside the bundle (this package and
  the static directories) and refuses everything else (http, https, ftp, data, files
  elsewhere) with a fatal error, so a template that names a remote image fails its first
  test instead of calling out while it renders.
- Reproducible: the PDF's dates come from the document's own date (``issued``, else
  ``SOURCE_DATE_EPOCH``), its identifier from the rendered HTML; the same input gives the same
  bytes (docs/adr/0014).
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

BUNDLE = Path(__file__).resolve().parent
STYLESHEET = BUNDLE / "pdf.css"
PDF_A = "pdf/a-3b"


class DocumentRenderError(RuntimeError):
    """A template asked for something the renderer refuses (e.g. a remote URL)."""


class RefusedURL(FatalURLFetchingError):
    """Fatal for WeasyPrint: stops the rendering instead of leaving a hole in the PDF."""


def bundle_roots() -> tuple[Path, ...]:
    return (BUNDLE, *(Path(d).resolve() for d in settings.STATICFILES_DIRS))


class BundledOnlyFetcher(URLFetcher):
    """Serves files of the bundle; never opens a connection."""

    def __init__(self):
        super().__init__(fail_on_errors=True)

    def fetch(self, url, headers=None):
        if not url.startswith("file:"):
            raise RefusedURL(f"refused URL (only bundled files): {url[:200]}")
        path = Path(URLFetcherResponse(url).path).resolve()
        if not any(path.is_relative_to(root) for root in bundle_roots()) or not path.is_file():
            raise RefusedURL(f"refused file outside the bundle: {path}")
        return URLFetcherResponse(url, body=path.read_bytes())


@cache
def _base() -> tuple[FontConfiguration, CSS]:
    """Fonts and the base stylesheet, loaded once per process (the fonts are parsed once)."""
    fonts = FontConfiguration()
    css = CSS(filename=str(STYLESHEET), font_config=fonts, url_fetcher=BundledOnlyFetcher())
    return fonts, css


def _pdf_date(issued: datetime | None) -> str:
    if issued is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        issued = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime(2000, 1, 1,
                                                                               tzinfo=UTC)
    return issued.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def html_to_pdf(html: str, *, issued: datetime | None = None,
                variant: str | None = None) -> bytes:
    """The PDF of ``html`` (already rendered); see the module docstring."""
    fonts, css = _base()
    try:
        document = HTML(string=html, base_url=BUNDLE.as_uri() + "/",
                        url_fetcher=BundledOnlyFetcher()).render(
            stylesheets=[css], font_config=fonts)
    except FatalURLFetchingError as exc:
        raise DocumentRenderError(str(exc.__cause__ or exc)) from exc
    document.metadata.created = document.metadata.modified = _pdf_date(issued)
    document.metadata.generator = "Kundenportal"
    identifier = hashlib.sha256(html.encode()).hexdigest()[:32].encode()
    return document.write_pdf(pdf_identifier=identifier, pdf_variant=variant)


def render_pdf(template: str, context: dict, *, lang: str, issued: datetime | None = None,
               variant: str | None = None) -> bytes:
    """Render ``template`` with ``context`` in language ``lang`` to PDF bytes. ``issued`` is
    the document's date (also its PDF date); ``variant=PDF_A`` makes a PDF/A-3b."""
    from portal.notifications.identity import provider_identity

    with translation.override(lang):
        html = render_to_string(template, {"provider": provider_identity(), "lang": lang,
                                           "issued": issued, **context})
    return html_to_pdf(html, issued=issued, variant=variant)
