from django.core.management.base import BaseCommand

from portal.schedules import schedules_sync


class Command(BaseCommand):
    help = "Create or update every scheduled django-q2 job (idempotent)."

    def handle(self, *args, **options):
        for name, state in schedules_sync().items():
            self.stdout.write(f"{state:8} {name}")
