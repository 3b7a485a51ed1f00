"""Fill the totals tables from the pledges already recorded (with the historical models, as the
write services would have: published pledges only; allocations by their pledge's status)."""

from collections import defaultdict
from decimal import Decimal

from django.db import migrations

ZERO = Decimal("0.00")


def fill(apps, schema_editor):
    Pledge = apps.get_model("contributions", "Pledge")
    Allocation = apps.get_model("contributions", "Allocation")
    PledgeTotal = apps.get_model("contributions", "PledgeTotal")
    PledgeMonthTotal = apps.get_model("contributions", "PledgeMonthTotal")
    PriorityTotal = apps.get_model("contributions", "PriorityTotal")
    totals = defaultdict(lambda: [0, ZERO, ZERO, ZERO, ZERO])
    months = defaultdict(lambda: [0, ZERO])
    status_of = {}
    columns = ("pk", "coalition_id", "member_id", "status", "kind", "channel", "currency", "amount", "amount_eur")
    columns += ("disbursed_amount", "disbursed_eur", "announced_on", "confirmed_on")
    published = Pledge.objects.filter(published_at__isnull=False).order_by()
    for row in published.values_list(*columns).iterator(chunk_size=2000):
        pk, coalition, member, status, kind, channel, currency, amount, eur, paid, paid_eur, on, confirmed_on = row
        status_of[pk] = (coalition, status)
        total = totals[(coalition, member, status, kind, channel, currency)]
        for index, value in enumerate((1, amount, eur, paid, paid_eur)):
            total[index] += value
        bases = [("announced", on)] + ([("confirmed", confirmed_on)] if confirmed_on else [])
        for basis, day in bases:
            month = months[(coalition, basis, day.replace(day=1), status)]
            month[0] += 1
            month[1] += eur
    priorities = defaultdict(lambda: [0, ZERO])
    for pledge_id, priority_id, eur in Allocation.objects.values_list("pledge_id", "priority_id", "amount_eur"):
        if pledge_id in status_of:
            coalition, status = status_of[pledge_id]
            row = priorities[(coalition, priority_id, status)]
            row[0] += 1
            row[1] += eur
    PledgeTotal.objects.bulk_create(
        [
            PledgeTotal(
                coalition_id=c, member_id=m, status=s, kind=k, channel=ch, currency=cur,
                count=n, amount=a, amount_eur=e, disbursed_amount=p, disbursed_eur=pe,
            )
            for (c, m, s, k, ch, cur), (n, a, e, p, pe) in totals.items()
        ],
        batch_size=1000,
    )
    PledgeMonthTotal.objects.bulk_create(
        [
            PledgeMonthTotal(coalition_id=c, basis=b, month=mo, status=s, count=n, amount_eur=e)
            for (c, b, mo, s), (n, e) in months.items()
        ],
        batch_size=1000,
    )
    PriorityTotal.objects.bulk_create(
        [PriorityTotal(coalition_id=c, priority_id=p, status=s, count=n, amount_eur=e) for (c, p, s), (n, e) in priorities.items()],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [("contributions", "0007_aggregates_exports")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)]
