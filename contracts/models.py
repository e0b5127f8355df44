"""Service catalogue, framework contracts and per-device bookings."""

from __future__ import annotations

import enum
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.periods import ANCHORS, NoticeRule, Period
from portal.tenancy import TenantManager


class PlanFamily(models.TextChoices):
    MANAGED_CLIENT = "managed_client", _("Managed Client")
    SERVER_MANAGEMENT = "server_management", _("Server Management")
    ANTIVIRUS = "antivirus", _("Anti-Virus Management")


class PlanUnit(models.TextChoices):
    WORKSTATION = "workstation", _("pro Arbeitsplatz-PC")
    SERVER = "server", _("pro Server")
    USER = "user", _("pro Benutzer")


class BillingMode(models.TextChoices):
    FULL_MONTHS = "full_months", _("volle Monate")
    PRO_RATA_FIRST_MONTH = "pro_rata_first", _("erster Monat anteilig")


ANCHOR_LABELS = {
    "month_end": _("zum Monatsende"),
    "term_end": _("zum Ende der Laufzeit"),
    "any_day": _("zu jedem Tag"),
    "none": _("nicht ordentlich kündbar"),
}
ANCHOR_CHOICES = [(anchor, ANCHOR_LABELS[anchor]) for anchor in ANCHORS]


def validate_period(value: str) -> None:
    try:
        Period.parse(value)
    except ValueError as exc:
        raise ValidationError(_("„%(value)s“ ist keine gültige Frist (z. B. 15d, 4w, 3m, 12m).")
                              % {"value": value}) from exc


def _rule(notice: str, anchor: str, min_term: str, renewal: str, cap: bool) -> NoticeRule:
    return NoticeRule(notice=Period.parse(notice), anchor=anchor,
                      min_term=Period.parse(min_term) if min_term else None,
                      renewal=Period.parse(renewal) if renewal else None,
                      cap_at_term_length=cap)


class NoticeTerms(models.Model):
    """The notice rule fields, shared by plans and by the snapshot on each booking."""

    notice = models.CharField(_("Kündigungsfrist"), max_length=16, default="15d",
                              validators=[validate_period])
    notice_anchor = models.CharField(_("Kündigung zum"), max_length=16, choices=ANCHOR_CHOICES,
                                     default="month_end")
    min_term = models.CharField(_("Mindestlaufzeit"), max_length=16, blank=True,
                                validators=[validate_period])
    renewal = models.CharField(_("Verlängerung"), max_length=16, blank=True,
                               validators=[validate_period])
    cap_at_term_length = models.BooleanField(
        _("Frist höchstens Laufzeitlänge"), default=False,
        help_text=_(
            "Ist die Laufzeit kürzer als die Frist, gilt die Länge der Laufzeit als Frist."))

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        try:
            self.notice_rule()
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    def notice_rule(self) -> NoticeRule:
        return _rule(self.notice, self.notice_anchor, self.min_term, self.renewal,
                     self.cap_at_term_length)


class Plan(NoticeTerms):
    code = models.SlugField(_("Kürzel"), max_length=40, unique=True)
    name = models.CharField(_("Bezeichnung"), max_length=120)
    family = models.CharField(_("Produktfamilie"), max_length=32, choices=PlanFamily.choices)
    tier = models.CharField(_("Stufe"), max_length=40)
    unit = models.CharField(_("Einheit"), max_length=16, choices=PlanUnit.choices)
    monthly_price = models.DecimalField(_("Nettopreis pro Monat (EUR)"), max_digits=10,
                                        decimal_places=2)
    features = models.JSONField(_("Leistungsmerkmale"), default=list, blank=True)
    billing_mode = models.CharField(_("Abrechnung"), max_length=16, choices=BillingMode.choices,
                                    default=BillingMode.FULL_MONTHS)
    requires_isa = models.BooleanField(
        _("Infrastrukturanalyse nötig"), default=False,
        help_text=_("Buchbar erst nach einer Infrastrukturanalyse (ISA)."))
    provider_notice = models.CharField(_("Kündigungsfrist des Anbieters"), max_length=16,
                                       default="3m", validators=[validate_period])
    provider_notice_anchor = models.CharField(_("Anbieterkündigung zum"), max_length=16,
                                              choices=ANCHOR_CHOICES, default="month_end")
    sort_order = models.PositiveSmallIntegerField(_("Reihenfolge"), default=0)
    is_active = models.BooleanField(_("buchbar"), default=True)
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)

    class Meta:
        verbose_name = _("Leistung")
        verbose_name_plural = _("Leistungskatalog")
        ordering = ["family", "sort_order", "monthly_price"]
        constraints = [
            models.CheckConstraint(condition=models.Q(monthly_price__gte=0),
                                   name="plan_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    def provider_rule(self) -> NoticeRule:
        return _rule(self.provider_notice, self.provider_notice_anchor, self.min_term,
                     self.renewal, False)


class ContractStatus(models.TextChoices):
    ACTIVE = "active", _("aktiv")
    ENDING = "ending", _("gekündigt")
    ENDED = "ended", _("beendet")


class Contract(models.Model):
    """The framework contract of one customer; bookings hang off it."""

    customer = models.OneToOneField("portal.Organisation", verbose_name=_("Kunde"),
                                    on_delete=models.PROTECT, related_name="contract")
    start = models.DateField(_("Beginn"))
    terms_version = models.CharField(_("AGB-Version"), max_length=32, default="2026-01")
    status = models.CharField(_("Status"), max_length=16, choices=ContractStatus.choices,
                              default=ContractStatus.ACTIVE)
    isa_completed_on = models.DateField(_("Infrastrukturanalyse am"), null=True, blank=True)
    cancellation_received = models.DateField(_("Kündigung eingegangen"), null=True, blank=True)
    effective_end = models.DateField(_("Vertragsende"), null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("gekündigt von"),
                                     null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    cancellation_reason = models.TextField(_("Grund"), blank=True)
    extraordinary = models.BooleanField(_("außerordentlich"), default=False)
    purge_on = models.DateField(_("Löschung der Daten am"), null=True, blank=True)
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        verbose_name = _("Rahmenvertrag")
        verbose_name_plural = _("Rahmenverträge")
        ordering = ["customer__name"]

    def __str__(self) -> str:
        return _("Rahmenvertrag %(customer)s") % {"customer": self.customer}


class BookingState(models.TextChoices):
    ACTIVE = "active", _("aktiv")
    ENDING = "ending", _("gekündigt")
    ENDED = "ended", _("beendet")

    #: A booking "runs" while it is active or cancelled but not yet ended: it is billed, it
    #: blocks a second booking of its family on the device, and it counts on every page. The
    #: one home of that rule (queries, the constraint on ``Booking``, ``Booking.is_running``);
    #: a tuple, so the constraint's condition keeps one order and needs no new migration.
    RUNNING = enum.nonmember(("active", "ending"))


class BookingChange(models.TextChoices):
    NEW = "new", _("Neubuchung")
    UPGRADE = "upgrade", _("Upgrade")
    DOWNGRADE = "downgrade", _("Downgrade")


class Booking(NoticeTerms):
    """A plan booked for one device, with a snapshot of the price and rules booked under."""

    customer = models.ForeignKey("portal.Organisation", verbose_name=_("Kunde"),
                                 on_delete=models.PROTECT, related_name="bookings")
    contract = models.ForeignKey(Contract, verbose_name=_("Rahmenvertrag"),
                                 on_delete=models.PROTECT, related_name="bookings")
    device = models.ForeignKey("devices.Device", verbose_name=_("Gerät"),
                               on_delete=models.PROTECT, related_name="bookings")
    plan = models.ForeignKey(Plan, verbose_name=_("Leistung"), on_delete=models.PROTECT,
                             related_name="bookings")
    # The snapshot: later catalogue edits never change a booking; its price changes only by an
    # announced price change (contracts/price_changes.py, dated in BookingPrice).
    plan_name = models.CharField(_("Leistung (bei Buchung)"), max_length=120)
    family = models.CharField(_("Produktfamilie"), max_length=32, choices=PlanFamily.choices)
    monthly_price = models.DecimalField(_("Nettopreis pro Monat (EUR)"), max_digits=10,
                                        decimal_places=2)
    billing_mode = models.CharField(_("Abrechnung"), max_length=16, choices=BillingMode.choices)
    change = models.CharField(_("Art"), max_length=16, choices=BookingChange.choices,
                              default=BookingChange.NEW)
    replaces = models.OneToOneField("self", verbose_name=_("ersetzt"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="replaced_by")
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("gebucht von"),
                                  null=True, on_delete=models.SET_NULL, related_name="+")
    on_behalf = models.BooleanField(
        _("im Auftrag des Kunden"), default=False,
        help_text=_("Von Partner-Support oder Anbieter für den Kunden gebucht."))
    activated_at = models.DateTimeField(_("freigeschaltet am"))
    active_from = models.DateField(_("aktiv ab"))
    term_start = models.DateField(
        _("Laufzeitbeginn"),
        help_text=_("Bei Up- und Downgrades der Beginn der ursprünglichen Buchung."))
    min_term_end = models.DateField(_("Mindestlaufzeit bis"), null=True, blank=True)
    state = models.CharField(_("Status"), max_length=16, choices=BookingState.choices,
                             default=BookingState.ACTIVE)
    removal_received = models.DateField(_("Kündigung eingegangen"), null=True, blank=True)
    removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("gekündigt von"),
                                   null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    effective_end = models.DateField(_("endet am"), null=True, blank=True)
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        verbose_name = _("Buchung")
        verbose_name_plural = _("Buchungen")
        ordering = ["-active_from", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "family"],
                condition=models.Q(state__in=list(BookingState.RUNNING)),
                name="booking_one_running_per_device_and_family"),
            models.CheckConstraint(condition=models.Q(monthly_price__gte=Decimal("0")),
                                   name="booking_price_not_negative"),
        ]
        indexes = [models.Index(fields=["customer", "state"]),
                   models.Index(fields=["state", "effective_end"])]

    def __str__(self) -> str:
        return f"{self.plan_name} – {self.device}"

    @property
    def is_running(self) -> bool:
        return self.state in BookingState.RUNNING


# --- Price changes of a plan (DOMAIN § 4; services in contracts/price_changes.py) ------------

class PriceChangeKind(models.TextChoices):
    INCREASE = "increase", _("Preiserhöhung")
    DECREASE = "decrease", _("Preissenkung")
    VAT = "vat", _("nur Umsatzsteuer")


class PriceChangeState(models.TextChoices):
    ANNOUNCED = "announced", _("angekündigt")
    APPLIED = "applied", _("wirksam geworden")


class PlanPriceChange(models.Model):
    """A plan's announced net price change. An increase goes to the customers with a running
    booking of the plan as change notices (``notice_kind``); at ``effective_on`` the daily job
    gives their bookings the dated new price (``BookingPrice``) unless they objected."""

    plan = models.ForeignKey(Plan, verbose_name=_("Leistung"), on_delete=models.PROTECT,
                             related_name="price_changes")
    kind = models.CharField(_("Art"), max_length=16, choices=PriceChangeKind.choices)
    notice_kind = models.CharField(
        _("Art der Mitteilung"), max_length=64, blank=True,
        help_text=_("Die Änderungsmitteilung, die Kunden erhalten (leer: keine)."))
    old_price = models.DecimalField(_("bisheriger Nettopreis (EUR)"), max_digits=10,
                                    decimal_places=2)
    new_price = models.DecimalField(_("neuer Nettopreis (EUR)"), max_digits=10,
                                    decimal_places=2)
    effective_on = models.DateField(_("wirksam ab"))
    announced_on = models.DateField(_("angekündigt am"))
    announced_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("angekündigt von"),
                                     null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    deadline = models.DateField(_("Widerspruch möglich bis"), null=True, blank=True)
    note = models.TextField(_("Hinweis"), blank=True)
    state = models.CharField(_("Status"), max_length=16, choices=PriceChangeState.choices,
                             default=PriceChangeState.ANNOUNCED)
    applied_at = models.DateTimeField(_("wirksam geworden am"), null=True, blank=True)
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)

    class Meta:
        verbose_name = _("Preisänderung")
        verbose_name_plural = _("Preisänderungen")
        ordering = ["-effective_on", "-pk"]
        indexes = [models.Index(fields=["state", "effective_on"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(new_price__gte=0),
                                   name="plan_price_change_not_negative"),
        ]

    def __str__(self) -> str:
        return _("%(plan)s ab %(day)s: %(price)s EUR") % {
            "plan": self.plan, "day": self.effective_on.strftime("%d.%m.%Y"),
            "price": self.new_price}


class BookingPrice(models.Model):
    """The net monthly price of a booking from ``valid_from`` on. Written when a price change
    takes effect: the booked price from the booking's start (the first time) and the new price
    from the effective date; a booking without rows has kept ``Booking.monthly_price`` all
    along. Billing reads it through ``contracts.selectors.booking_price_on`` /
    ``booking_prices_on``."""

    booking = models.ForeignKey(Booking, verbose_name=_("Buchung"), on_delete=models.PROTECT,
                                related_name="prices")
    customer = models.ForeignKey("portal.Organisation", verbose_name=_("Kunde"),
                                 on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField(_("gültig ab"))
    monthly_price = models.DecimalField(_("Nettopreis pro Monat (EUR)"), max_digits=10,
                                        decimal_places=2)
    price_change = models.ForeignKey(PlanPriceChange, verbose_name=_("Preisänderung"),
                                     on_delete=models.PROTECT, related_name="booking_prices")
    notice = models.ForeignKey("portal.ChangeNotice", verbose_name=_("Änderungsmitteilung"),
                               null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        verbose_name = _("Preis einer Buchung")
        verbose_name_plural = _("Preise der Buchungen")
        ordering = ["booking", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["booking", "valid_from"],
                                    name="booking_price_once_per_day"),
            models.CheckConstraint(condition=models.Q(monthly_price__gte=0),
                                   name="booking_dated_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.booking_id}: {self.monthly_price} ab {self.valid_from}"


class SpecialTerminationOffer(models.Model):
    """A customer objected to a price change: at its effective date the old prices continue
    and the special termination right is offered (003 § 4.7: both sides; 002 § 5.6: the
    provider). Carried out once through ``special_termination_exercise``."""

    price_change = models.ForeignKey(PlanPriceChange, verbose_name=_("Preisänderung"),
                                     on_delete=models.PROTECT,
                                     related_name="termination_offers")
    notice = models.OneToOneField("portal.ChangeNotice", verbose_name=_("Änderungsmitteilung"),
                                  on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("portal.Organisation", verbose_name=_("Kunde"),
                                 on_delete=models.PROTECT, related_name="+")
    customer_may_terminate = models.BooleanField(_("Kunde darf kündigen"), default=False)
    offered_on = models.DateField(_("angeboten am"))
    exercised_at = models.DateTimeField(_("ausgeübt am"), null=True, blank=True)
    exercised_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("ausgeübt von"),
                                     null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    end = models.DateField(_("Leistungen enden am"), null=True, blank=True)

    objects = TenantManager()
    tenant_lookup = "customer"

    class Meta:
        verbose_name = _("Sonderkündigungsrecht")
        verbose_name_plural = _("Sonderkündigungsrechte")
        ordering = ["-offered_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.price_change} – {self.customer_id}"
