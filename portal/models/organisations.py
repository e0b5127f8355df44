"""Organisations (provider, partners, customers) and the memberships that give people a role."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

from portal.roles import ROLE_KIND, OrganisationKind, Role
from portal.tenancy import TenantManager


def validate_vat_id(value: str) -> None:
    """A VAT identification number (USt-IdNr.) of an EU member state, e.g. DE136695976."""
    try:
        eu_vat.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            _("%(value)s ist keine gültige USt-IdNr."), code="invalid_vat_id",
            params={"value": value},
        ) from exc


class Organisation(models.Model):
    kind = models.CharField(_("Art"), max_length=16, choices=OrganisationKind.choices)
    name = models.CharField(_("Firmenname"), max_length=200)
    partner = models.ForeignKey(
        "self", verbose_name=_("Partner"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="customers", limit_choices_to={"kind": OrganisationKind.PARTNER},
        help_text=_("Der Partner, der diesen Kunden im 1st-Level betreut."),
    )
    street = models.CharField(_("Straße und Hausnummer"), max_length=200, blank=True)
    postal_code = models.CharField(_("PLZ"), max_length=10, blank=True)
    city = models.CharField(_("Ort"), max_length=100, blank=True)
    country = models.CharField(_("Land"), max_length=2, default="DE")
    vat_id = models.CharField(
        _("USt-IdNr."), max_length=20, blank=True, validators=[validate_vat_id]
    )
    customer_number = models.CharField(_("Kundennummer"), max_length=20, blank=True)
    is_active = models.BooleanField(_("aktiv"), default=True)
    purged_at = models.DateTimeField(
        _("Daten gelöscht am"), null=True, blank=True,
        help_text=_("Nach der Löschung bleibt nur ein Platzhalter mit der Kundennummer, auf "
                    "den aufbewahrte Unterlagen verweisen (gdpr/, ADR 0017)."))
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)

    objects = TenantManager()
    tenant_lookup = ""

    class Meta:
        verbose_name = _("Organisation")
        verbose_name_plural = _("Organisationen")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(partner__isnull=True) | models.Q(kind=OrganisationKind.CUSTOMER),
                name="organisation_only_customers_have_partner",
            ),
            models.UniqueConstraint(
                fields=["customer_number"], condition=~models.Q(customer_number=""),
                name="organisation_customer_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.vat_id:
            self.vat_id = self.vat_id.replace(" ", "").upper()
        if self.kind == OrganisationKind.CUSTOMER:
            # Customers are businesses (§ 14 BGB): company name and address are required.
            for field in ("street", "postal_code", "city"):
                if not getattr(self, field).strip():
                    errors.setdefault(field, []).append(
                        _("Für Kunden ist die vollständige Anschrift erforderlich.")
                    )
        if self.partner_id and self.kind != OrganisationKind.CUSTOMER:
            errors.setdefault("partner", []).append(
                _("Nur Kunden können einem Partner zugeordnet werden.")
            )
        if self.partner_id and self.partner.kind != OrganisationKind.PARTNER:
            errors.setdefault("partner", []).append(
                _("Die gewählte Organisation ist kein Partner.")
            )
        if errors:
            raise ValidationError(errors)

    @property
    def is_customer(self) -> bool:
        return self.kind == OrganisationKind.CUSTOMER

    @property
    def address_lines(self) -> list[str]:
        return [line for line in (self.street, f"{self.postal_code} {self.city}".strip()) if line]


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("Person"), on_delete=models.CASCADE,
        related_name="memberships",
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("Organisation"), on_delete=models.PROTECT,
        related_name="memberships",
    )
    role = models.CharField(_("Rolle"), max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)

    objects = TenantManager()
    tenant_lookup = "organisation"

    class Meta:
        verbose_name = _("Mitgliedschaft")
        verbose_name_plural = _("Mitgliedschaften")
        ordering = ["organisation__name", "user__last_name"]
        constraints = [
            # Accounts are personal and belong to exactly one organisation.
            models.UniqueConstraint(fields=["user"], name="membership_one_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} ({self.organisation})"

    def clean(self) -> None:
        if self.organisation_id and self.role:
            expected = ROLE_KIND.get(self.role)
            if expected and self.organisation.kind != expected:
                raise ValidationError(
                    {"role": _("Die Rolle %(role)s passt nicht zu einer Organisation der Art "
                               "%(kind)s.") % {"role": Role(self.role).label,
                                              "kind": self.organisation.get_kind_display()}}
                )
