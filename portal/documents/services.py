"""Creating documents: render, store with the checksum, audit, all in one transaction."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from portal.documents.kinds import kinds
from portal.documents.models import Document
from portal.documents.render import render_pdf
from portal.models import Organisation, User
from portal.privacy import Retention
from portal.services.audit import audit_event_record


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document_create(*, actor: User | None, customer: Organisation, kind: str, template: str,
                    context: dict, filename: str, title: str, lang: str = "de",
                    issued: datetime | None = None, retention: Retention | None = None,
                    pdf_variant: str | None = None) -> Document:
    """Render ``template`` to PDF and store it as a document of ``customer``. ``issued`` is
    the document's date (default: now), which the PDF carries, so rendering the same data of
    the same moment twice gives the same bytes. ``retention``: the legal duty to keep it
    (e.g. a business letter), which sets ``retain_until``. The file is written before the row;
    a rolled-back transaction leaves an orphan file behind, never a row without its file."""
    if kind not in kinds:
        raise ValueError(f"document kind {kind!r} is not declared (portal/documents/kinds.py)")
    issued = issued or timezone.now()
    data = render_pdf(template, context, lang=lang, issued=issued, variant=pdf_variant)
    with transaction.atomic():
        document = Document(
            customer=customer, kind=kind, title=title[:200], filename=filename[:200],
            content_type="application/pdf", sha256=sha256_of(data), size=len(data),
            created_at=issued, created_by=actor if getattr(actor, "pk", None) else None,
            retain_until=_retain_until(retention, issued))
        document.file.save(filename, ContentFile(data), save=False)
        document.full_clean()
        document.save()
        audit_event_record(actor=actor, action="document.created", target=document,
                           organisation=customer,
                           details={"kind": kind, "sha256": document.sha256,
                                    "size": document.size})
    return document


def _retain_until(retention: Retention | None, issued: datetime) -> date | None:
    if retention is None:
        return None
    return retention.ends_after(timezone.localdate(issued))


def document_verify(document: Document) -> bytes | None:
    """The stored bytes of ``document`` if their SHA-256 is the one recorded, else ``None``
    (also when the file is gone)."""
    try:
        with document.file.open("rb") as handle:
            data = handle.read()
    except (FileNotFoundError, ValueError):
        return None
    return data if sha256_of(data) == document.sha256 else None


@transaction.atomic
def document_integrity_failure_record(*, actor: User | None, document: Document,
                                      ip: str | None = None) -> None:
    """Record that a stored file no longer matches its checksum (it is not served)."""
    audit_event_record(actor=actor, action="document.integrity_failed", target=document,
                       organisation=document.customer, ip=ip,
                       details={"sha256": document.sha256})
