"""``manage.py purge_due [--today YYYY-MM-DD] [--dry-run]``: the daily purge for operators
(gdpr/services/purge.py). ``--today`` runs it as of another day (e.g. to catch up after an
outage; a future day only with ``--dry-run``, to see what it will purge); ``--dry-run`` lists
the due customers with their rows per registry entry and changes nothing. Exit status 1 when
a customer's purge failed."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gdpr.services.purge import purge_due


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--today: {value!r} is not a date (YYYY-MM-DD)") from exc


class Command(BaseCommand):
    help = "Purge every customer whose contract ended 57 days ago or earlier."

    def add_arguments(self, parser):
        parser.add_argument("--today", type=str, default=None,
                            help="run as of this day (YYYY-MM-DD); default: today")
        parser.add_argument("--dry-run", action="store_true",
                            help="list what would be purged, change nothing")

    def handle(self, *args, today=None, dry_run=False, **options):
        day = _day(today) if today else timezone.localdate()
        if day > timezone.localdate() and not dry_run:
            raise CommandError("--today may lie in the future only with --dry-run: purging "
                               "as of a day that has not come would delete data that must "
                               "still be kept")
        report = purge_due(today=day, dry_run=dry_run)
        for reference, counts in report.planned:
            rows = ", ".join(f"{label} {count}" for label, count in counts.items())
            self.stdout.write(f"would purge {reference}: {rows}")
        for reference in report.purged:
            self.stdout.write(f"purged {reference}")
        for reference in report.held:
            self.stdout.write(f"held {reference} (legal hold)")
        for reference, error in report.failed:
            self.stderr.write(f"FAILED {reference}: {error}")
        self.stdout.write(f"{day}: {len(report.purged)} purged, {len(report.held)} held, "
                          f"{len(report.failed)} failed"
                          + (f", {len(report.planned)} due (dry run)" if dry_run else ""))
        if report.failed:
            raise SystemExit(1)
