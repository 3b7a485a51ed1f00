"""python manage.py load_demo: the IT Coalition demo, idempotent, then the demo logins."""

import logging
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from demo.data import SLUG
from demo.loader import load_demo
from reports.models import Delivery

CONSOLE_EMAIL = "django.core.mail.backends.console.EmailBackend"
FILE_EMAIL = "django.core.mail.backends.filebased.EmailBackend"


@contextmanager
def emails_to_files(directory):
    """While the demo loads, email the console backend would print goes to files in ``directory``
    instead (yields whether it does); other backends are left alone.

    The first load sends a notice per confirmed pledge and a summary per held meeting, about 3,500
    lines that would bury the logins. Celery's line per task run in-process is held back with them.
    """
    if settings.EMAIL_BACKEND != CONSOLE_EMAIL:
        yield False
        return
    directory.mkdir(parents=True, exist_ok=True)
    tasks_log = logging.getLogger("celery.app.trace")
    level = tasks_log.level
    tasks_log.setLevel(logging.WARNING)
    try:
        # override_settings is Django's way to change settings for a block and put them back.
        with override_settings(EMAIL_BACKEND=FILE_EMAIL, EMAIL_FILE_PATH=str(directory)):
            yield True
    finally:
        tasks_log.setLevel(level)


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
        directory = Path(settings.BASE_DIR) / "demo-emails"
        sent_before = _sent()
        with emails_to_files(directory) as diverted:
            result = load_demo()
        # Counted in the ledger, not in files: the file backend names a file by the second and the
        # connection, so two emails can share one.
        emails = _sent() - sent_before if diverted else 0
        made = ", ".join(f"{count} {kind}" for kind, count in result.created.items() if count)
        if made:
            self.stdout.write(self.style.SUCCESS(f"Demo coalition {SLUG}: created {made}."))
        else:
            self.stdout.write(f"Demo coalition {SLUG} already loaded: nothing to do.")
        if emails:
            self.stdout.write(
                f"{emails} report emails (pledge confirmations, meeting summaries) written to {directory}/ "
                "instead of the console."
            )
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


def _sent():
    """How many report emails have been sent (the delivery ledger counts every one)."""
    return Delivery.objects.filter(status=Delivery.Status.SENT).count()
