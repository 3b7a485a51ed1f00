"""``python manage.py export_iati SLUG [--output FILE]``: a coalition's IATI 2.03 activity file."""

from django.core.management.base import BaseCommand, CommandError

from coalition.models import Coalition
from reports import iati


class Command(BaseCommand):
    help = "Write a coalition's published pledges and disbursements as an IATI 2.03 activity file."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The coalition's slug.")
        parser.add_argument("--output", "-o", help="The file to write (default: standard output).")

    def handle(self, *args, slug, output=None, **options):
        coalition = Coalition.objects.filter(slug=slug).first()
        if coalition is None:
            raise CommandError(f"No coalition {slug!r}.")
        document = iati.to_bytes(coalition)
        if not output:
            self.stdout.write(document.decode(), ending="")
            return
        try:
            with open(output, "wb") as file:
                file.write(document)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}.") from exc
        activities = document.count(b"<iati-activity ")
        transactions = document.count(b"<transaction ")
        self.stdout.write(f"{output}: {activities} activities, {transactions} transactions ({len(document):,} bytes).")
