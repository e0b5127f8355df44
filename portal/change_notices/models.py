"""A change notice to one customer and its decision (portal app, see ``portal.models``).

The decision fields change only through ``portal.change_notices.services``; the text is the
German text the customer received, including the consequence of silence."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.tenancy import TenantManager


class NoticeDecision(models.TextChoices):
    PENDING = "pending", _("offen")
    OBJECTED = "objected", _("widersprochen")
    DEEMED_ACCEPTED = "deemed_accepted", _("als angenommen geltend")
    ACCEPTED = "accepted", _("angenommen")


class ChangeNotice(models.Model):
    customer = models.ForeignKey(
        "portal.Organisation", verbose_name=_("Kunde"), on_delete=models.PROTECT,
        related_name="change_notices")
    kind = models.CharField(_("Art"), max_length=64, db_index=True)
    title = models.CharField(_("Titel"), max_length=200)
    text = models.TextField(_("Text der Mitteilung"))
    subject_type = models.CharField(_("Gegenstand (Typ)"), max_length=100, blank=True)
    subject_id = models.CharField(_("Gegenstand (ID)"), max_length=64, blank=True)
    window = models.CharField(_("Widerspruchsfrist"), max_length=16,
                              help_text=_("Die Frist, die beim Versand galt, z. B. 4w."))
    received_on = models.DateField(_("zugegangen am"))
    effective_on = models.DateField(_("wirksam ab"))
    deadline = models.DateField(_("Widerspruch möglich bis"), db_index=True)
    delivered_at = models.DateTimeField(_("per E-Mail zugestellt am"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("zuerst im Portal geöffnet am"), null=True,
                                         blank=True)
    decision = models.CharField(_("Entscheidung"), max_length=16,
                                choices=NoticeDecision.choices, default=NoticeDecision.PENDING,
                                db_index=True)
    decided_at = models.DateTimeField(_("entschieden am"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("entschieden von"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(_("Begründung"), blank=True)
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("angelegt von"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+")

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        app_label = "portal"
        verbose_name = _("Änderungsmitteilung")
        verbose_name_plural = _("Änderungsmitteilungen")
        ordering = ["-received_on", "-id"]
        indexes = [models.Index(fields=["decision", "deadline"],
                                name="change_notice_due")]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(decision="pending", decided_at__isnull=True)
                           | (~models.Q(decision="pending")
                              & models.Q(decided_at__isnull=False))),
                name="change_notice_decided_has_decided_at"),
            models.CheckConstraint(condition=models.Q(deadline__gte=models.F("received_on")),
                                   name="change_notice_deadline_after_receipt"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.customer_id})"
