"""The device inventory and the imports that fill it."""

from __future__ import annotations

import enum
import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from devices.validators import validate_hostname, validate_not_after_today
from portal.models.jobs import ClaimedJob
from portal.tenancy import TenantManager


class DeviceKind(models.TextChoices):
    WORKSTATION = "workstation", _("Arbeitsplatz-PC")
    SERVER = "server", _("Server")
    NETWORK = "network", _("Netzwerkgerät")


class Device(models.Model):
    customer = models.ForeignKey(
        "portal.Organisation", verbose_name=_("Kunde"), on_delete=models.PROTECT,
        related_name="devices", limit_choices_to={"kind": "customer"},
    )
    hostname = models.CharField(_("Hostname"), max_length=253, validators=[validate_hostname])
    serial_number = models.CharField(
        _("Seriennummer"), max_length=100,
        help_text=_("Wird in Großbuchstaben ohne Leerzeichen am Rand gespeichert."),
    )
    kind = models.CharField(_("Art"), max_length=16, choices=DeviceKind.choices)
    operating_system = models.CharField(_("Betriebssystem"), max_length=100, blank=True)
    location = models.CharField(_("Standort / Raum"), max_length=200, blank=True)
    agent_id = models.CharField(_("Agent-ID"), max_length=100, blank=True)
    last_seen = models.DateTimeField(_("zuletzt gesehen"), null=True, blank=True,
                                     validators=[validate_not_after_today])
    av_signature_date = models.DateField(_("Virensignatur vom"), null=True, blank=True,
                                         validators=[validate_not_after_today])
    pending_critical_updates = models.PositiveIntegerField(
        _("ausstehende kritische Updates"), default=0)
    notes = models.TextField(_("Notizen"), blank=True)
    retired_at = models.DateTimeField(_("ausgemustert am"), null=True, blank=True)
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("angelegt von"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("geändert von"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        verbose_name = _("Gerät")
        verbose_name_plural = _("Geräte")
        ordering = ["hostname", "pk"]
        permissions = [
            ("import_device", _("Kann Geräte importieren")),
            ("export_device", _("Kann Geräte exportieren")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["customer", "serial_number"],
                                    name="device_serial_unique_per_customer"),
            # Serials are unique per customer only: a global rule would tell one customer
            # which serials another one has (docs/adr/0007).
            models.UniqueConstraint(Lower("hostname"), "customer",
                                    condition=models.Q(retired_at__isnull=True),
                                    name="device_active_hostname_unique_per_customer"),
            models.CheckConstraint(condition=~models.Q(serial_number=""),
                                   name="device_serial_not_empty"),
        ]
        indexes = [
            models.Index(fields=["customer", "hostname"]),
            models.Index(fields=["customer", "kind"]),
            models.Index(fields=["last_seen"]),
            models.Index(fields=["av_signature_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.hostname} ({self.serial_number})"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("devices:detail", kwargs={"pk": self.pk})

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("hochgeladen")
    PREVIEWING = "previewing", _("wird geprüft")
    PREVIEWED = "previewed", _("geprüft, wartet auf Bestätigung")
    INVALID = "invalid", _("fehlerhaft, nichts übernommen")
    CONFIRMED = "confirmed", _("bestätigt, wartet auf Übernahme")
    APPLYING = "applying", _("wird übernommen")
    DONE = "done", _("übernommen")
    FAILED = "failed", _("fehlgeschlagen, nichts übernommen")
    CANCELLED = "cancelled", _("abgebrochen")

    #: The states an import can be cancelled (or discarded) in: all but the two final ones.
    #: The one home of that rule for ``devices.services.import_cancellable`` (which also
    #: waits for a live worker), the portal's import page and the admin's.
    CANCELLABLE = enum.nonmember(("uploaded", "previewing", "previewed", "invalid",
                                  "confirmed", "applying", "failed"))


class DeviceImport(ClaimedJob):
    """One uploaded inventory file on its way through preview, confirmation and apply."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(
        "portal.Organisation", verbose_name=_("Kunde"), on_delete=models.CASCADE,
        related_name="device_imports",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("hochgeladen von"), null=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(_("hochgeladen am"), auto_now_add=True)
    via_admin = models.BooleanField(default=False)
    status = models.CharField(_("Status"), max_length=16, choices=ImportStatus.choices,
                              default=ImportStatus.UPLOADED)
    file_name = models.CharField(_("Dateiname"), max_length=255)
    file_format = models.CharField(_("Format"), max_length=8)
    file_size = models.PositiveIntegerField(_("Größe (Bytes)"))
    file_sha256 = models.CharField(_("SHA-256"), max_length=64)
    storage_path = models.CharField(max_length=255, blank=True)
    rows_total = models.PositiveIntegerField(_("Zeilen gesamt"), default=0)
    rows_done = models.PositiveIntegerField(_("Zeilen verarbeitet"), default=0)
    counts = models.JSONField(_("Ergebnis"), default=dict, blank=True)
    messages = models.JSONField(_("Meldungen"), default=list, blank=True)
    error = models.TextField(_("Fehler"), blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("bestätigt von"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    finished_at = models.DateTimeField(_("abgeschlossen am"), null=True, blank=True)

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        verbose_name = _("Geräte-Import")
        verbose_name_plural = _("Geräte-Importe")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def progress_percent(self) -> int:
        if not self.rows_total:
            return 0
        return min(100, round(100 * self.rows_done / self.rows_total))
