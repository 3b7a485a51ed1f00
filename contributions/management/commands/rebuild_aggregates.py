"""``manage.py rebuild_aggregates [--check] [--coalition SLUG ...]``: recompute the totals tables from
the pledges, or (``--check``) compare them with the raw sums and exit non-zero on any difference."""

from django.core.management.base import BaseCommand, CommandError

from coalition.models import Coalition
from contributions import aggregates


class Command(BaseCommand):
    help = (
        "Recompute the pledge, month and priority totals the dashboard reads from the pledges themselves "
        "(after a bulk load that bypassed the services). With --check, change nothing: compare the stored "
        "totals with the raw sums and exit with status 1 when they differ."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
        parser.add_argument("--coalition", action="append", metavar="SLUG", help="only this coalition (repeatable)")

    def handle(self, *args, check=False, coalition=None, **options):
        ids = None
        if coalition:
            found = dict(Coalition.objects.filter(slug__in=coalition).values_list("slug", "pk"))
            missing = sorted(set(coalition) - set(found))
            if missing:
                raise CommandError(f"No such coalition: {', '.join(missing)}")
            ids = list(found.values())
        if check:
            differences = aggregates.differences(ids)
            for table, key, stored, raw in differences[:50]:
                self.stdout.write(f"{table} {key}: stored {stored}, raw {raw}")
            if differences:
                raise CommandError(f"{len(differences)} totals differ from the raw sums; run rebuild_aggregates.")
            self.stdout.write(self.style.SUCCESS("The totals equal the raw sums."))
            return
        facts = aggregates.rebuild(ids)
        rows = sum(len(table) for table in facts.tables.values())
        self.stdout.write(self.style.SUCCESS(f"Rebuilt the totals of {len(facts.coalitions)} coalitions: {rows} rows."))
