import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.demo import demo_seed


class Command(BaseCommand):
    help = ("Create the demo provider, partners, customers and one person per role "
            "(idempotent; only with DEBUG on).")

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true",
                            help='Print [{"role", "email", "password", "totp_secret"}, ...].')

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo refuses to run with DEBUG off: demo accounts with "
                               "published passwords must never reach a production database.")
        logins = demo_seed()
        if options["json"]:
            self.stdout.write(json.dumps(
                [{"role": x.role, "email": x.email, "password": x.password,
                  "totp_secret": x.totp_secret} for x in logins], indent=2))
            return
        self.stdout.write("Demo logins (password + TOTP secret for any authenticator app):")
        width = max(len(x.email) for x in logins)
        for x in logins:
            self.stdout.write(f"  {x.role:16} {x.email:{width}}  {x.password}  "
                              f"TOTP {x.totp_secret}  ({x.organisation})")
