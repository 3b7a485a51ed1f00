"""``manage.py restore FILE --yes``: replace the configured database's contents with a backup made by
``manage.py backup`` (pg_restore --clean --if-exists, in one transaction). Refused without --yes."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from reports.backups import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup made by manage.py backup into the configured database (all of it is replaced)."

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--yes", action="store_true", help="yes, replace everything in the configured database")

    def handle(self, *args, file, yes=False, **options):
        name = connection.settings_dict["NAME"]
        if not yes:
            raise CommandError(f"This replaces everything in the database {name!s} with {file}: add --yes to do it.")
        try:
            restore(file)
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        check = f"manage.py verify_totals --against {file}.totals.json"
        self.stdout.write(f"Restored {file} into {name}; check it: {check}")
