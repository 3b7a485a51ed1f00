"""python manage.py load_demo: the IT Coalition demo, idempotent, then the demo logins."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.data import SLUG
from demo.loader import load_demo


class Command(BaseCommand):
    help = (
        "Load the IT Coalition demo (public facts; per-country amounts illustrative) and create the demo "
        "accounts with a published password. Running it again changes nothing. Not for production."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Load even with DEBUG off (the demo accounts have a published password).",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "DEBUG is off: this looks like a production database, and the demo creates accounts with a "
                "published password. Pass --allow-production if you really mean it (a staging demo, say)."
            )
        result = load_demo()
        made = ", ".join(f"{count} {kind}" for kind, count in result.created.items() if count)
        if made:
            self.stdout.write(self.style.SUCCESS(f"Demo coalition {SLUG}: created {made}."))
        else:
            self.stdout.write(f"Demo coalition {SLUG} already loaded: nothing to do.")
        self._print_logins(result.logins)

    def _print_logins(self, logins):
        rows = [("username", "password", "role", "member")] + [
            (login.username, login.password, login.role, login.member or "-") for login in logins
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        line = "+".join("-" * (w + 2) for w in widths)
        self.stdout.write(f"\nDemo logins ({settings.SITE_URL}/accounts/login/):")
        self.stdout.write(f"+{line}+")
        for index, row in enumerate(rows):
            self.stdout.write("| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |")
            if index == 0:
                self.stdout.write(f"+{line}+")
        self.stdout.write(f"+{line}+")
