"""The accepted AVV as a PDF (portal/documents renders and stores it): the frozen German text
the customer admin accepted, and on its last page the acceptance evidence — who, when, from
which IP address and browser, which version, and the SHA-256 of the text they saw next to
the version's own, so anyone can check that the printed text is the accepted one.

The document is dated with the acceptance, so rendering it again gives the same bytes; it is
rendered once per acceptance and then served from the document store."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from gdpr.avv import avv_sha256
from gdpr.models import AvvAcceptance
from gdpr.privacy import AVV_EVIDENCE_RETENTION
from portal.documents.models import Document
from portal.documents.render import PDF_A
from portal.documents.services import document_create

AVV_DOCUMENT = "avv"
TEMPLATE = "gdpr/pdf/avv.html"


def _filename(acceptance: AvvAcceptance) -> str:
    customer = acceptance.customer
    return (f"AVV-{acceptance.version.label}-{customer.customer_number or customer.pk}-"
            f"{acceptance.pk}.pdf")


def avv_pdf_create(*, actor, acceptance: AvvAcceptance) -> Document:
    """The PDF of ``acceptance`` (a document of its customer, kept as long as the evidence);
    the stored one if it was rendered before. The caller has checked that ``actor`` may see
    the acceptance (``AvvAcceptance.objects.visible_to``)."""
    filename = _filename(acceptance)
    stored = (Document.objects.filter(customer_id=acceptance.customer_id, kind=AVV_DOCUMENT,
                                      filename=filename).order_by("pk").first())
    if stored is not None:
        return stored
    version = acceptance.version
    person = acceptance.person
    with translation.override("de"):
        title = _("Auftragsverarbeitungsvertrag (AVV), Version %(label)s") % {
            "label": version.label}
    return document_create(
        actor=actor, customer=acceptance.customer, kind=AVV_DOCUMENT, template=TEMPLATE,
        context={"title": title, "customer": acceptance.customer, "version": version,
                 "acceptance": acceptance,
                 "person_name": person.get_full_name() or person.email,
                 "person_email": person.email,
                 "text_matches": acceptance.sha256 == version.sha256
                 == avv_sha256(version.text_de)},
        filename=filename, title=title, lang="de", issued=acceptance.accepted_at,
        retention=AVV_EVIDENCE_RETENTION, pdf_variant=PDF_A)
