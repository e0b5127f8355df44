"""The end of a contract from the customer's side (DOMAIN §5, 003 § 24): the full customer
export it can make itself (002 AVV § 3.11 "common formats"), the reminders it gets and the
provider-assisted data provision it can order at least 30 days before the end.

The services are gdpr/services/contract_end.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gdpr.models.requests import ExportJob
from portal.tenancy import TenantManager


def customer_export_path(instance, filename: str) -> str:
    return f"customer-exports/{instance.pk or 'new'}/{filename}"


class CustomerExport(ExportJob):
    """All devices, bookings, contracts, documents and users of one customer as a ZIP of
    CSV, XLSX and JSON with the PDFs, built by a django-q2 job."""

    customer = models.ForeignKey(
        "portal.Organisation", verbose_name=_("Kunde"), on_delete=models.PROTECT,
        related_name="customer_exports")
    parts_done = models.PositiveIntegerField(_("Teile fertig"), default=0)
    parts_total = models.PositiveIntegerField(_("Teile gesamt"), default=0)
    file = models.FileField(_("Datei"), upload_to=customer_export_path, max_length=255,
                            blank=True)
    size = models.PositiveBigIntegerField(_("Größe (Bytes)"), default=0)

    class Meta(ExportJob.Meta):
        verbose_name = _("Datenexport eines Kunden")
        verbose_name_plural = _("Datenexporte von Kunden")


class ContractEndMailKind(models.TextChoices):
    REGISTERED = "registered", _("Kündigung erfasst")
    REMINDER = "reminder", _("Erinnerung 28 Tage vor Vertragsende")


class ContractEndMail(models.Model):
    """That the customer's admins were told about the end (once per kind and end date)."""

    customer = models.ForeignKey(
        "portal.Organisation", verbose_name=_("Kunde"), on_delete=models.CASCADE,
        related_name="+")
    kind = models.CharField(_("Art"), max_length=16, choices=ContractEndMailKind.choices)
    contract_end = models.DateField(_("Vertragsende"))
    recipients = models.PositiveIntegerField(_("Empfänger"), default=0)
    sent_at = models.DateTimeField(_("versendet am"), auto_now_add=True)

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        verbose_name = _("Mitteilung zum Vertragsende")
        verbose_name_plural = _("Mitteilungen zum Vertragsende")
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "kind", "contract_end"],
                                    name="contractendmail_once_per_kind_and_end"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.contract_end}"


class ProvisionState(models.TextChoices):
    ORDERED = "ordered", _("beauftragt")
    DONE = "done", _("bereitgestellt")
    CANCELLED = "cancelled", _("zurückgezogen")


class DataProvisionOrder(models.Model):
    """The customer orders the provider to hand over its data (003 § 24.3): at least 30 days
    before the contract ends."""

    customer = models.ForeignKey(
        "portal.Organisation", verbose_name=_("Kunde"), on_delete=models.PROTECT,
        related_name="data_provision_orders")
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("beauftragt von"), null=True,
        on_delete=models.SET_NULL, related_name="+")
    ordered_on = models.DateField(_("beauftragt am"))
    contract_end = models.DateField(_("Vertragsende"))
    wanted_by = models.DateField(_("gewünscht bis"))
    scope = models.TextField(_("Umfang und Format"))
    delivery = models.TextField(_("Übergabeweg"), blank=True)
    state = models.CharField(_("Stand"), max_length=16, choices=ProvisionState.choices,
                             default=ProvisionState.ORDERED, db_index=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("erledigt von"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+")
    handled_at = models.DateTimeField(_("erledigt am"), null=True, blank=True)
    note = models.TextField(_("Vermerk"), blank=True)
    created_at = models.DateTimeField(_("erfasst am"), auto_now_add=True)

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        verbose_name = _("Datenbereitstellung")
        verbose_name_plural = _("Datenbereitstellungen")
        ordering = ["-ordered_on", "-id"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"
