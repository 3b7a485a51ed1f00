"""Every coalition's sums, as plain JSON values: what a backup must bring back.

``coalition_totals()`` is written next to a backup (taken in the dump's own snapshot) and compared by
``manage.py verify_totals`` after a restore. It reads every row, whatever its visibility: this is the
operator's check that the data came back, not a page anyone reads. A fixed number of grouped
queries, whatever the row count; amounts are Decimal strings, never floats.
"""

from decimal import Decimal

from django.db.models import Count, Sum

from coalition.models import Coalition, Membership
from contributions.models import Allocation, Disbursement, Pledge, PriorityPurchase
from meetings.models import Decision, Meeting

CENT = Decimal("0.01")


def _money(value):
    """A sum as a string of two decimals (SQLite's sums come back as 5000000 where PostgreSQL's are
    5000000.00: the same total must read the same)."""
    return str(Decimal(str(value if value is not None else 0)).quantize(CENT))


def coalition_totals(using="default"):
    """``{slug: {...}}`` for every coalition: pledges by status (count, EUR, each original currency),
    disbursements (count, by currency), allocations (count, EUR) and the counts of the other records."""
    totals = {
        slug: {
            "pledges": {},
            "disbursements": {"count": 0, "by_currency": {}},
            "allocations": {"count": 0, "amount_eur": "0.00"},
            "counts": {"members": 0, "priorities": 0, "meetings": 0, "decisions": 0},
        }
        for slug in Coalition.objects.using(using).values_list("slug", flat=True)
    }
    pledges = Pledge.objects.using(using).order_by()
    for row in pledges.values("coalition__slug", "status").annotate(
        count=Count("id"), amount_eur=Sum("amount_eur"), disbursed_eur=Sum("disbursed_eur")
    ):
        totals[row["coalition__slug"]]["pledges"][row["status"]] = {
            "count": row["count"],
            "amount_eur": _money(row["amount_eur"]),
            "disbursed_eur": _money(row["disbursed_eur"]),
            "by_currency": {},
        }
    for row in pledges.values("coalition__slug", "status", "currency").annotate(amount=Sum("amount")):
        by_currency = totals[row["coalition__slug"]]["pledges"][row["status"]]["by_currency"]
        by_currency[row["currency"]] = _money(row["amount"])
    disbursements = Disbursement.objects.using(using).order_by()
    for row in disbursements.values("pledge__coalition__slug", "pledge__currency").annotate(
        count=Count("id"), amount=Sum("amount")
    ):
        section = totals[row["pledge__coalition__slug"]]["disbursements"]
        section["count"] += row["count"]
        section["by_currency"][row["pledge__currency"]] = _money(row["amount"])
    for row in (
        Allocation.objects.using(using)
        .order_by()
        .values("pledge__coalition__slug")
        .annotate(count=Count("id"), amount_eur=Sum("amount_eur"))
    ):
        totals[row["pledge__coalition__slug"]]["allocations"] = {
            "count": row["count"],
            "amount_eur": _money(row["amount_eur"]),
        }
    counted = [
        ("members", Membership, "coalition__slug"),
        ("priorities", PriorityPurchase, "coalition__slug"),
        ("meetings", Meeting, "coalition__slug"),
        ("decisions", Decision, "meeting__coalition__slug"),
    ]
    for name, model, slug_path in counted:
        for row in model.objects.using(using).order_by().values(slug_path).annotate(count=Count("id")):
            totals[row[slug_path]]["counts"][name] = row["count"]
    return totals


def differences(expected, actual, path=""):
    """Every place where two totals disagree, as ``"path: expected X, found Y"`` lines."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(expected) | set(actual)):
            where = f"{path}.{key}" if path else key
            if key not in actual:
                found.append(f"{where}: expected {expected[key]!r}, missing")
            elif key not in expected:
                found.append(f"{where}: not expected, found {actual[key]!r}")
            else:
                found.extend(differences(expected[key], actual[key], where))
        return found
    return [] if expected == actual else [f"{path}: expected {expected!r}, found {actual!r}"]
