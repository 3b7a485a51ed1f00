"""The coalition's figures: one selector behind the dashboard, the summary endpoint and the digest,
so the three can never disagree. A fixed number of aggregate queries whatever the row count."""

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, DateField, F, Func, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest, TruncMonth

from coalition.models import Membership
from coalition.selectors import ZERO_EUR, EuroField
from contributions.models import Pledge, PledgeMonthTotal, PledgeTotal, PriorityPurchase, PriorityTotal
from contributions.selectors import coverage, euro_sum, with_coverage
from meetings.models import ActionItem, Attendance

ZERO = Decimal("0.00")
S = Pledge.Status


@dataclass(frozen=True)
class StatusRow:
    status: str
    label: str
    count: int
    amount_eur: Decimal


@dataclass(frozen=True)
class MemberRow:
    code: str
    name: str
    kind: str
    total_eur: Decimal
    confirmed_eur: Decimal
    disbursed_eur: Decimal
    share: Decimal


@dataclass(frozen=True)
class MonthRow:
    month: date
    announced_eur: Decimal
    confirmed_eur: Decimal
    cumulative_total_eur: Decimal
    cumulative_confirmed_eur: Decimal


@dataclass(frozen=True)
class PriorityRow:
    id: int
    rank: int
    title: str
    status: str
    category: str
    estimated_cost_eur: Decimal
    allocated_eur: Decimal
    coverage: Decimal
    gap_eur: Decimal


@dataclass(frozen=True)
class Summary:
    """What a coalition has pledged, confirmed and disbursed, against its target and priorities."""

    coalition: str
    target_eur: Decimal | None
    total_eur: Decimal
    confirmed_eur: Decimal
    announced_eur: Decimal
    disbursed_eur: Decimal
    gap_eur: Decimal | None
    progress: Decimal | None
    pledge_count: int
    by_status: list[StatusRow] = field(default_factory=list)
    by_member: list[MemberRow] = field(default_factory=list)
    by_month: list[MonthRow] = field(default_factory=list)
    priorities: list[PriorityRow] = field(default_factory=list)

    def as_dict(self):
        return asdict(self)

    @property
    def unfunded_priorities(self):
        return [row for row in self.priorities if row.gap_eur > 0]


class MonthStart(Func):
    """The first day of a date's month, computed by the database itself: TruncMonth calls a Python
    function per row on SQLite, which made the dashboard's by-month figures its slowest part there."""

    output_field = DateField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="DATE_TRUNC('month', %(expressions)s)::date", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="DATE(%(expressions)s, 'start of month')", **extra)

    def as_sql(self, compiler, connection, **extra):
        if "template" not in extra:
            return TruncMonth(*self.get_source_expressions()).as_sql(compiler, connection)
        return super().as_sql(compiler, connection, **extra)


def summary_pledges(coalition, *, date_from=None, date_to=None, statuses=None):
    """The pledges a summary counts from: published ones (the same for every reader, so the dashboard,
    the API summary and the digest agree), optionally filtered by the announcement period and status."""
    queryset = Pledge.objects.published().filter(coalition=coalition)
    if date_from:
        queryset = queryset.filter(announced_on__gte=date_from)
    if date_to:
        queryset = queryset.filter(announced_on__lte=date_to)
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    return queryset


def coalition_summary(coalition, *, date_from=None, date_to=None, statuses=None):
    """The dashboard's figures for ``coalition``. Unfiltered or filtered by status they come from the
    totals tables the write services keep (contributions.aggregates: four queries over a few rows,
    the same at a million pledges as at ten); a period filter needs the announcement day, which
    the totals do not keep, so that summary is summed from the pledges of the period."""
    if date_from or date_to:
        return scanned_summary(coalition, date_from=date_from, date_to=date_to, statuses=statuses)
    return totals_summary(coalition, statuses=statuses)


def totals_summary(coalition, *, statuses=None):
    """The dashboard's figures read from the totals tables (four queries: statuses, members, months
    announced and confirmed, priorities)."""
    totals = PledgeTotal.objects.filter(coalition=coalition)
    months = PledgeMonthTotal.objects.filter(coalition=coalition, status__in=Pledge.COUNTED)
    if statuses:
        totals = totals.filter(status__in=statuses)
        months = months.filter(status__in=statuses)
    status_rows = {
        row["status"]: row
        for row in totals.values("status")
        .annotate(count=Sum("count"), amount=euro_sum("amount_eur"), disbursed=euro_sum("disbursed_eur"))
        .order_by()
    }
    member_rows = (
        totals.filter(status__in=Pledge.COUNTED)
        .values("member__code", "member__name", "member__kind")
        .annotate(
            total=euro_sum("amount_eur"),
            confirmed=euro_sum("amount_eur", Q(status__in=Pledge.CONFIRMED_STATUSES)),
            disbursed=euro_sum("disbursed_eur"),
        )
        .order_by("-total", "member__name")
    )
    announced, confirmations = {}, {}
    month_rows = (
        months.filter(Q(basis=PledgeMonthTotal.Basis.ANNOUNCED) | Q(status__in=Pledge.CONFIRMED_STATUSES))
        .values("basis", "month")
        .annotate(amount=euro_sum("amount_eur"))
        .order_by()
    )
    for row in month_rows:
        target = announced if row["basis"] == PledgeMonthTotal.Basis.ANNOUNCED else confirmations
        target[row["month"]] = row["amount"]
    allocated = (
        PriorityTotal.objects.filter(priority=OuterRef("pk"), status__in=Pledge.COUNTED)
        .order_by()
        .values("priority")
        .annotate(amount=Sum("amount_eur"))
        .values("amount")
    )
    priorities = (
        PriorityPurchase.objects.filter(coalition=coalition)
        .exclude(status=PriorityPurchase.Status.DROPPED)
        .annotate(allocated_eur=Coalesce(Subquery(allocated, output_field=EuroField()), ZERO_EUR))
        .annotate(gap_eur=Greatest(F("estimated_cost_eur") - F("allocated_eur"), ZERO_EUR, output_field=EuroField()))
        .order_by("rank", "pk")
    )
    return _assemble(coalition, status_rows, member_rows, _months(announced, confirmations), priorities)


def scanned_summary(coalition, *, date_from=None, date_to=None, statuses=None):
    """The dashboard's figures summed from the pledges themselves (five queries: statuses with the
    disbursed sums, members, two by month, priorities): what a date-filtered summary needs, and the
    reference the totals tables are checked against."""
    pledges = summary_pledges(coalition, date_from=date_from, date_to=date_to, statuses=statuses)
    counted = Q(status__in=Pledge.COUNTED)
    confirmed = Q(status__in=Pledge.CONFIRMED_STATUSES)

    status_rows = {
        row["status"]: row
        for row in pledges.values("status")
        .annotate(count=Count("pk"), amount=euro_sum("amount_eur"), disbursed=euro_sum("disbursed_eur"))
        .order_by()
    }
    member_rows = (
        pledges.filter(counted)
        .values("member__code", "member__name", "member__kind")
        .annotate(
            total=euro_sum("amount_eur"),
            confirmed=euro_sum("amount_eur", confirmed),
            disbursed=euro_sum("disbursed_eur"),
        )
        .order_by("-total", "member__name")
    )
    by_month = _by_month(pledges.filter(counted), confirmed)

    priority_rows = with_coverage(
        PriorityPurchase.objects.filter(coalition=coalition).exclude(status=PriorityPurchase.Status.DROPPED)
    ).order_by("rank", "pk")
    return _assemble(coalition, status_rows, member_rows, by_month, priority_rows)


def _assemble(coalition, status_rows, member_rows, by_month, priority_rows):
    """The Summary from grouped rows, whichever source they were read from."""
    by_status = [
        StatusRow(
            status=value,
            label=str(label),
            count=status_rows.get(value, {}).get("count", 0),
            amount_eur=status_rows.get(value, {}).get("amount", ZERO),
        )
        for value, label in S.choices
        if value != S.DRAFT
    ]
    amounts = {row.status: row.amount_eur for row in by_status}
    total = sum((amounts[s] for s in Pledge.COUNTED), ZERO)
    confirmed_total = sum((amounts[s] for s in Pledge.CONFIRMED_STATUSES), ZERO)
    disbursed = sum((status_rows[s]["disbursed"] for s in Pledge.COUNTED if s in status_rows), ZERO)
    by_member = [
        MemberRow(
            code=row["member__code"],
            name=row["member__name"],
            kind=row["member__kind"],
            total_eur=row["total"],
            confirmed_eur=row["confirmed"],
            disbursed_eur=row["disbursed"],
            share=coverage(row["total"], total),
        )
        for row in member_rows
    ]
    priorities = [
        PriorityRow(
            id=p.pk,
            rank=p.rank,
            title=p.title,
            status=p.status,
            category=p.category,
            estimated_cost_eur=p.estimated_cost_eur,
            allocated_eur=p.allocated_eur,
            coverage=coverage(p.allocated_eur, p.estimated_cost_eur),
            gap_eur=p.gap_eur,
        )
        for p in priority_rows
    ]
    target = coalition.target_eur
    return Summary(
        coalition=coalition.slug,
        target_eur=target,
        total_eur=total,
        confirmed_eur=confirmed_total,
        announced_eur=amounts[S.ANNOUNCED],
        disbursed_eur=disbursed,
        gap_eur=max(target - confirmed_total, ZERO) if target else None,
        progress=coverage(confirmed_total, target) if target else None,
        pledge_count=sum(row.count for row in by_status if row.status in Pledge.COUNTED),
        by_status=by_status,
        by_member=by_member,
        by_month=by_month,
        priorities=priorities,
    )


def _by_month(pledges, confirmed):
    """New pledges by month announced and confirmations by month confirmed, with running totals."""
    announced = {
        row["month"]: row["amount"]
        for row in pledges.annotate(month=MonthStart("announced_on"))
        .values("month")
        .annotate(amount=euro_sum("amount_eur"))
        .order_by()
    }
    confirmations = {
        row["month"]: row["amount"]
        for row in pledges.filter(confirmed, confirmed_on__isnull=False)
        .annotate(month=MonthStart("confirmed_on"))
        .values("month")
        .annotate(amount=euro_sum("amount_eur"))
        .order_by()
    }
    return _months(announced, confirmations)


def _months(announced, confirmations):
    """Month rows with running totals from {month: amount} of announcements and confirmations."""
    rows, running_total, running_confirmed = [], ZERO, ZERO
    for month in sorted({*announced, *confirmations}):
        running_total += announced.get(month, ZERO)
        running_confirmed += confirmations.get(month, ZERO)
        rows.append(
            MonthRow(
                month=month,
                announced_eur=announced.get(month, ZERO),
                confirmed_eur=confirmations.get(month, ZERO),
                cumulative_total_eur=running_total,
                cumulative_confirmed_eur=running_confirmed,
            )
        )
    return rows


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
    pledges = Pledge.objects.visible_to(user).filter(member=member)
    by_status = {
        row["status"]: row
        for row in pledges.order_by().values("status").annotate(count=Count("pk"), amount_eur=euro_sum("amount_eur"))
    }
    status_rows = [
        {
            "status": value,
            "label": label,
            "count": by_status.get(value, {}).get("count", 0),
            "amount_eur": by_status.get(value, {}).get("amount_eur", ZERO),
        }
        for value, label in S.choices
    ]
    amounts = {row["status"]: row["amount_eur"] for row in status_rows}
    totals = {
        "total": sum((amounts[s] for s in Pledge.COUNTED), ZERO),
        "confirmed": sum((amounts[s] for s in Pledge.CONFIRMED_STATUSES), ZERO),
        "announced": amounts[S.ANNOUNCED],
    }
    attended = (
        Attendance.objects.visible_to(user)
        .filter(member=member, status=Attendance.Status.PRESENT)
        .select_related("meeting__coalition")
        .order_by("-meeting__starts_at")
    )
    open_items = (
        ActionItem.objects.visible_to(user)
        .filter(owner=member, status=ActionItem.Status.OPEN)
        .select_related("meeting__coalition")
        .order_by("due_on", "pk")
    )
    seats = Membership.objects.visible_to(user).filter(member=member).select_related("coalition")
    return MemberProfile(
        seats=list(seats),
        status_rows=status_rows,
        totals=totals,
        pledges=pledges.select_related("coalition", "confirmed_at_meeting").order_by("-announced_on", "-pk"),
        attended=list(attended),
        open_items=list(open_items),
    )
