"""``manage.py verify_totals [--against FILE.json]``: print every coalition's sums; with --against,
compare them with a backup's totals and exit non-zero on any difference."""

import json

from django.core.management.base import BaseCommand, CommandError

from reports.totals import coalition_totals, differences


class Command(BaseCommand):
    help = "Print every coalition's totals; compare them with a backup's (--against) and fail on a difference."

    def add_arguments(self, parser):
        parser.add_argument("--against", metavar="FILE.json", help="the totals written by manage.py backup")

    def handle(self, *args, against=None, **options):
        totals = coalition_totals()
        for slug, sums in totals.items():
            self.stdout.write(self._describe(slug, sums))
        if not against:
            return
        try:
            with open(against, encoding="utf-8") as file:
                expected = json.load(file)
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read the totals {against}: {exc}") from exc
        found = differences(expected, totals)
        if found:
            raise CommandError(f"{len(found)} difference(s) from {against}:\n" + "\n".join(found))
        self.stdout.write(f"Equal to {against}: {len(totals)} coalition(s).")

    @staticmethod
    def _describe(slug, sums):
        lines = [slug]
        for status, row in sorted(sums["pledges"].items()):
            currencies = ", ".join(f"{amount} {code}" for code, amount in sorted(row["by_currency"].items()))
            lines.append(
                f"  pledges {status}: {row['count']}, EUR {row['amount_eur']} "
                f"(disbursed EUR {row['disbursed_eur']}; {currencies})"
            )
        paid = ", ".join(f"{amount} {code}" for code, amount in sorted(sums["disbursements"]["by_currency"].items()))
        lines.append(f"  disbursements: {sums['disbursements']['count']} ({paid or 'none'})")
        lines.append(f"  allocations: {sums['allocations']['count']}, EUR {sums['allocations']['amount_eur']}")
        lines.append("  " + ", ".join(f"{name} {count}" for name, count in sums["counts"].items()))
        return "\n".join(lines)
