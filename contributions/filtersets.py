"""Filter sets for pledges, disbursements, priorities, allocations and rates (HTML and API alike)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from coalition.filtersets import (
    BY_ID,
    CoalitionSlugFilter,
    DateFilter,
    IdFilter,
    UpdatedSinceMixin,
    search_filter,
    sort_filter,
)
from coalition.models import Member
from contributions.models import Allocation, Disbursement, ExchangeRate, Pledge, PriorityPurchase


class CodeListFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """``member=EE,LU`` or ``currency=EUR,USD``: one or more codes, comma-separated."""


class MemberCodesFilter(CodeListFilter):
    """``member=EE,LU`` matched as ``<path>_id IN (SELECT id ... WHERE code IN (...))``: the member
    index is walked rather than every row joined to its member."""

    def __init__(self, *args, path="member", **kwargs):
        kwargs.setdefault("label", _("Member codes (comma-separated)"))
        super().__init__(*args, **kwargs)
        self.path = path

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.path}_id__in": Member.objects.filter(code__in=list(value)).values("pk")})


class PledgeFilterSet(UpdatedSinceMixin):
    coalition = CoalitionSlugFilter()
    member = MemberCodesFilter(
        label=_("Members (codes such as EE, LU)"),
        help_text=_("Member codes (comma-separated)"),
    )
    status = django_filters.MultipleChoiceFilter(choices=Pledge.Status.choices, label=_("Status"), distinct=False)
    kind = django_filters.ChoiceFilter(choices=Pledge.Kind.choices, label=_("Kind"))
    channel = django_filters.ChoiceFilter(choices=Pledge.Channel.choices, label=_("Channel"))
    currency = CodeListFilter(
        field_name="currency",
        label=_("Currencies (codes such as EUR, USD)"),
        help_text=_("Currencies (comma-separated)"),
    )
    announced_after = DateFilter(field_name="announced_on", lookup_expr="gte", label=_("Announced on or after"))
    announced_before = DateFilter(field_name="announced_on", lookup_expr="lte", label=_("Announced on or before"))
    confirmed_after = DateFilter(field_name="confirmed_on", lookup_expr="gte", label=_("Confirmed on or after"))
    confirmed_before = DateFilter(field_name="confirmed_on", lookup_expr="lte", label=_("Confirmed on or before"))
    confirmed_at_meeting = IdFilter(field_name="confirmed_at_meeting_id", label=_("Meeting"))
    min_amount_eur = django_filters.NumberFilter(
        field_name="amount_eur", lookup_expr="gte", label=_("Amount in EUR, at least")
    )
    max_amount_eur = django_filters.NumberFilter(
        field_name="amount_eur", lookup_expr="lte", label=_("Amount in EUR, at most")
    )
    external_ref = django_filters.CharFilter(label=_("External reference"))
    q = search_filter("title", "description", "external_ref", "member__name", "member__code")
    ordering = sort_filter(
        ("announced_on", "announced_on", _("Announced, earliest first"), _("Announced, latest first")),
        ("confirmed_on", "confirmed_on", _("Confirmed, earliest first"), _("Confirmed, latest first")),
        ("amount_eur", "amount_eur", _("Amount (EUR), smallest first"), _("Amount (EUR), largest first")),
        ("amount", "amount", _("Amount in its currency, smallest first"), _("Amount in its currency, largest first")),
        ("member__code", "member", _("Member code, A to Z"), _("Member code, Z to A")),
        ("status", "status", _("Status, announced first"), _("Status, withdrawn first")),
        ("title", "title", _("Title, A to Z"), _("Title, Z to A")),
        ("updated_at", "updated_at", _("Last changed, earliest first"), _("Last changed, latest first")),
        BY_ID,
    )

    class Meta:
        model = Pledge
        fields = []


class DisbursementFilterSet(UpdatedSinceMixin):
    coalition = CoalitionSlugFilter(path="pledge__coalition")
    member = MemberCodesFilter(
        path="pledge__member",
        label=_("Members (codes such as EE, LU)"),
        help_text=_("Member codes (comma-separated)"),
    )
    pledge = IdFilter(field_name="pledge_id", label=_("Pledge"))
    date_after = DateFilter(field_name="date", lookup_expr="gte", label=_("Paid on or after"))
    date_before = DateFilter(field_name="date", lookup_expr="lte", label=_("Paid on or before"))
    q = search_filter("reference", "note", "pledge__title")
    ordering = django_filters.OrderingFilter(fields=(("date", "date"), ("amount", "amount"), ("id", "id")))

    class Meta:
        model = Disbursement
        fields = []


class PriorityFilterSet(UpdatedSinceMixin):
    coalition = CoalitionSlugFilter()
    status = django_filters.MultipleChoiceFilter(
        choices=PriorityPurchase.Status.choices, label=_("Status"), distinct=False
    )
    category = django_filters.CharFilter(lookup_expr="iexact", label=_("Category"))
    q = search_filter("title", "description", "category")
    ordering = sort_filter(
        ("rank", "rank", _("Rank, first to last"), _("Rank, last to first")),
        (
            "estimated_cost_eur",
            "estimated_cost_eur",
            _("Estimated cost (EUR), smallest first"),
            _("Estimated cost (EUR), largest first"),
        ),
        ("title", "title", _("Title, A to Z"), _("Title, Z to A")),
        BY_ID,
    )

    class Meta:
        model = PriorityPurchase
        fields = []


class AllocationFilterSet(UpdatedSinceMixin):
    coalition = CoalitionSlugFilter(path="pledge__coalition")
    pledge = IdFilter(field_name="pledge_id", label=_("Pledge"))
    priority = IdFilter(field_name="priority_id", label=_("Priority purchase"))
    member = MemberCodesFilter(
        path="pledge__member",
        label=_("Members (codes such as EE, LU)"),
        help_text=_("Member codes (comma-separated)"),
    )
    ordering = django_filters.OrderingFilter(fields=(("amount_eur", "amount_eur"), ("id", "id")))

    class Meta:
        model = Allocation
        fields = []


class ExchangeRateFilterSet(django_filters.FilterSet):
    currency = CodeListFilter(
        field_name="currency",
        label=_("Currencies (codes such as EUR, USD)"),
        help_text=_("Currencies (comma-separated)"),
    )
    date_after = DateFilter(field_name="date", lookup_expr="gte", label=_("On or after"))
    date_before = DateFilter(field_name="date", lookup_expr="lte", label=_("On or before"))
    ordering = django_filters.OrderingFilter(fields=(("date", "date"), ("currency", "currency")))

    class Meta:
        model = ExchangeRate
        fields = []
