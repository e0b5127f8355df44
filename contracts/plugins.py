"""What contracts plug into the core and into the device pages: the navigation entry, the
costs card on the dashboard, the bookings of a device on its page, the login blocker of an
ended contract, the demo catalogue, the daily end of due contracts (portal/registries.py) and
the e-mails about bookings and contracts (contracts/notifications.py), and which devices
are under anti-virus management (devices/coverage.py)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contracts.documents import BOOKING_CONFIRMATION, CONTRACT_SUMMARY
from contracts.notifications import RULES as NOTIFICATION_RULES
from devices.coverage import AvCoverage, av_coverage
from portal.documents.kinds import DocumentKind, kinds
from portal.notifications.registry import rules as notification_rules
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

login_blockers.register(LoginBlocker(key="contracts.contract_ended", check=_contract_ended))

demo_seeders.register(DemoSeeder(key="contracts.catalogue", seed=_seed_catalogue, order=20))

schedules.register(Job(
    name="contracts.end_due",
    func="contracts.tasks.end_due_contracts",
    cron="5 0 * * *",
    description="Bookings and contracts past their effective end become ended.",
))

for rule in NOTIFICATION_RULES:
    notification_rules.register(rule)
