"""``manage.py backup [--output FILE]``: the database to FILE (pg_dump custom format on PostgreSQL, an
SQLite copy on SQLite) and every coalition's totals to ``FILE.totals.json``, read in the same snapshot."""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from reports.backups import BackupError, backup, totals_path


class Command(BaseCommand):
    help = "Back up the database, with the totals verify_totals compares after a restore."

    def add_arguments(self, parser):
        parser.add_argument("--output", metavar="FILE", help="where to write it (default: backup-<UTC time>.<kind>)")

    def handle(self, *args, output=None, **options):
        if not output:
            suffix = "dump" if connection.vendor == "postgresql" else "sqlite3"
            output = f"backup-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.{suffix}"
        try:
            totals = backup(output)
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Backed up to {output}; totals of {len(totals)} coalition(s) in {totals_path(output)}.")
