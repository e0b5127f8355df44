from django.core.management.base import BaseCommand

from portal.groups import role_groups_sync


class Command(BaseCommand):
    help = "Create or update one permission group per role (idempotent)."

    def handle(self, *args, **options):
        for name, count in role_groups_sync().items():
            self.stdout.write(f"{name}: {count} permissions")
