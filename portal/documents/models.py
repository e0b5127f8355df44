"""The stored document: one rendered file of one customer, with its checksum (portal app)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.tenancy import TenantManager

validate_sha256 = RegexValidator(r"^[0-9a-f]{64}$", _("Keine SHA-256-Prüfsumme (64 Hexziffern)."))


def document_path(document: Document, filename: str) -> str:
    """Where the file is stored: by customer and month, never under the download name (which
    may repeat); the default storage is not served by any URL (docs/adr/0014)."""
    return f"documents/{document.customer_id}/{document.created_at:%Y/%m}/{document.sha256}.pdf"


class Document(models.Model):
    customer = models.ForeignKey(
        "portal.Organisation", verbose_name=_("Kunde"), on_delete=models.PROTECT,
        related_name="documents")
    kind = models.CharField(_("Art"), max_length=64, db_index=True)
    title = models.CharField(_("Titel"), max_length=200)
    filename = models.CharField(_("Dateiname"), max_length=200)
    content_type = models.CharField(_("Dateityp"), max_length=100, default="application/pdf")
    file = models.FileField(_("Datei"), upload_to=document_path, max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, validators=[validate_sha256])
    size = models.PositiveIntegerField(_("Größe (Bytes)"))
    created_at = models.DateTimeField(_("erstellt am"), db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("erstellt von"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+")
    retain_until = models.DateField(
        _("aufzubewahren bis"), null=True, blank=True,
        help_text=_("Leer: keine Aufbewahrungspflicht, das Dokument geht mit den Daten des "
                    "Kunden."))

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        app_label = "portal"
        verbose_name = _("Dokument")
        verbose_name_plural = _("Dokumente")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(sha256__regex=r"^[0-9a-f]{64}$"),
                                   name="document_sha256_hex"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.filename})"

    def get_absolute_url(self) -> str:
        return reverse("portal:document_download", args=[self.pk])
