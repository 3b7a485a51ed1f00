"""Reads of the lowest layer: EUR aggregates every app shares, and a member's profile.

The profile reads pledges, attendances and action items through the member's reverse relations and
the permissions module, so this app imports nothing from meetings or contributions.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, Sum, Value

from coalition import permissions

CENT = Decimal("0.01")


class EuroField(DecimalField):
    """The output field of a computed EUR amount (a sum, a difference): cents on every database.
    PostgreSQL keeps numeric's scale (5000000.00); SQLite's converter rounds only plain columns and
    gives 5000000, which the API, CSV exports and emails would otherwise show."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 18)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        return None if value is None else Decimal(value).quantize(CENT)


ZERO_EUR = Value(Decimal("0.00"), output_field=EuroField())


def euro_sum(column, condition=None):
    """SUM of a EUR column (optionally filtered), 0.00 when there are no rows, in cents."""
    return Sum(column, filter=condition, default=ZERO_EUR, output_field=EuroField())


@dataclass(frozen=True)
class MemberProfile:
    """What ``/members/<code>/`` shows of a member, limited to what the user may see."""

    seats: list
    status_rows: list
    totals: dict
    pledges: object  # queryset, newest first, for the page's paginator
    attended: list
    open_items: list


def member_profile(user, member):
    """A member's seats, pledge totals by status, pledges, meetings attended and open action items
    in the coalitions ``user`` may see, in a fixed number of queries whatever the member's size."""
    coalition_ids = permissions.visible_coalitions(user).values("pk")
    pledge_model = member.pledges.model
    statuses = pledge_model.Status

    pledges = permissions.visible_pledges(user, member.pledges.all())
    by_status = {
        row["status"]: row
        for row in pledges.order_by().values("status").annotate(count=Count("pk"), amount_eur=euro_sum("amount_eur"))
    }
    zero = Decimal("0.00")
    status_rows = [
        {
            "status": value,
            "label": label,
            "count": by_status.get(value, {}).get("count", 0),
            "amount_eur": by_status.get(value, {}).get("amount_eur", zero),
        }
        for value, label in statuses.choices
    ]
    amounts = {row["status"]: row["amount_eur"] for row in status_rows}
    totals = {
        "total": sum((amounts[s] for s in pledge_model.COUNTED), zero),
        "confirmed": sum((amounts[s] for s in pledge_model.CONFIRMED_STATUSES), zero),
        "announced": amounts[statuses.ANNOUNCED],
    }
    attended = (
        member.attendances.filter(meeting__coalition__in=coalition_ids, status="present")
        .select_related("meeting__coalition")
        .order_by("-meeting__starts_at")
    )
    open_items = (
        member.action_items.filter(meeting__coalition__in=coalition_ids, status="open")
        .select_related("meeting__coalition")
        .order_by("due_on", "pk")
    )
    seats = member.memberships.filter(coalition__in=coalition_ids).select_related("coalition")
    return MemberProfile(
        seats=list(seats),
        status_rows=status_rows,
        totals=totals,
        pledges=pledges.select_related("coalition", "confirmed_at_meeting").order_by("-announced_on", "-pk"),
        attended=list(attended),
        open_items=list(open_items),
    )
