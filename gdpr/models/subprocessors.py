"""The sub-processor register (Unterauftragsverarbeiter, 002 AVV §7, DOMAIN §6) and the DPO
cases that customers' objections to its changes open.

A row is one sub-processor as it stands from ``valid_from`` to ``valid_to`` (open: still in
force). Changing a sub-processor never edits its row: the old row ends and a new row, naming
it as ``predecessor``, starts; replacing one is the same with another name. So the register on
any day is the rows valid on that day, and every change has its own row that the customers'
change notices name as their subject (gdpr/subprocessors.py issues them).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.tenancy import TenantManager

#: The change-notice kind of a register change (declared in gdpr/plugins/subprocessors.py).
SUBPROCESSOR_KIND = "subprocessor_change"


class Safeguard(models.TextChoices):
    """How a transfer is lawful (Chapter V GDPR); inside the EU/EEA there is no transfer."""

    EU_EEA = "eu_eea", _("keine Übermittlung (EU/EWR)")
    ADEQUACY = "adequacy", _("Angemessenheitsbeschluss (Art. 45 DSGVO)")
    SCC = "scc", _("Standardvertragsklauseln (Art. 46 Abs. 2 lit. c DSGVO)")
    BCR = "bcr", _("verbindliche interne Datenschutzvorschriften (Art. 47 DSGVO)")


class SubProcessor(models.Model):
    name = models.CharField(_("Name"), max_length=200)
    service = models.CharField(_("Leistung / Zweck"), max_length=300)
    location = models.CharField(_("Ort der Verarbeitung"), max_length=200)
    country = models.CharField(_("Land (ISO-Code)"), max_length=2,
                               help_text=_("Zweistelliger Ländercode, z. B. DE."))
    safeguard = models.CharField(_("Garantie für die Übermittlung"), max_length=16,
                                 choices=Safeguard.choices, default=Safeguard.EU_EEA)
    data_categories = models.TextField(_("Datenkategorien"))
    valid_from = models.DateField(_("gültig ab"))
    valid_to = models.DateField(_("gültig bis"), null=True, blank=True,
                                help_text=_("Leer: gilt weiter."))
    predecessor = models.ForeignKey(
        "self", verbose_name=_("ersetzt"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="successors")
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("angelegt von"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("Unterauftragsverarbeiter")
        verbose_name_plural = _("Unterauftragsverarbeiter")
        ordering = ["name", "valid_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="subprocessor_valid_to_after_from"),
            models.CheckConstraint(condition=models.Q(country__regex=r"^[A-Z]{2}$"),
                                   name="subprocessor_country_iso"),
        ]

    def __str__(self) -> str:
        return self.name


class CaseResolution(models.TextChoices):
    OPEN = "open", _("offen")
    RESOLVED = "resolved", _("geklärt")
    SERVICE_ENDED = "service_ended", _("Anbieter beendet die betroffene Leistung")


class ObjectionCase(models.Model):
    """A customer objected to a sub-processor change: the DPO decides how it ends (002 AVV §7:
    the objection is settled, or the provider ends the service that needs the
    sub-processor)."""

    customer = models.ForeignKey("portal.Organisation", verbose_name=_("Kunde"),
                                 on_delete=models.PROTECT, related_name="objection_cases")
    notice = models.OneToOneField("portal.ChangeNotice", verbose_name=_("Änderungsmitteilung"),
                                  on_delete=models.PROTECT, related_name="objection_case")
    opened_at = models.DateTimeField(_("eröffnet am"))
    resolution = models.CharField(_("Ergebnis"), max_length=16, choices=CaseResolution.choices,
                                  default=CaseResolution.OPEN, db_index=True)
    resolution_note = models.TextField(_("Vermerk"), blank=True)
    resolved_at = models.DateTimeField(_("abgeschlossen am"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("abgeschlossen von"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+")

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        verbose_name = _("Widerspruchsfall")
        verbose_name_plural = _("Widerspruchsfälle")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(resolution="open", resolved_at__isnull=True)
                           | (~models.Q(resolution="open")
                              & models.Q(resolved_at__isnull=False))),
                name="objectioncase_resolved_has_date"),
        ]

    def __str__(self) -> str:
        return f"{self.notice.title} – {self.customer}"
