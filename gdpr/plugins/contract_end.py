"""The end of a contract in the registries: gdpr listens to every registered termination
(``contracts.terminations``: customer cancellation, provider termination, last booking
removed) to mail the customer's admins, the e-mails themselves, the daily reminder 28 days
before the end, and the portal page "Vertragsende & Daten" in the navigation of a customer
admin whose contract ends."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from contracts.terminations import TerminationListener, termination_listeners
from gdpr.notifications import CONTRACT_END_RULES
from portal.notifications.registry import rules as notification_rules
from portal.registries import Job, NavItem, navigation, schedules
from portal.roles import Role


def _registered(termination) -> None:
    from gdpr.services.contract_end import contract_end_registered

    contract_end_registered(termination)


def _contract_ends(membership) -> bool:
    """Customer admins while their contract's end is registered (one query, theirs only)."""
    if membership is None or membership.role != Role.CUSTOMER_ADMIN:
        return False
    from gdpr.services.contract_end import contract_end_of

    return contract_end_of(membership.organisation) is not None


termination_listeners.register(TerminationListener(key="gdpr.contract_end_mail",
                                                   on_registered=_registered))
for rule in CONTRACT_END_RULES:
    notification_rules.register(rule)

schedules.register(Job(
    name="gdpr.contract_end_reminders",
    func="gdpr.tasks.contract_end_reminders",
    cron="50 6 * * *",
    description="The admins of a customer whose contract ends are reminded 28 days before the "
                "end to take their data out (003 § 24.2); once per end, a missed day caught up, "
                "never after the end.",
))

navigation.register(NavItem(key="contract_end", label=gettext_lazy("Vertragsende & Daten"),
                            url_name="gdpr:contract_end", order=96,
                            visible=_contract_ends))
