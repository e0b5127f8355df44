"""The append-only audit trail and the access log of page views and downloads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.audit_actions import audit_action_label
from portal.tenancy import TenantManager, TenantQuerySet


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


class AuditEventQuerySet(TenantQuerySet):
    """No bulk updates or deletes either: the trail only grows."""

    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")

    def delete(self):
        raise AppendOnlyError("Audit events are append-only.")


class AuditEvent(models.Model):
    created_at = models.DateTimeField(_("Zeitpunkt"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("Person"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    actor_label = models.CharField(
        _("Handelnde Person"), max_length=254, blank=True,
        help_text=_("E-Mail-Adresse zum Zeitpunkt der Handlung, oder 'system'."),
    )
    organisation = models.ForeignKey(
        "portal.Organisation", verbose_name=_("Organisation"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    action = models.CharField(_("Aktion"), max_length=64, db_index=True)
    target_type = models.CharField(_("Objektart"), max_length=100, blank=True)
    target_id = models.CharField(_("Objekt-ID"), max_length=64, blank=True)
    target_repr = models.CharField(_("Objekt"), max_length=255, blank=True)
    ip_address = models.GenericIPAddressField(_("IP-Adresse"), null=True, blank=True)
    details = models.JSONField(_("Details"), default=dict, blank=True)

    objects = models.Manager.from_queryset(AuditEventQuerySet)()
    tenant_lookup = "organisation"

    class Meta:
        verbose_name = _("Audit-Ereignis")
        verbose_name_plural = _("Audit-Ereignisse")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        # Shown as the admin's page title: local time (Europe/Berlin), and the action's label.
        when = timezone.localtime(self.created_at) if self.created_at else None
        return " ".join(part for part in (f"{when:%d.%m.%Y %H:%M}" if when else "",
                                          audit_action_label(self.action),
                                          self.target_repr) if part)

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")


class AccessLogEntry(models.Model):
    created_at = models.DateTimeField(_("Zeitpunkt"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("Person"), null=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    organisation = models.ForeignKey(
        "portal.Organisation", verbose_name=_("Organisation"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    method = models.CharField(_("Methode"), max_length=8)
    path = models.CharField(_("Pfad"), max_length=500)
    view_name = models.CharField(_("Seite"), max_length=200, blank=True)
    status_code = models.PositiveSmallIntegerField(_("Status"))
    is_download = models.BooleanField(_("Download"), default=False)
    ip_address = models.GenericIPAddressField(_("IP-Adresse"), null=True, blank=True)
    user_agent = models.CharField(_("Browser"), max_length=300, blank=True)

    objects = TenantManager()
    tenant_lookup = "organisation"

    class Meta:
        verbose_name = _("Zugriffsprotokoll")
        verbose_name_plural = _("Zugriffsprotokoll")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.method} {self.path}"
