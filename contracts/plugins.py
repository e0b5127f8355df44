"""What contracts plug into the core and into the device pages: the navigation entry, the
costs card on the dashboard, the bookings of a device on its page, the login blocker of an
ended contract, the demo catalogue, the daily end of due contracts (portal/registries.py), the
change-notice kinds of prices and terms (portal/change_notices/kinds.py) and
the e-mails about bookings and contracts (contracts/notifications.py), and which devices
are under anti-virus management (devices/coverage.py)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contracts.documents import BOOKING_CONFIRMATION, CONTRACT_SUMMARY
from contracts.notifications import RULES as NOTIFICATION_RULES
from devices.coverage import AvCoverage, av_coverage
from portal.change_notices.kinds import NoticeKind
from portal.change_notices.kinds import kinds as notice_kinds
from portal.documents.kinds import DocumentKind, kinds
from portal.notifications.registry import rules as notification_rules
from portal.periods import Period
from portal.registries import (
    PAGE_DASHBOARD,
    PAGE_DEVICE_DETAIL,
    DemoSeeder,
    Job,
    LoginBlocker,
    NavItem,
    Section,
    demo_seeders,
    login_blockers,
    navigation,
    schedules,
    sections,
)


def _costs_card(request) -> dict | None:
    from contracts.dashboard import costs_card

    return costs_card(request.user)


def _device_bookings(request, *, device) -> dict:
    from contracts.dashboard import device_bookings_section

    return device_bookings_section(request, device=device)


def _contract_ended(user, membership) -> str | None:
    from contracts.services import customer_access_ended

    if membership is None or not customer_access_ended(membership.organisation):
        return None
    return _("Der Vertrag Ihres Unternehmens ist beendet; der Zugang zum Portal ist deshalb "
             "gesperrt. Bei Fragen wenden Sie sich bitte an Ihren Ansprechpartner beim "
             "Anbieter.")


def _av_managed():
    from contracts.selectors import av_managed

    return av_managed()


def _customers_with_running_contract():
    from contracts.selectors import customers_with_running_contract

    return customers_with_running_contract()


def _seed_bookings(organisations: dict) -> None:
    from contracts.demo import demo_bookings_seed

    demo_bookings_seed(organisations)


def _seed_catalogue(organisations: dict) -> None:
    from contracts.catalogue import plans_seed

    plans_seed()


# The contract page is about the person's own organisation (or, for staff, one they pick).
navigation.register(NavItem(key="contract", label=gettext_lazy("Vertrag"),
                            url_name="contracts:contract", order=40, namespace="contracts",
                            visible=lambda membership: membership is not None))
sections.register(Section(page=PAGE_DASHBOARD, key="costs", order=40,
                          template="contracts/_dashboard_costs.html", context=_costs_card))
sections.register(Section(page=PAGE_DEVICE_DETAIL, key="bookings", order=10,
                          template="contracts/_device_bookings.html", context=_device_bookings))

av_coverage.register(AvCoverage(key="contracts.av_management", condition=_av_managed))

kinds.register(DocumentKind(BOOKING_CONFIRMATION, gettext_lazy("Buchungsbestätigung")))
kinds.register(DocumentKind(CONTRACT_SUMMARY, gettext_lazy("Vertragsübersicht")))

# Changes of prices and terms need an objection window (DOMAIN.md § 4); the windows are the
# provider's settings (PORTAL_CHANGE_NOTICE_WINDOWS), these the defaults. A terms change is
# sent by hand from the change-notice admin to every customer whose contract has not ended; the
# price kinds come from a plan's price change (contracts/price_admin.py).
_SILENCE = gettext_lazy("Widersprechen Sie nicht bis zum {deadline} im Portal, gilt die Änderung "
                        "als angenommen.")
for _code, _label, _window, _min_lead, _on_objection, _recipients in (
    ("price_increase", gettext_lazy("Preiserhöhung"), Period(weeks=4), None,
     gettext_lazy("Widersprechen Sie, gelten die bisherigen Preise weiter; der Anbieter kann "
                  "die betroffenen Leistungen dann kündigen."), None),
    ("terms_change", gettext_lazy("Änderung der Geschäftsbedingungen"), Period(weeks=2),
     Period(weeks=2),
     gettext_lazy("Widersprechen Sie, kann der Anbieter die betroffenen Leistungen nach Ablauf "
                  "der Widerspruchsfrist beenden."), _customers_with_running_contract),
    ("price_change_2m", gettext_lazy("Preis- oder Leistungsänderung (2 Monate)"),
     Period(months=2), Period(months=2),
     gettext_lazy("Widersprechen Sie, haben beide Seiten ein außerordentliches Kündigungsrecht "
                  "mit einer Frist von 14 Tagen zum Tag der Änderung."), None),
):
    notice_kinds.register(NoticeKind(code=_code, label=_label, window=_window,
                                     min_lead=_min_lead, on_objection=_on_objection,
                                     silence_text=_SILENCE, recipients=_recipients))

login_blockers.register(LoginBlocker(key="contracts.contract_ended", check=_contract_ended))

demo_seeders.register(DemoSeeder(key="contracts.catalogue", seed=_seed_catalogue, order=20))
demo_seeders.register(DemoSeeder(key="contracts.bookings", seed=_seed_bookings, order=30))

schedules.register(Job(
    name="contracts.end_due",
    func="contracts.tasks.end_due_contracts",
    cron="5 0 * * *",
    description="Bookings and contracts past their effective end become ended.",
))

schedules.register(Job(
    name="contracts.price_changes_apply",
    func="contracts.tasks.apply_due_price_changes",
    cron="10 0 * * *",
    description="Announced price changes take effect: dated prices for customers who did not "
                "object, the special termination offered to those who did.",
))

for rule in NOTIFICATION_RULES:
    notification_rules.register(rule)
