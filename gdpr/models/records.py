"""The records of processing activities (Verzeichnis von Verarbeitungstätigkeiten, Art. 30
DSGVO) and the DPO's yearly reviews of them (002 AVV §4 h, DOMAIN §6).

Art. 30(1) records describe the provider's own processing (no customer). Art. 30(2) records
describe the processing on behalf of one customer and are generated from the customer's booked
services and the AVV in force (gdpr/records.py); regenerating updates them in place.
``next_review_due`` is written by the review service from portal/periods.py, so lists can
filter overdue records in the database.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gdpr.models.avv import Frozen
from portal.tenancy import TenantManager


class RecordKind(models.TextChoices):
    CONTROLLER = "controller", _("Art. 30 Abs. 1 – eigene Verarbeitung")
    PROCESSOR = "processor", _("Art. 30 Abs. 2 – im Auftrag")


class ProcessingRecord(models.Model):
    kind = models.CharField(_("Art des Verzeichnisses"), max_length=16,
                            choices=RecordKind.choices)
    customer = models.ForeignKey(
        "portal.Organisation", verbose_name=_("Verantwortlicher (Kunde)"), null=True,
        blank=True, on_delete=models.PROTECT, related_name="processing_records",
        help_text=_("Nur bei Verarbeitung im Auftrag."))
    name = models.CharField(_("Bezeichnung der Verarbeitung"), max_length=200)
    purposes = models.TextField(_("Zwecke"))
    legal_basis = models.TextField(_("Rechtsgrundlage"))
    data_categories = models.TextField(_("Kategorien personenbezogener Daten"))
    subject_categories = models.TextField(_("Kategorien betroffener Personen"))
    recipients = models.TextField(_("Empfänger"), blank=True)
    third_country_transfers = models.TextField(
        _("Übermittlungen in Drittländer"), blank=True,
        help_text=_("Leer: keine Übermittlung in Drittländer."))
    retention = models.TextField(_("Löschfristen"))
    retention_entries = models.JSONField(
        _("Regeln im Datenschutz-Register"), default=list, blank=True,
        help_text=_("Modelle des Registers (app.modell), deren Aufbewahrungsregeln gelten."))
    tom_version = models.ForeignKey(
        "gdpr.AvvVersion", verbose_name=_("TOMs (AVV-Version)"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+")
    services = models.JSONField(_("gebuchte Leistungen"), default=list, blank=True)
    generated_at = models.DateTimeField(_("erzeugt am"), null=True, blank=True,
                                        help_text=_("Nur bei erzeugten Verzeichnissen."))
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    next_review_due = models.DateField(_("nächste Prüfung fällig am"), db_index=True)
    is_active = models.BooleanField(_("aktiv"), default=True)

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        verbose_name = _("Verarbeitungstätigkeit")
        verbose_name_plural = _("Verzeichnis der Verarbeitungstätigkeiten")
        ordering = ["kind", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="controller", customer__isnull=True)
                           | models.Q(kind="processor", customer__isnull=False)),
                name="processingrecord_customer_only_for_processor"),
            models.UniqueConstraint(fields=["customer"],
                                    condition=models.Q(kind="processor"),
                                    name="processingrecord_one_per_customer"),
        ]

    def __str__(self) -> str:
        return self.name


class ReviewOutcome(models.TextChoices):
    UNCHANGED = "unchanged", _("zutreffend, keine Änderung")
    UPDATED = "updated", _("aktualisiert")
    ACTION = "action", _("Maßnahmen erforderlich")


class ProcessingReview(models.Model):
    """One review of a record by the DPO; insert-only like other evidence."""

    record = models.ForeignKey(ProcessingRecord, verbose_name=_("Verarbeitungstätigkeit"),
                               on_delete=models.PROTECT, related_name="reviews")
    reviewed_on = models.DateField(_("geprüft am"))
    outcome = models.CharField(_("Ergebnis"), max_length=16, choices=ReviewOutcome.choices)
    notes = models.TextField(_("Vermerk"), blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("geprüft von"),
                                 null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("erfasst am"), auto_now_add=True)

    objects = TenantManager()
    tenant_lookup = "record__customer"

    class Meta:
        verbose_name = _("Prüfung")
        verbose_name_plural = _("Prüfungen")
        ordering = ["-reviewed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.record} – {self.reviewed_on:%d.%m.%Y}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise Frozen(_("Eine Prüfung wird nie geändert; erfassen Sie eine neue."))
        super().save(*args, **kwargs)
