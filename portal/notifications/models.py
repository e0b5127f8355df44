"""The outbox: one row per recipient of one notification (portal app, see ``portal.models``).

A row keeps ids, not rendered text: the job renders the e-mail in the recipient's language
when it sends it, from the rows the ids point to. The address is kept as it was when the row
was queued, so a later change of a person's address does not redirect an old notice.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models.jobs import ClaimedJob
from portal.tenancy import TenantManager


class NotificationState(models.TextChoices):
    QUEUED = "queued", _("wartet auf Versand")
    SENDING = "sending", _("wird versendet")
    SENT = "sent", _("versendet")
    FAILED = "failed", _("fehlgeschlagen")


class Notification(ClaimedJob):
    batch = models.UUIDField(_("Vorgang"), default=uuid.uuid4, db_index=True,
                             help_text=_("Die Zeilen einer Benachrichtigung an mehrere "
                                         "Empfänger teilen sich einen Vorgang."))
    event = models.CharField(_("Ereignis"), max_length=64, db_index=True)
    template = models.CharField(_("Vorlage"), max_length=100)
    customer = models.ForeignKey(
        "portal.Organisation", verbose_name=_("Kunde"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("ausgelöst von"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("Empfänger"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="notifications")
    email = models.EmailField(_("E-Mail-Adresse"))
    language = models.CharField(_("Sprache"), max_length=8, default="de")
    context = models.JSONField(_("Bezüge"), default=dict, blank=True,
                               help_text=_("IDs und Angaben, aus denen die E-Mail beim Versand "
                                           "erstellt wird."))
    document_ids = models.JSONField(_("Anhänge (Dokument-IDs)"), default=list, blank=True)
    state = models.CharField(_("Status"), max_length=16, choices=NotificationState.choices,
                             default=NotificationState.QUEUED, db_index=True)
    last_error = models.TextField(_("letzter Fehler"), blank=True)
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    sent_at = models.DateTimeField(_("versendet am"), null=True, blank=True)

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        app_label = "portal"
        verbose_name = _("Benachrichtigung")
        verbose_name_plural = _("Benachrichtigungen")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="sent") | models.Q(sent_at__isnull=False),
                name="notification_sent_has_sent_at"),
        ]

    def __str__(self) -> str:
        # No address here: this text ends up in audit events (target_repr).
        return f"{self.event} #{self.pk}"
