"""The purge in the core's schedules: the daily purge of due customers, the hourly retry of
file deletions and the daily deletion of retained records whose period has ended."""

from portal.registries import Job, schedules

schedules.register(Job(
    name="gdpr.purge_run",
    func="gdpr.tasks.purge_run",
    cron="30 2 * * *",
    description="Purge: every customer whose contract ended 57 days ago or earlier is purged "
                "(one transaction each, a deletion certificate each); legal holds pause it.",
))
schedules.register(Job(
    name="gdpr.pending_files_retry",
    func="gdpr.tasks.pending_files_retry",
    cron="15 * * * *",
    description="Purge: stored files whose deletion failed after the commit are tried again "
                "until the storage confirms.",
))
schedules.register(Job(
    name="gdpr.retained_records_expire",
    func="gdpr.tasks.retained_records_expire",
    cron="0 3 * * *",
    description="Purge: records kept under a legal retention duty are deleted when their "
                "period ends (unless a legal hold keeps them).",
))
