"""The purge eight weeks after a contract ends (DOMAIN §5) and its evidence.

- :class:`LegalHold`: the DPO pauses the purge of a customer (``model_label`` empty) or of
  single records (``model_label`` + ``object_id``) with a reason, until released.
- :class:`DeletionCertificate`: the Löschprotokoll (ISO 27001 A.8.10) of one purge or one
  erasure: references, counts per data store before and after, what was retained and why,
  the backup expiry, the rule version and a SHA-256 over the deleted row ids — no personal
  data. Insert-only: the database refuses UPDATE and DELETE (migration 0007).
- :class:`PendingFileDeletion`: stored files a committed purge or erasure still has to delete;
  a job retries until the storage confirms.

The services are gdpr/services/purge.py and gdpr/services/holds.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.tenancy import TenantManager


class LegalHold(models.Model):
    customer = models.ForeignKey(
        "portal.Organisation", verbose_name=_("Kunde"), on_delete=models.PROTECT,
        related_name="legal_holds")
    model_label = models.CharField(
        _("Datenbestand"), max_length=100, blank=True,
        help_text=_("Leer: die Löschung aller Daten des Kunden ist angehalten."))
    object_id = models.CharField(_("Datensatz-ID"), max_length=64, blank=True)
    reason = models.TextField(_("Grund"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("angeordnet von"), null=True,
        on_delete=models.SET_NULL, related_name="+")
    placed_at = models.DateTimeField(_("angeordnet am"), auto_now_add=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("aufgehoben von"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+")
    released_at = models.DateTimeField(_("aufgehoben am"), null=True, blank=True)
    release_reason = models.TextField(_("Grund der Aufhebung"), blank=True)

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        verbose_name = _("Aufbewahrungssperre (Legal Hold)")
        verbose_name_plural = _("Aufbewahrungssperren (Legal Hold)")
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(model_label="", object_id="")
                           | (~models.Q(model_label="") & ~models.Q(object_id=""))),
                name="legalhold_whole_customer_or_one_record"),
            models.CheckConstraint(condition=~models.Q(reason=""),
                                   name="legalhold_has_reason"),
            models.CheckConstraint(
                condition=models.Q(released_at__isnull=True)
                | ~models.Q(release_reason=""),
                name="legalhold_release_has_reason"),
        ]

    def __str__(self) -> str:
        scope = f"{self.model_label} {self.object_id}" if self.model_label else _("alle Daten")
        return f"{self.customer} – {scope}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class CertificateKind(models.TextChoices):
    PURGE = "purge", _("Löschung nach Vertragsende")
    ERASURE = "erasure", _("Löschung auf Antrag (Art. 17 DSGVO)")


class DeletionCertificate(models.Model):
    kind = models.CharField(_("Anlass"), max_length=16, choices=CertificateKind.choices)
    reference = models.CharField(
        _("Bezug"), max_length=64,
        help_text=_("Kundennummer (ohne Namen) oder Nummer der Betroffenenanfrage."))
    customer = models.ForeignKey(
        "portal.Organisation", verbose_name=_("Kunde"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="deletion_certificates")
    #: Not a constraint: the request (names the requester) is deleted when its own retention
    #: ends, the insert-only certificate keeps its number in ``reference``.
    request = models.ForeignKey(
        "gdpr.DataSubjectRequest", verbose_name=_("Betroffenenanfrage"), null=True,
        blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="deletion_certificates")
    contract_end = models.DateField(_("Vertragsende"), null=True, blank=True)
    performed_at = models.DateTimeField(_("gelöscht am"))
    performed_by = models.CharField(
        _("ausgeführt durch"), max_length=100,
        help_text=_("Der Löschlauf oder die Rolle der ausführenden Person, ohne Namen."))
    method = models.CharField(_("Verfahren"), max_length=255)
    #: ``[{"store", "kind" (table|files|cache|log), "before", "after", "action"}]``
    stores = models.JSONField(_("Datenbestände"), default=list)
    #: ``[{"store", "count", "basis", "until"}]``
    retained = models.JSONField(_("aufbewahrt"), default=list)
    deleted_rows = models.PositiveIntegerField(_("gelöschte Datensätze"), default=0)
    deleted_ids_sha256 = models.CharField(_("SHA-256 der gelöschten IDs"), max_length=64)
    backup_expires_on = models.DateField(_("letzte Sicherung mit den Daten läuft ab am"))
    rule_version = models.CharField(_("Regelversion"), max_length=32)
    document = models.ForeignKey(
        "portal.Document", verbose_name=_("PDF"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("erstellt am"), auto_now_add=True)

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        verbose_name = _("Löschprotokoll")
        verbose_name_plural = _("Löschprotokolle")
        ordering = ["-performed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer"], condition=models.Q(kind="purge"),
                                    name="deletioncertificate_one_purge_per_customer"),
            models.UniqueConstraint(fields=["request"], condition=models.Q(kind="erasure"),
                                    name="deletioncertificate_one_per_erasure_request"),
            models.CheckConstraint(
                condition=models.Q(deleted_ids_sha256__regex=r"^[0-9a-f]{64}$"),
                name="deletioncertificate_sha256_hex"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.reference}"


class PendingFileDeletion(models.Model):
    path = models.CharField(_("Pfad"), max_length=255, unique=True)
    certificate = models.ForeignKey(
        DeletionCertificate, verbose_name=_("Löschprotokoll"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+")
    attempts = models.PositiveIntegerField(_("Versuche"), default=0)
    last_error = models.CharField(_("letzter Fehler"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("vorgemerkt am"), auto_now_add=True)
    last_attempt_at = models.DateTimeField(_("letzter Versuch"), null=True, blank=True)

    class Meta:
        verbose_name = _("ausstehende Dateilöschung")
        verbose_name_plural = _("ausstehende Dateilöschungen")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.path
