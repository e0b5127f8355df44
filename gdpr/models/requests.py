"""Data-subject requests (Art. 15–21 DSGVO, DOMAIN §6) and the exports that answer access
requests (Art. 15/20).

A request names the person it is about (``subject``; empty when nobody with the given
details has an account — the request is then closed with that outcome) and the details as
received. Its deadline is ``portal.periods.gdpr_deadline`` from the day of receipt; an
extension (by two more months, with a reason, only while the first month runs) is recorded
on the request, the original deadline stays. The state changes only through
gdpr/services/requests.py.

An export is the ZIP made for one person by a django-q2 job (one JSON per registry entry and
a PDF summary), downloadable by the person who handles the request or, for a self-service
request, by the person themself, until it expires.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.tenancy import TenantManager


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Auskunft und Datenkopie (Art. 15/20 DSGVO)")
    RECTIFICATION = "rectification", _("Berichtigung (Art. 16 DSGVO)")
    ERASURE = "erasure", _("Löschung (Art. 17 DSGVO)")
    RESTRICTION = "restriction", _("Einschränkung der Verarbeitung (Art. 18 DSGVO)")
    OBJECTION = "objection", _("Widerspruch gegen die Verarbeitung (Art. 21 DSGVO)")


class RequestChannel(models.TextChoices):
    PORTAL = "portal", _("im Portal (selbst gestellt)")
    EMAIL = "email", _("E-Mail")
    LETTER = "letter", _("Brief")
    OTHER = "other", _("anders (z. B. Telefon, persönlich)")


class RequestState(models.TextChoices):
    RECEIVED = "received", _("eingegangen")
    IDENTITY_CHECKED = "identity_checked", _("Identität geprüft")
    IN_PROGRESS = "in_progress", _("in Bearbeitung")
    DONE = "done", _("erledigt")
    REFUSED = "refused", _("abgelehnt")


#: States in which a request still runs (its deadline matters).
OPEN_STATES = (RequestState.RECEIVED, RequestState.IDENTITY_CHECKED, RequestState.IN_PROGRESS)


class DataSubjectRequest(models.Model):
    kind = models.CharField(_("Art"), max_length=16, choices=RequestKind.choices)
    channel = models.CharField(_("Eingang"), max_length=16, choices=RequestChannel.choices)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("betroffene Person"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="data_subject_requests",
        help_text=_("Leer, wenn zu den Angaben kein Konto gehört."))
    customer = models.ForeignKey(
        "portal.Organisation", verbose_name=_("Organisation der Person"), null=True,
        blank=True, on_delete=models.PROTECT, related_name="data_subject_requests")
    requester_name = models.CharField(_("Name laut Anfrage"), max_length=200)
    requester_email = models.EmailField(_("E-Mail-Adresse laut Anfrage"), blank=True)
    details = models.TextField(_("Inhalt der Anfrage"), blank=True)
    received_on = models.DateField(_("eingegangen am"))
    deadline = models.DateField(_("Frist"), db_index=True)
    extended_deadline = models.DateField(_("verlängerte Frist"), null=True, blank=True)
    extension_reason = models.TextField(_("Grund der Verlängerung"), blank=True)
    identity_check = models.TextField(_("Identitätsprüfung"), blank=True,
                                      help_text=_("Wie die Identität geprüft wurde."))
    state = models.CharField(_("Stand"), max_length=16, choices=RequestState.choices,
                             default=RequestState.RECEIVED, db_index=True)
    outcome = models.TextField(_("Ergebnis / Begründung"), blank=True)
    created_at = models.DateTimeField(_("erfasst am"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("erfasst von"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(_("abgeschlossen am"), null=True, blank=True)
    reminded_7_days_at = models.DateTimeField(_("erinnert 7 Tage vor der Frist"), null=True,
                                              blank=True)
    reminded_1_day_at = models.DateTimeField(_("erinnert 1 Tag vor der Frist"), null=True,
                                             blank=True)

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        verbose_name = _("Betroffenenanfrage")
        verbose_name_plural = _("Betroffenenanfragen")
        ordering = ["deadline", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(extended_deadline__isnull=True)
                | (models.Q(extended_deadline__gt=models.F("deadline"))
                   & ~models.Q(extension_reason="")),
                name="dsr_extension_later_and_with_reason"),
            models.CheckConstraint(
                condition=~models.Q(state="refused") | ~models.Q(outcome=""),
                name="dsr_refusal_has_reason"),
            models.CheckConstraint(
                condition=(models.Q(state__in=["done", "refused"], closed_at__isnull=False)
                           | (~models.Q(state__in=["done", "refused"])
                              & models.Q(closed_at__isnull=True))),
                name="dsr_closed_has_date"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.requester_name}"

    @property
    def due_on(self):
        """The deadline in force: the extended one where there is one."""
        return self.extended_deadline or self.deadline

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class ExportState(models.TextChoices):
    QUEUED = "queued", _("wartet")
    RUNNING = "running", _("läuft")
    DONE = "done", _("fertig")
    FAILED = "failed", _("fehlgeschlagen")


class ExportJob(models.Model):
    """What a person's and a customer's export share: who asked, the job's state, the file's
    checksum, the error, when it was asked for, finished and stops being downloadable. The
    progress counters, the file and its size are each model's own."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("angefordert von"), null=True,
        on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(_("Stand"), max_length=16, choices=ExportState.choices,
                             default=ExportState.QUEUED, db_index=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    error = models.TextField(_("Fehler"), blank=True)
    created_at = models.DateTimeField(_("angefordert am"), auto_now_add=True)
    finished_at = models.DateTimeField(_("fertig am"), null=True, blank=True)
    expires_at = models.DateTimeField(_("abrufbar bis"), null=True, blank=True, db_index=True)

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


def export_path(instance, filename: str) -> str:
    return f"exports/{instance.pk or 'new'}/{filename}"


class PersonExport(ExportJob):
    request = models.ForeignKey(DataSubjectRequest, verbose_name=_("Anfrage"), null=True,
                                blank=True, on_delete=models.SET_NULL, related_name="exports")
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("betroffene Person"),
                                on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("portal.Organisation", verbose_name=_("Organisation"),
                                 null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    entries_done = models.PositiveIntegerField(_("Einträge fertig"), default=0)
    entries_total = models.PositiveIntegerField(_("Einträge gesamt"), default=0)
    file = models.FileField(_("Datei"), upload_to=export_path, max_length=255, blank=True)
    size = models.PositiveIntegerField(_("Größe (Bytes)"), default=0)

    class Meta(ExportJob.Meta):
        verbose_name = _("Datenexport einer Person")
        verbose_name_plural = _("Datenexporte von Personen")
