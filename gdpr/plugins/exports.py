"""The scheduled job of person exports (portal/registries.py ``schedules``)."""

from portal.registries import Job, schedules

schedules.register(Job(
    name="gdpr.exports_expire",
    func="gdpr.tasks.exports_expire",
    cron="23 3 * * *",
    description="The stored ZIP files of personal data exports are deleted 14 days after they "
                "were made; the export rows stay (done, without file) as the record.",
))
