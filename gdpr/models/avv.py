"""The AVV (Auftragsverarbeitungsvertrag, DOMAIN §6, seed 002 §23): versions with their TOMs,
and the customers' acceptances as evidence.

A version is a draft while its TOMs are edited; publishing (gdpr/services.py) freezes the
exact German text, its SHA-256 and the TOMs as JSON, and from then on the row is never
changed: the model refuses it and a database trigger refuses UPDATE and DELETE of published
rows (migration 0002). Acceptances are insert-only in the database for the same reason: they
are the evidence of who agreed to which text (Art. 28 Abs. 9, Art. 5 Abs. 2 DSGVO).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.documents.models import validate_sha256
from portal.tenancy import TenantManager


class TomCategory(models.TextChoices):
    """The categories a–h of the technical and organisational measures (002 §23 Nr. 4)."""

    ACCESS_PHYSICAL = "a", _("Zutrittskontrolle")
    ACCESS_SYSTEM = "b", _("Zugangs- und Zugriffskontrolle")
    TRANSFER = "c", _("Weitergabekontrolle")
    INPUT = "d", _("Eingabekontrolle")
    ORDER = "e", _("Auftragskontrolle")
    AVAILABILITY = "f", _("Verfügbarkeitskontrolle")
    SEPARATION = "g", _("Trennungskontrolle")
    REVIEW = "h", _("Verfahren zur regelmäßigen Überprüfung, Bewertung und Evaluierung")


class AvvStatus(models.TextChoices):
    DRAFT = "draft", _("Entwurf")
    PUBLISHED = "published", _("veröffentlicht")


class Frozen(ValidationError):
    """A change to a published AVV version or to an acceptance."""


class AvvVersion(models.Model):
    label = models.CharField(_("Version"), max_length=32, unique=True,
                             help_text=_("z. B. 2026-1"))
    status = models.CharField(_("Status"), max_length=16, choices=AvvStatus.choices,
                              default=AvvStatus.DRAFT)
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    published_at = models.DateTimeField(_("veröffentlicht am"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("veröffentlicht von"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+")
    text_de = models.TextField(_("verbindlicher Text (deutsch)"), blank=True,
                               help_text=_("Beim Veröffentlichen eingefroren."))
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    toms = models.JSONField(_("TOMs (eingefroren)"), default=list, blank=True)

    class Meta:
        verbose_name = _("AVV-Version")
        verbose_name_plural = _("AVV-Versionen")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status=AvvStatus.DRAFT)
                | (models.Q(sha256__regex=r"^[0-9a-f]{64}$")
                   & models.Q(published_at__isnull=False)),
                name="avvversion_published_frozen"),
        ]

    def __str__(self) -> str:
        return f"AVV {self.label}"

    def save(self, *args, **kwargs):
        if self.pk and AvvVersion.objects.filter(pk=self.pk,
                                                 status=AvvStatus.PUBLISHED).exists():
            raise Frozen(_("Eine veröffentlichte AVV-Version wird nie geändert."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_published:
            raise Frozen(_("Eine veröffentlichte AVV-Version wird nie gelöscht."))
        return super().delete(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.status == AvvStatus.PUBLISHED


class TomMeasure(models.Model):
    """One measure of a version's TOMs; editable only while the version is a draft."""

    version = models.ForeignKey(AvvVersion, verbose_name=_("AVV-Version"),
                                on_delete=models.CASCADE, related_name="measures")
    category = models.CharField(_("Kategorie"), max_length=1, choices=TomCategory.choices)
    text = models.TextField(_("Maßnahme"))
    # null: SQLite adds a nullable column in place; a NOT NULL one would rebuild the table
    # and drop its triggers (migration 0002).
    text_en = models.TextField(_("Maßnahme (englische Lesefassung)"), null=True, blank=True,
                               help_text=_("Optional; verbindlich ist der deutsche Text."))
    order = models.PositiveSmallIntegerField(_("Reihenfolge"), default=0)

    class Meta:
        verbose_name = _("technisch-organisatorische Maßnahme")
        verbose_name_plural = _("technisch-organisatorische Maßnahmen")
        ordering = ["category", "order", "id"]

    def __str__(self) -> str:
        return f"{self.category}) {self.text[:60]}"

    def save(self, *args, **kwargs):
        self._refuse_if_published()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_if_published()
        return super().delete(*args, **kwargs)

    def _refuse_if_published(self) -> None:
        if AvvVersion.objects.filter(pk=self.version_id, status=AvvStatus.PUBLISHED).exists():
            raise Frozen(_("Die TOMs einer veröffentlichten AVV-Version werden nie geändert; "
                           "eine Änderung ist eine neue Version."))


class AvvAcceptance(models.Model):
    """A customer admin's acceptance of one published version: insert-only evidence."""

    customer = models.ForeignKey("portal.Organisation", verbose_name=_("Kunde"),
                                 on_delete=models.PROTECT, related_name="avv_acceptances")
    version = models.ForeignKey(AvvVersion, verbose_name=_("AVV-Version"),
                                on_delete=models.PROTECT, related_name="acceptances")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("angenommen von"),
                               on_delete=models.PROTECT, related_name="avv_acceptances")
    accepted_at = models.DateTimeField(_("angenommen am"))
    ip = models.GenericIPAddressField(_("IP-Adresse"), null=True, blank=True)
    user_agent = models.CharField(_("Browser (User-Agent)"), max_length=500, blank=True)
    sha256 = models.CharField(_("SHA-256 des gezeigten Textes"), max_length=64,
                              validators=[validate_sha256])

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        verbose_name = _("AVV-Annahme")
        verbose_name_plural = _("AVV-Annahmen")
        ordering = ["-accepted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "version"],
                                    name="avvacceptance_once_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.version} – {self.customer}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise Frozen(_("Eine AVV-Annahme wird nie geändert."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise Frozen(_("Eine AVV-Annahme wird nie gelöscht."))
