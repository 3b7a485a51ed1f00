"""Reads of pledges, disbursements, priorities and allocations, with their joins chosen once."""

from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest

from coalition import permissions
from contributions.models import Allocation, Disbursement, ExchangeRate, Pledge, PriorityPurchase

ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=18, decimal_places=2))
#: Allocations count towards coverage only while their pledge counts (published, not withdrawn).
COUNTING_ALLOCATION = Q(pledge__status__in=Pledge.COUNTED)


def pledge_list(user):
    """The pledges ``user`` may see, ready for a list (coalition, member and meeting joined)."""
    return permissions.visible_pledges(user).select_related("coalition", "member", "confirmed_at_meeting")


def pledge_detail(user, pk):
    """One pledge the user may see, with its disbursements and allocations; 404 otherwise."""
    queryset = pledge_list(user).prefetch_related("disbursements", "allocations__priority", "decisions__meeting")
    return permissions.pledge_for_view(user, pk, queryset)


def pledge_history(pledge):
    """The pledge's history rows, newest first, with who made each change."""
    return pledge.history.select_related("history_user").order_by("-history_date", "-history_id")


def disbursement_list(user):
    """Disbursements of the pledges ``user`` may see."""
    return Disbursement.objects.filter(pledge__in=permissions.visible_pledges(user).values("pk")).select_related(
        "pledge__coalition", "pledge__member"
    )


def allocation_list(user):
    """Allocations of the pledges ``user`` may see."""
    return Allocation.objects.filter(pledge__in=permissions.visible_pledges(user).values("pk")).select_related(
        "pledge__coalition", "pledge__member", "priority"
    )


def _allocated_subquery():
    return Coalesce(
        Subquery(
            Allocation.objects.filter(COUNTING_ALLOCATION, priority=OuterRef("pk"))
            .values("priority")
            .annotate(total=Sum("amount_eur"))
            .values("total")[:1],
            output_field=DecimalField(max_digits=18, decimal_places=2),
        ),
        ZERO,
    )


def with_coverage(queryset):
    """Annotate priorities with ``allocated_eur`` and ``gap_eur`` (never below zero), one query."""
    return queryset.annotate(allocated_eur=_allocated_subquery()).annotate(
        gap_eur=Greatest(F("estimated_cost_eur") - F("allocated_eur"), ZERO)
    )


def priority_list(user):
    """Priority purchases of the user's coalitions, ranked, with coverage figures."""
    queryset = permissions.visible_by_coalition(user, PriorityPurchase.objects.all())
    return with_coverage(queryset.select_related("coalition", "approved_at_meeting")).order_by(
        "coalition__name", "rank", "pk"
    )


def coverage(allocated, estimated):
    """Share of ``estimated`` covered by ``allocated``, as a Decimal fraction (0.0000-1.0000+)."""
    if not estimated:
        return Decimal(0)
    return (Decimal(allocated) / Decimal(estimated)).quantize(Decimal("0.0001"))


def exchange_rate_list():
    """ECB reference rates (public data: every signed-in user may read them)."""
    return ExchangeRate.objects.all()
