"""The coalition's figures: one selector behind the dashboard, the summary endpoint and the digest,
so the three can never disagree, and the dashboard's own figures (headline, member table, kind and
channel, coverage split, data as of). A fixed number of aggregate queries whatever the row count."""

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, DateField, Exists, F, Func, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest, TruncMonth
from django.utils import timezone

from coalition.models import Coalition, Member, Membership
from coalition.selectors import ZERO_EUR, EuroField
from contributions.models import (
    Allocation,
    Disbursement,
    Pledge,
    PledgeMonthTotal,
    PledgeTotal,
    PriorityPurchase,
    PriorityTotal,
)
from contributions.selectors import coverage, euro_sum, with_coverage
from meetings.models import ActionItem, Attendance
from reports import figures
from reports.models import Delivery

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
    return narrowed(Pledge.objects.published().filter(coalition=coalition), date_from, date_to, statuses)


def narrowed(pledges, date_from=None, date_to=None, statuses=None):
    """Pledges (or their history rows) of the announcement period and statuses a summary asks for."""
    if date_from:
        pledges = pledges.filter(announced_on__gte=date_from)
    if date_to:
        pledges = pledges.filter(announced_on__lte=date_to)
    if statuses:
        pledges = pledges.filter(status__in=statuses)
    return pledges


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


# --- The dashboard's figures ---------------------------------------------------------------------
# Each figure below is one named selector returning plain data (dataclasses of Decimals), so the
# dashboard's templates only present them and a cache or pre-computed tables can stand in for them.


@dataclass(frozen=True)
class SinceMeeting:
    """What changed since a held meeting: each figure now less the same figure as the pledges' history
    had it when the meeting ended (pledged: the counted total; confirmed; disbursed). A pledge
    withdrawn since, or cut, is a fall."""

    pledged_eur: Decimal = ZERO
    confirmed_eur: Decimal = ZERO
    disbursed_eur: Decimal = ZERO


@dataclass(frozen=True)
class Headline:
    """The dashboard's first answers: confirmed against the target, paid, unfunded, and what changed
    since the previous meeting."""

    target_eur: Decimal | None
    confirmed_eur: Decimal
    announced_eur: Decimal
    disbursed_eur: Decimal
    unfunded_eur: Decimal | None
    progress: Decimal | None
    disbursed_share: Decimal
    priorities_unfunded_eur: Decimal
    priorities_uncovered: int
    meeting_date: date | None
    meeting_title: str
    since: SinceMeeting | None


@dataclass(frozen=True)
class MemberFigures:
    """One member's line of the dashboard's member table (zero when it has pledged nothing)."""

    code: str
    name: str
    role: str
    total_eur: Decimal
    confirmed_eur: Decimal
    announced_eur: Decimal
    disbursed_eur: Decimal
    disbursed_share: Decimal | None
    oldest_unconfirmed_days: int | None
    since: SinceMeeting | None


@dataclass(frozen=True)
class BreakdownRow:
    """Pledges of one kind (financial, in kind) or one channel (bilateral, trust fund, ...)."""

    value: str
    label: str
    count: int
    total_eur: Decimal
    confirmed_eur: Decimal
    announced_eur: Decimal
    disbursed_eur: Decimal
    share: Decimal


@dataclass(frozen=True)
class CoverageRow:
    """A priority's estimated cost split into what confirmed pledges cover, what announced (not yet
    confirmed) pledges would add, and what no pledge covers."""

    id: int
    rank: int
    title: str
    status: str
    estimated_cost_eur: Decimal
    confirmed_eur: Decimal
    announced_eur: Decimal
    confirmed_coverage: Decimal
    announced_coverage: Decimal
    unfunded_eur: Decimal


def since_meeting_date(meeting):
    """The day of a held meeting the dashboard names (its local date), or None."""
    if meeting is None:
        return None
    return timezone.localdate(meeting.starts_at)


def meeting_cutoff(meeting):
    """The instant a held meeting's "since" figures compare with: its recorded end, else the end of its
    local day, so what the secretariat records at (or on the day of) the meeting is the meeting's
    state, not a change since. None without a meeting."""
    if meeting is None:
        return None
    if meeting.ends_at is not None:
        return meeting.ends_at
    next_day = timezone.localdate(meeting.starts_at) + timedelta(days=1)
    return timezone.make_aware(datetime.combine(next_day, time.min))


def _member_aggregates():
    """The sums the member table and its "as it stood" counterpart take over pledges (or their history
    rows) already narrowed to the counted statuses."""
    return {
        "total": euro_sum("amount_eur"),
        "confirmed": euro_sum("amount_eur", Q(status__in=Pledge.CONFIRMED_STATUSES)),
        "disbursed": euro_sum("disbursed_eur"),
    }


def member_table(coalition, *, as_of=None, today=None, **filters):
    """Every member of ``coalition`` (seated now, or with a pledge counted here), pledged or not,
    with confirmed, disbursed, disbursed share of confirmed, the age in days of its oldest pledge still
    awaiting confirmation and, when ``as_of`` (an instant: meeting_cutoff) is given, what changed
    since then. A fixed number of queries whatever the row count: the sums by member (member_sums:
    one or two), the seats, the history as of ``as_of`` (none when kept: members_as_of), and the names
    of members counted only then, with no seat (none unless there are such members)."""
    today = today or timezone.localdate()
    rows = member_sums(coalition, **filters)
    then = members_as_of(coalition, as_of, **filters) if as_of is not None else {}
    seats = {
        seat.member_id: seat
        for seat in Membership.objects.filter(coalition=coalition).select_related("member").order_by()
    }
    # A member counted before the meeting only shows what it took away, named as it is named now.
    unnamed = set(then) - set(rows) - set(seats)
    gone = {
        member["pk"]: {"member__code": member["code"], "member__name": member["name"]}
        for member in (Member.objects.filter(pk__in=unnamed).order_by().values("pk", "code", "name") if unnamed else ())
    }
    result = []
    for member_id in {*seats, *rows, *then}:
        row = rows.get(member_id, {})
        seat = seats.get(member_id)
        was = then.get(member_id, {})
        named = row or gone.get(member_id)
        if seat is None and named is None:
            continue  # a member deleted since: its history rows name no one
        member_confirmed = row.get("confirmed", ZERO)
        disbursed = row.get("disbursed", ZERO)
        oldest = row.get("oldest_unconfirmed")
        result.append(
            MemberFigures(
                code=seat.member.code if seat else named["member__code"],
                name=seat.member.name if seat else named["member__name"],
                role=seat.role if seat else "",
                total_eur=row.get("total", ZERO),
                confirmed_eur=member_confirmed,
                announced_eur=row.get("announced", ZERO),
                disbursed_eur=disbursed,
                disbursed_share=coverage(disbursed, member_confirmed) if member_confirmed else None,
                oldest_unconfirmed_days=(today - oldest).days if oldest else None,
                since=SinceMeeting(
                    pledged_eur=row.get("total", ZERO) - was.get("total", ZERO),
                    confirmed_eur=member_confirmed - was.get("confirmed", ZERO),
                    disbursed_eur=disbursed - was.get("disbursed", ZERO),
                )
                if as_of is not None
                else None,
            )
        )
    result.sort(key=lambda m: (-m.confirmed_eur, -m.total_eur, m.name))
    return result


def member_sums(coalition, *, date_from=None, date_to=None, statuses=None):
    """Per member id with a pledge counted in ``coalition``: its code and name, total, confirmed,
    announced and disbursed EUR, and the day its oldest pledge awaiting confirmation was announced.
    From the totals tables (totals_member_sums) unless a period is asked for, which the totals do not
    keep: then summed from the pledges of the period (scanned_member_sums)."""
    if date_from or date_to:
        return scanned_member_sums(coalition, date_from=date_from, date_to=date_to, statuses=statuses)
    return totals_member_sums(coalition, statuses=statuses)


def totals_member_sums(coalition, *, statuses=None):
    """member_sums from the totals tables, and the oldest announcement awaiting confirmation from
    the first entry of each waiting member's part of the partial index ``pledge_awaiting`` (two queries
    over a few rows each, the same at a million pledges as at ten)."""
    announced = Q(status=S.ANNOUNCED)
    totals = _counted_totals(coalition, statuses)
    rows = {
        row["member_id"]: {**row, "oldest_unconfirmed": None}
        for row in totals.values("member_id", "member__code", "member__name")
        .annotate(**_member_aggregates(), announced=euro_sum("amount_eur", announced))
        .order_by()
    }
    # Every pledge's EUR amount is positive (pledge_amount_eur_positive): announced money means a pledge.
    waiting = [member_id for member_id, row in rows.items() if row["announced"]]
    if waiting:
        oldest = Subquery(
            Pledge.objects.published()
            .filter(announced, coalition=coalition, member=OuterRef("pk"))
            .order_by("announced_on")
            .values("announced_on")[:1]
        )
        waiting_members = Member.objects.filter(pk__in=waiting).annotate(day=oldest).order_by()
        for member_id, day in waiting_members.values_list("pk", "day"):
            rows[member_id]["oldest_unconfirmed"] = day
    return rows


def _counted_totals(coalition, statuses=None):
    """The coalition's PledgeTotal rows of the counted statuses, narrowed to ``statuses`` if given."""
    totals = PledgeTotal.objects.filter(coalition=coalition, status__in=Pledge.COUNTED)
    return totals.filter(status__in=statuses) if statuses else totals


def scanned_member_sums(coalition, **filters):
    """member_sums summed from the pledges (one aggregate query): what a period filter needs, and the
    reference the totals are checked against."""
    announced = Q(status=S.ANNOUNCED)
    return {
        row["member_id"]: row
        for row in summary_pledges(coalition, **filters)
        .filter(status__in=Pledge.COUNTED)
        .values("member_id", "member__code", "member__name")
        .annotate(
            **_member_aggregates(),
            announced=euro_sum("amount_eur", announced),
            oldest_unconfirmed=Min("announced_on", filter=announced),
        )
        .order_by()
    }


#: How long past an instant must be for the history as of it to be settled: a write's history rows
#: are dated when it is made and committed with it, within seconds (a pledge import of the most rows
#: allowed, within a minute or two), so no transaction still open can date a row before then.
SETTLED_AFTER = timedelta(minutes=5)


def members_as_of(coalition, when, *, date_from=None, date_to=None, statuses=None):
    """Per member id, the counted total, confirmed and disbursed EUR of ``coalition`` as they stood at
    ``when``, from each pledge's last history row written by then (its status, amount and payments as
    recorded at that instant; none for a pledge recorded later or deleted by then), the same filters
    applied as summary_pledges applies now. One aggregate query over the history; once ``when`` is
    settled (SETTLED_AFTER) the answer cannot change, and is kept (reports.figures.settled), so the
    dashboard's miss after a write does not read the history again."""

    def compute():
        history = Pledge.history.model.objects
        # A row is the pledge's state at ``when`` if no later row of the same pledge was written by then
        # (an anti-join: PostgreSQL hashes it, four times faster than looking up each row's latest).
        later = history.filter(id=OuterRef("id"), history_date__lte=when).filter(
            Q(history_date__gt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__gt=OuterRef("history_id"))
        )
        rows = history.filter(
            ~Exists(later),
            coalition=coalition,
            history_date__lte=when,
            published_at__isnull=False,
            status__in=Pledge.COUNTED,
        ).exclude(history_type="-")
        by_member = narrowed(rows, date_from, date_to, statuses).values("member_id")
        return {row["member_id"]: row for row in by_member.annotate(**_member_aggregates()).order_by()}

    if when > timezone.now() - SETTLED_AFTER:
        return compute()
    parts = ("members_as_of", when.astimezone(UTC).isoformat(), date_from, date_to, sorted(statuses or ()))
    return figures.settled(coalition, parts, compute)


def headline(summary, members, coverage_rows, *, meeting=None):
    """The headline figures from the summary, the member table (its "since" figures add up to the
    coalition's) and the priority coverage (unfunded: what no confirmed pledge covers)."""
    since = None
    if meeting is not None:
        changes = [m.since for m in members if m.since is not None]
        since = SinceMeeting(
            pledged_eur=sum((c.pledged_eur for c in changes), ZERO),
            confirmed_eur=sum((c.confirmed_eur for c in changes), ZERO),
            disbursed_eur=sum((c.disbursed_eur for c in changes), ZERO),
        )
    uncovered = [row for row in coverage_rows if row.unfunded_eur > 0]
    return Headline(
        target_eur=summary.target_eur,
        confirmed_eur=summary.confirmed_eur,
        announced_eur=summary.announced_eur,
        disbursed_eur=summary.disbursed_eur,
        unfunded_eur=summary.gap_eur,
        progress=summary.progress,
        disbursed_share=coverage(summary.disbursed_eur, summary.confirmed_eur),
        priorities_unfunded_eur=sum((row.unfunded_eur for row in uncovered), ZERO),
        priorities_uncovered=len(uncovered),
        meeting_date=since_meeting_date(meeting),
        meeting_title=meeting.title if meeting is not None else "",
        since=since,
    )


def breakdowns(coalition, *, date_from=None, date_to=None, statuses=None):
    """Counted pledges by kind and by channel, every kind and channel listed, zero included:
    ``{"kind": [BreakdownRow], "channel": [BreakdownRow]}``. One query grouped by both, over the totals
    tables unless a period is asked for, which they do not keep: then over the pledges of the period."""
    if date_from or date_to:
        return scanned_breakdowns(coalition, date_from=date_from, date_to=date_to, statuses=statuses)
    return totals_breakdowns(coalition, statuses=statuses)


def _breakdown_sums(count):
    """The sums by kind and channel, over pledges or totals rows narrowed to the counted statuses."""
    return {
        "count": count,
        "total": euro_sum("amount_eur"),
        "confirmed": euro_sum("amount_eur", Q(status__in=Pledge.CONFIRMED_STATUSES)),
        "announced": euro_sum("amount_eur", Q(status=S.ANNOUNCED)),
        "disbursed": euro_sum("disbursed_eur"),
    }


def totals_breakdowns(coalition, *, statuses=None):
    """breakdowns from the totals tables (a few rows per member, whatever the pledge count)."""
    totals = _counted_totals(coalition, statuses)
    return _breakdown_rows(totals.values("kind", "channel").annotate(**_breakdown_sums(Sum("count"))).order_by())


def scanned_breakdowns(coalition, **filters):
    """breakdowns summed from the pledges: what a period filter needs, and the totals' reference."""
    pledges = summary_pledges(coalition, **filters).filter(status__in=Pledge.COUNTED)
    return _breakdown_rows(pledges.values("kind", "channel").annotate(**_breakdown_sums(Count("pk"))).order_by())


def _breakdown_rows(grouped):
    """The BreakdownRows by kind and by channel from rows grouped by both."""
    rows = list(grouped)
    grand_total = sum((row["total"] for row in rows), ZERO)

    def by(key, choices):
        result = []
        for value, label in choices:
            mine = [row for row in rows if row[key] == value]
            total = sum((row["total"] for row in mine), ZERO)
            result.append(
                BreakdownRow(
                    value=value,
                    label=str(label),
                    count=sum(row["count"] for row in mine),
                    total_eur=total,
                    confirmed_eur=sum((row["confirmed"] for row in mine), ZERO),
                    announced_eur=sum((row["announced"] for row in mine), ZERO),
                    disbursed_eur=sum((row["disbursed"] for row in mine), ZERO),
                    share=coverage(total, grand_total),
                )
            )
        return result

    return {"kind": by("kind", Pledge.Kind.choices), "channel": by("channel", Pledge.Channel.choices)}


def priority_coverage(coalition):
    """Each active priority's cost split into confirmed cover, announced-only cover and unfunded
    (one grouped query over the allocations): announced money is shown apart, never as confirmed."""
    confirmed = euro_sum("allocations__amount_eur", Q(allocations__pledge__status__in=Pledge.CONFIRMED_STATUSES))
    queryset = (
        with_coverage(
            PriorityPurchase.objects.filter(coalition=coalition).exclude(status=PriorityPurchase.Status.DROPPED)
        )
        .annotate(confirmed_eur=confirmed)
        .order_by("rank", "pk")
    )
    result = []
    for p in queryset:
        announced = p.allocated_eur - p.confirmed_eur
        result.append(
            CoverageRow(
                id=p.pk,
                rank=p.rank,
                title=p.title,
                status=p.status,
                estimated_cost_eur=p.estimated_cost_eur,
                confirmed_eur=p.confirmed_eur,
                announced_eur=announced,
                confirmed_coverage=coverage(p.confirmed_eur, p.estimated_cost_eur),
                announced_coverage=coverage(announced, p.estimated_cost_eur),
                unfunded_eur=max(p.estimated_cost_eur - p.confirmed_eur, ZERO),
            )
        )
    return result


def data_as_of(coalition):
    """When the coalition's figures last changed: the newest change to a published pledge, to one of
    their disbursements or allocations, or to a priority (one query of four scalar subqueries; None
    before the first). A deleted record leaves no date behind."""
    pledges = Pledge.objects.published().filter(coalition=coalition)

    def newest(queryset):
        return Subquery(queryset.order_by("-updated_at").values("updated_at")[:1])

    row = (
        Coalition.objects.filter(pk=coalition.pk)
        .annotate(
            pledge=newest(pledges),
            disbursement=newest(Disbursement.objects.filter(pledge__in=pledges.values("pk"))),
            allocation=newest(Allocation.objects.filter(pledge__in=pledges.values("pk"))),
            priority=newest(PriorityPurchase.objects.filter(coalition=coalition)),
        )
        .values("pledge", "disbursement", "allocation", "priority")
        .first()
    )
    return max((value for value in (row or {}).values() if value), default=None)


def deliveries_by_status():
    """``{status: count}`` of every report delivery in the ledger, every status present (0 if none)."""
    counts = dict(Delivery.objects.order_by().values_list("status").annotate(count=Count("id")))
    return {status: counts.get(status, 0) for status in Delivery.Status.values}
