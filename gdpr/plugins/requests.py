"""Data-subject requests in the core registries: their e-mails and the daily reminder job."""

from gdpr.notifications import RULES
from portal.notifications.registry import rules as notification_rules
from portal.registries import Job, schedules

for rule in RULES:
    notification_rules.register(rule)

schedules.register(Job(
    name="gdpr.dsr_reminders",
    func="gdpr.services.requests.dsr_reminders_send",
    cron="40 6 * * *",
    description="Data-subject requests: the handlers are reminded 7 days and 1 day before the "
                "deadline in force, each once.",
))
