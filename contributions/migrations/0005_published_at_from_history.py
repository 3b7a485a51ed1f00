"""Backfill ``published_at``: a pledge was published when its history first shows it announced,
confirmed, disbursing or fulfilled; one that went from draft straight to withdrawn never was, and stays
private. Each history row gets the ``published_at`` its pledge had at that moment (None before), which
is how the history of a pledge hides its draft-era rows from those who could not read the draft."""

from django.db import migrations
from django.db.models import F, OuterRef, Subquery

PUBLISHED_STATUSES = ("announced", "confirmed", "disbursing", "fulfilled")


def backfill(apps, schema_editor):
    Pledge = apps.get_model("contributions", "Pledge")
    History = apps.get_model("contributions", "HistoricalPledge")
    first_public = History.objects.filter(id=OuterRef("id"), status__in=PUBLISHED_STATUSES).order_by(
        "history_date", "history_id"
    )
    History.objects.update(
        published_at=Subquery(
            first_public.filter(history_date__lte=OuterRef("history_date")).values("history_date")[:1]
        )
    )
    Pledge.objects.update(
        published_at=Subquery(
            History.objects.filter(id=OuterRef("pk"), status__in=PUBLISHED_STATUSES)
            .order_by("history_date", "history_id")
            .values("history_date")[:1]
        )
    )
    # A published pledge without a history row to show it (none is expected): published when created.
    Pledge.objects.filter(published_at__isnull=True, status__in=PUBLISHED_STATUSES).update(published_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("contributions", "0004_pledge_published_at"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
