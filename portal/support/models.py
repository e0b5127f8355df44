"""Support tickets (DOMAIN §7, 002 § 6.9/§ 22, 004 § 11): opened by a customer's people (or by
partner support or provider staff for a customer), handled by the customer's partner as first
level or, without a partner, by the provider, and escalated to the provider's second level
with a summary. Messages are public replies or internal notes (never shown to the customer).

The state, level and due times change only through portal/support/services.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.support.sla import Severity, SlaCalendar
from portal.tenancy import TenantManager


class Priority(models.TextChoices):
    URGENT = "1", _("I – dringend")
    HIGH = "2", _("II – hoch")
    LOW = "3", _("III – niedrig")


#: The seed's definitions, shown as help on the form (004 § 11.4, 001).
PRIORITY_HELP = {
    Priority.URGENT: _("Der Betrieb ist unterbrochen, Sie können nicht arbeiten (z. B. "
                       "Abstürze, Daten werden nicht richtig gespeichert oder gelesen)."),
    Priority.HIGH: _("Der Betrieb ist beeinträchtigt, mehrere Arbeitsplätze oder Abteilungen "
                     "sind betroffen."),
    Priority.LOW: _("Arbeiten ist möglich, es gibt eine Umgehung."),
}
CRITICAL_HELP = _("Kritisch: mehr als zehn oder alle Personen können nicht arbeiten, oder "
                  "Kernprozesse sind deutlich beeinträchtigt.")


class Level(models.TextChoices):
    FIRST = "first", _("1st Level (Partner)")
    SECOND = "second", _("2nd Level (Anbieter)")


class TicketState(models.TextChoices):
    NEW = "new", _("neu")
    IN_PROGRESS = "in_progress", _("in Bearbeitung")
    WAITING = "waiting", _("wartet auf Kunde")
    RESOLVED = "resolved", _("gelöst")
    CLOSED = "closed", _("geschlossen")


OPEN_STATES = (TicketState.NEW, TicketState.IN_PROGRESS, TicketState.WAITING)


class SlaTarget(models.Model):
    """Reaction and resolution targets in service hours, per plan (empty: every plan) and
    severity; the calendar the hours are counted in."""

    plan = models.ForeignKey("contracts.Plan", verbose_name=_("Leistung"), null=True,
                             blank=True, on_delete=models.PROTECT, related_name="+",
                             help_text=_("Leer: gilt für jede Leistung ohne eigenes Ziel."))
    severity = models.CharField(_("Einstufung"), max_length=16, choices=Severity.choices)
    calendar = models.CharField(_("Kalender"), max_length=16, choices=SlaCalendar.choices,
                                default=SlaCalendar.SERVICE)
    reaction_hours = models.DecimalField(_("Reaktion (Servicestunden)"), max_digits=6,
                                         decimal_places=2)
    resolution_hours = models.DecimalField(_("Lösung (Servicestunden)"), max_digits=6,
                                           decimal_places=2, null=True, blank=True,
                                           help_text=_("Leer: kein Lösungsziel vereinbart."))

    class Meta:
        verbose_name = _("SLA-Ziel")
        verbose_name_plural = _("SLA-Ziele")
        ordering = ["plan__name", "severity"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "severity"], name="slatarget_one_per_plan"),
            models.UniqueConstraint(fields=["severity"], condition=models.Q(plan__isnull=True),
                                    name="slatarget_one_default"),
            models.CheckConstraint(condition=models.Q(reaction_hours__gt=0),
                                   name="slatarget_reaction_positive"),
        ]

    def __str__(self) -> str:
        plan = self.plan.name if self.plan_id else _("alle Leistungen")
        return f"{plan}: {self.get_severity_display()}"


class Ticket(models.Model):
    customer = models.ForeignKey("portal.Organisation", verbose_name=_("Kunde"),
                                 on_delete=models.PROTECT, related_name="tickets")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("erstellt von"),
                                   null=True, on_delete=models.SET_NULL, related_name="+")
    requester_email = models.EmailField(_("E-Mail-Adresse"))
    location = models.CharField(_("Standort"), max_length=200)
    description = models.TextField(_("Beschreibung"))
    occurred_at = models.DateTimeField(_("aufgetreten am"))
    device = models.ForeignKey("devices.Device", verbose_name=_("betroffenes Gerät"), null=True,
                               blank=True, on_delete=models.SET_NULL, related_name="tickets")
    function = models.CharField(_("betroffene Funktion"), max_length=200, blank=True)
    reproducible = models.BooleanField(_("reproduzierbar"))
    priority = models.CharField(_("Priorität"), max_length=1, choices=Priority.choices)
    critical = models.BooleanField(_("kritisch"), default=False, help_text=CRITICAL_HELP)
    state = models.CharField(_("Stand"), max_length=16, choices=TicketState.choices,
                             default=TicketState.NEW, db_index=True)
    level = models.CharField(_("Ebene"), max_length=8, choices=Level.choices)
    escalation_summary = models.TextField(_("Zusammenfassung der Eskalation"), blank=True)
    received_at = models.DateTimeField(_("eingegangen am"))
    calendar = models.CharField(_("Kalender"), max_length=16, choices=SlaCalendar.choices)
    reaction_hours = models.DecimalField(_("Reaktionsziel (Servicestunden)"), max_digits=6,
                                         decimal_places=2)
    resolution_hours = models.DecimalField(_("Lösungsziel (Servicestunden)"), max_digits=6,
                                           decimal_places=2, null=True, blank=True)
    paused_hours = models.DecimalField(_("pausiert (Servicestunden)"), max_digits=9,
                                       decimal_places=6, default=0)
    waiting_since = models.DateTimeField(_("wartet seit"), null=True, blank=True)
    reaction_due = models.DateTimeField(_("Reaktion fällig"), db_index=True)
    resolution_due = models.DateTimeField(_("Lösung fällig"), null=True, blank=True,
                                          db_index=True)
    reacted_at = models.DateTimeField(_("reagiert am"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("gelöst am"), null=True, blank=True)
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        verbose_name = _("Ticket")
        verbose_name_plural = _("Tickets")
        ordering = ["reaction_due", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(device__isnull=False) | ~models.Q(function=""),
                name="ticket_names_device_or_function"),
        ]

    def __str__(self) -> str:
        return _("Ticket %(pk)s") % {"pk": self.pk}


class TicketMessage(models.Model):
    ticket = models.ForeignKey(Ticket, verbose_name=_("Ticket"), on_delete=models.CASCADE,
                               related_name="messages")
    customer = models.ForeignKey("portal.Organisation", verbose_name=_("Kunde"),
                                 on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("von"), null=True,
                               on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(_("Text"))
    internal = models.BooleanField(_("interne Notiz"), default=False,
                                   help_text=_("Für den Kunden nicht sichtbar."))
    created_at = models.DateTimeField(_("geschrieben am"), auto_now_add=True)

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        verbose_name = _("Ticket-Nachricht")
        verbose_name_plural = _("Ticket-Nachrichten")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.ticket} – {self.created_at:%Y-%m-%d %H:%M}"
