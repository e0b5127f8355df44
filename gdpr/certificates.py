"""The deletion certificate (Löschprotokoll, ISO 27001 A.8.10) as a PDF/A (portal/documents):
the evidence of one purge or one erasure that the DPO keeps and can hand to a supervisory
authority or the customer.

Decisions:

* **No personal data.** The certificate says *that* and *how much* was deleted, never *what*:
  the reference is the customer number or the request's number (no company or person name),
  stores are named by their model, the people only by counts, and the deleted rows by one
  SHA-256 over their ids (``portal.privacy.DeletionLedger``; :data:`DIGEST_RULE` says how in
  the PDF), which whoever holds the ids (e.g. from a backup) can recompute without the
  certificate repeating them (SDM module 60).
* **German, whoever triggered it.** The certificate is evidence under German contracts (AVV,
  003 § 24) made by a job or by the DPO; like the AVV and the register of processing it is
  rendered in German only, so the stored, hashed document never depends on who asked.
* **Whose document.** A purge certificate belongs to the purged customer (whose tombstone only
  the DPO can open, portal/tenancy.py); an erasure certificate to the person's organisation,
  or the provider's when the person had none (``Document.customer`` is required).
* **Kept three years** after the end of the year of the deletion (accountability, Art. 5
  Abs. 2 DSGVO; §§ 195, 199 BGB), like the other evidence of gdpr/.
* **Rendered from an unsaved certificate.** The purge (gdpr/services/purge.py) builds the
  certificate, has the PDF made here, sets ``document`` and saves the insert-only row once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from django.apps import apps
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gdpr.models.purge import CertificateKind, DeletionCertificate
from portal.documents.models import Document
from portal.documents.render import PDF_A
from portal.documents.services import document_create
from portal.models import Organisation
from portal.privacy import Retention, years
from portal.roles import OrganisationKind

CERTIFICATE_DOCUMENT = "gdpr.deletion_certificate"
TEMPLATE = "gdpr/pdf/deletion_certificate.html"
LANGUAGE = "de"
BERLIN = ZoneInfo("Europe/Berlin")

CERTIFICATE_RETENTION = Retention(
    basis="Art. 5 Abs. 2 DSGVO (Rechenschaftspflicht: Nachweis der Löschung), ISO 27001 "
          "A.8.10; §§ 195, 199 BGB (Verjährung)",
    period=years(3), starts="Ende des Kalenderjahres der Löschung", at_year_end=True)

#: The kinds of data store (``stores[].kind``) and what was done to them (``stores[].action``).
STORE_KINDS = {
    "table": gettext_lazy("Datenbanktabelle"),
    "files": gettext_lazy("gespeicherte Dateien"),
    "cache": gettext_lazy("Zwischenspeicher (Cache)"),
    "log": gettext_lazy("Protokoll"),
}
STORE_ACTIONS = {
    "deleted": gettext_lazy("gelöscht"),
    "pseudonymised": gettext_lazy("pseudonymisiert"),
    "retained": gettext_lazy("aufbewahrt"),
    "cleared": gettext_lazy("geleert"),
    "deleted_after_commit": gettext_lazy("nach dem Abschluss gelöscht"),
    "held": gettext_lazy("gesperrte Datensätze unverändert (Legal Hold)"),
    "none": gettext_lazy("unverändert"),
}
#: Stores that are no model (gdpr/services/purge.py), and the models of other packages whose
#: names have no German translation of their own.
STORE_TITLES = {
    "files": gettext_lazy("Gespeicherte Dateien (Dokumente, Exporte)"),
    "cache": gettext_lazy("Anmeldedrosselung (Zwischenspeicher)"),
    "otp_static.StaticToken": gettext_lazy("Backup-Codes"),
    "otp_static.StaticDevice": gettext_lazy("Backup-Code-Geräte"),
    "otp_totp.TOTPDevice": gettext_lazy("Authenticator-Apps (TOTP)"),
    "account.EmailAddress": gettext_lazy("E-Mail-Adressen der Anmeldung"),
    "account.EmailConfirmation": gettext_lazy("E-Mail-Bestätigungen"),
    "admin.LogEntry": gettext_lazy("Änderungsprotokoll der Verwaltung"),
}
#: How ``deleted_ids_sha256`` is computed, in the PDF's words; it must say what
#: ``portal.privacy.DeletionLedger`` does.
DIGEST_RULE = gettext_lazy(
    "Die Prüfsumme ist SHA-256 über die gelöschten Datensätze, je Datensatz eine Zeile aus "
    "Datenbestand, Doppelpunkt und ID mit Zeilenumbruch (z. B. „devices.Device:42“), UTF-8, "
    "in der Reihenfolge der Löschung: die Datenbestände in der Reihenfolge des "
    "Datenschutz-Registers, darin die IDs aufsteigend. Wer die IDs kennt (etwa aus einer "
    "Sicherung), kann sie nachrechnen, ohne dass dieses Protokoll die Daten wiederholt.")


def action_label(action: str) -> str:
    """``"deleted"`` → "gelöscht"; combined actions (``"deleted+retained"``) joined."""
    return ", ".join(str(STORE_ACTIONS.get(part, part)) for part in action.split("+") if part)


@dataclass(frozen=True)
class StoreRow:
    title: str  # the model's verbose_name_plural, or the store's own name ("Dateien …")
    label: str  # the model label in small print; empty for a store that is no model
    kind: str
    before: int | None
    after: int | None
    action: str


@dataclass(frozen=True)
class RetainedRow:
    title: str
    label: str
    count: int | None
    basis: str
    until: date | str | None


def store_title(store: str) -> tuple[str, str]:
    """(title, label) of a store: a model label shows the model's plural name (German where
    the language is) with the label beside it; anything else is its own title."""
    try:
        model = apps.get_model(store)
    except (LookupError, ValueError):
        return str(STORE_TITLES.get(store, store)), ""
    if store in STORE_TITLES:
        return str(STORE_TITLES[store]), store
    return str(model._meta.verbose_name_plural), store


def _until(value) -> date | str | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return str(value)


def store_rows(certificate: DeletionCertificate) -> list[StoreRow]:
    rows = []
    for store in certificate.stores or ():
        title, label = store_title(str(store.get("store", "")))
        kind, action = store.get("kind", ""), store.get("action", "")
        rows.append(StoreRow(title=title, label=label, kind=str(STORE_KINDS.get(kind, kind)),
                             before=store.get("before"), after=store.get("after"),
                             action=action_label(str(action))))
    return rows


def retained_rows(certificate: DeletionCertificate) -> list[RetainedRow]:
    rows = []
    for kept in certificate.retained or ():
        title, label = store_title(str(kept.get("store", "")))
        rows.append(RetainedRow(title=title, label=label, count=kept.get("count"),
                                basis=str(kept.get("basis", "")),
                                until=_until(kept.get("until"))))
    return rows


def provider_organisation() -> Organisation:
    """The provider's organisation (the first, as the sender identity takes it)."""
    provider = (Organisation.objects.filter(kind=OrganisationKind.PROVIDER)
                .order_by("pk").first())
    if provider is None:
        raise Organisation.DoesNotExist("no provider organisation to keep the certificate")
    return provider


def certificate_owner(certificate: DeletionCertificate) -> Organisation:
    """Whose document the certificate's PDF is (see the module docstring)."""
    if certificate.customer_id is not None:
        return certificate.customer
    if certificate.request_id is not None and certificate.request.customer_id is not None:
        return certificate.request.customer
    return provider_organisation()


def _filename(certificate: DeletionCertificate) -> str:
    reference = slugify(certificate.reference) or "ohne-bezug"
    when = timezone.localtime(certificate.performed_at, BERLIN)
    return f"Loeschprotokoll-{reference}-{when:%Y%m%d-%H%M}.pdf"


def certificate_document_create(certificate: DeletionCertificate) -> Document:
    """Render and store the PDF of ``certificate`` (unsaved; every field set but
    ``document``). Dated with ``performed_at``, so the same certificate gives the same bytes.
    Runs in the caller's transaction (the purge's); the document's audit event names no actor
    (the certificate says who performed the deletion)."""
    with translation.override(LANGUAGE):
        title = _("Löschprotokoll %(reference)s") % {"reference": certificate.reference}
        context = {
            "title": _("Löschprotokoll"),
            "certificate": certificate,
            "kind_label": CertificateKind(certificate.kind).label,
            "performed_at": timezone.localtime(certificate.performed_at, BERLIN),
            "stores": store_rows(certificate),
            "retained": retained_rows(certificate),
            "digest_rule": DIGEST_RULE,
        }
        return document_create(
            actor=None, customer=certificate_owner(certificate), kind=CERTIFICATE_DOCUMENT,
            template=TEMPLATE, context=context, filename=_filename(certificate), title=title,
            lang=LANGUAGE, issued=certificate.performed_at, retention=CERTIFICATE_RETENTION,
            pdf_variant=PDF_A)
