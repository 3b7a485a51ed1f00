"""Reads of pledges, disbursements, priorities and allocations, with their joins chosen once."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Greatest

from coalition import permissions
from coalition.selectors import ZERO_EUR, EuroField, euro_sum
from contributions.models import Allocation, Disbursement, ExchangeRate, Pledge, PriorityPurchase
from meetings.models import Decision


def pledge_list(user):
    """The pledges ``user`` may see, ready for a list (coalition, member and meeting joined)."""
    return Pledge.objects.visible_to(user).select_related("coalition", "member", "confirmed_at_meeting")


def pledge_detail(user, pk):
    """One pledge the user may see, with its disbursements, allocations and decisions; 404 otherwise."""
    queryset = Pledge.objects.select_related("coalition", "member", "confirmed_at_meeting").prefetch_related(
        Prefetch("disbursements", queryset=Disbursement.objects.visible_to(user)),
        Prefetch("allocations", queryset=Allocation.objects.visible_to(user).select_related("priority")),
        Prefetch("decisions", queryset=Decision.objects.visible_to(user).select_related("meeting")),
    )
    return permissions.get_visible(queryset, user, pk=pk)


def disbursement_list(user):
    """Disbursements of the pledges ``user`` may see."""
    return Disbursement.objects.visible_to(user).select_related("pledge__coalition", "pledge__member")


def allocation_list(user):
    """Allocations of the pledges ``user`` may see."""
    return Allocation.objects.visible_to(user).select_related("pledge__coalition", "pledge__member", "priority")


def with_coverage(queryset):
    """Annotate priorities with ``allocated_eur`` and ``gap_eur`` (never below zero), one query.
    Allocations count only while their pledge counts (published, not withdrawn).

    One grouped join over the allocations and their pledges, as a hand-written query would do: a
    correlated subquery per priority made PostgreSQL scan the pledges once per priority.
    """
    allocated = euro_sum("allocations__amount_eur", Q(allocations__pledge__status__in=Pledge.COUNTED))
    return queryset.annotate(allocated_eur=allocated).annotate(
        gap_eur=Greatest(F("estimated_cost_eur") - F("allocated_eur"), ZERO_EUR, output_field=EuroField())
    )


def priority_list(user):
    """Priority purchases of the user's coalitions, ranked, with coverage figures."""
    queryset = PriorityPurchase.objects.visible_to(user).select_related("coalition", "approved_at_meeting")
    return with_coverage(queryset).order_by("coalition__name", "rank", "pk")


def coverage(allocated, estimated):
    """Share of ``estimated`` covered by ``allocated``, as a Decimal fraction (0.0000-1.0000+)."""
    if not estimated:
        return Decimal(0)
    return (Decimal(allocated) / Decimal(estimated)).quantize(Decimal("0.0001"))


def exchange_rate_list(user):
    """ECB reference rates (public data: anyone with a seat reads them)."""
    return ExchangeRate.objects.visible_to(user)


@dataclass(frozen=True)
class RecentChange:
    """One row of a dashboard's "recent changes": a pledge or disbursement history row."""

    date: object
    user: object
    kind: str
    type: str
    pledge_id: int
    member_code: str
    title: str
    status: str
    amount: Decimal
    currency: str
    amount_eur: Decimal | None
    changed_fields: tuple


#: Bookkeeping columns a reader does not need listed as "changed".
_QUIET_FIELDS = {"version", "created_at", "updated_at", "status_changed_at", "status_changed_by"}


def _with_previous(history):
    """Annotate history rows with the id of the same record's previous published history row (a row
    from before publication is not compared against: its values stay private). ``history`` is the
    record's history manager (``Pledge.history``), which carries the visibility layer's methods."""
    return Subquery(
        history.published()
        .filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
        .order_by("-history_id")
        .values("history_id")[:1]
    )


def _changed(row, previous):
    if previous is None:
        return ()
    delta = row.diff_against(previous)
    model = row.instance_type
    return tuple(
        str(model._meta.get_field(name).verbose_name) for name in delta.changed_fields if name not in _QUIET_FIELDS
    )


def recent_changes(coalition, *, limit=10):
    """The latest public changes to the coalition's pledges and their disbursements, newest first, each
    naming the fields it changed (four queries whatever the history's length): rows from before a
    pledge was published are left out. Ordered by the indexed history date alone, so the database
    walks that index and stops after ``limit`` rows."""
    pledge_history = Pledge.history.model
    disbursement_history = Disbursement.history.model
    pledge_rows = list(
        Pledge.history.published()
        .filter(coalition=coalition)
        .select_related("history_user", "member")
        .annotate(previous_id=_with_previous(Pledge.history))
        .order_by("-history_date")[:limit]
    )
    disbursement_rows = list(
        Disbursement.history.published()
        .filter(pledge__coalition=coalition)
        .select_related("history_user", "pledge__member")
        .annotate(previous_id=_with_previous(Disbursement.history))
        .order_by("-history_date")[:limit]
    )
    previous = {
        **{("p", k): v for k, v in _in_bulk(pledge_history, pledge_rows).items()},
        **{("d", k): v for k, v in _in_bulk(disbursement_history, disbursement_rows).items()},
    }
    changes = [
        RecentChange(
            date=row.history_date,
            user=row.history_user,
            kind="pledge",
            type=row.history_type,
            pledge_id=row.id,
            member_code=row.member.code,
            title=row.title,
            status=row.status,
            amount=row.amount,
            currency=row.currency,
            amount_eur=row.amount_eur,
            changed_fields=_changed(row, previous.get(("p", row.previous_id))),
        )
        for row in pledge_rows
    ] + [
        RecentChange(
            date=row.history_date,
            user=row.history_user,
            kind="disbursement",
            type=row.history_type,
            pledge_id=row.pledge_id,
            member_code=row.pledge.member.code,
            title=row.pledge.title,
            status=row.pledge.status,
            amount=row.amount,
            currency=row.pledge.currency,
            amount_eur=None,
            changed_fields=_changed(row, previous.get(("d", row.previous_id))),
        )
        for row in disbursement_rows
    ]
    changes.sort(key=lambda change: change.date, reverse=True)
    return changes[:limit]


def _in_bulk(history_model, rows):
    ids = [row.previous_id for row in rows if row.previous_id]
    if not ids:
        return {}
    return history_model.objects.in_bulk(ids, field_name="history_id")
