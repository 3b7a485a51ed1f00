"""Filter sets for meetings, decisions and action items (HTML and API alike)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from coalition.filtersets import (
    BY_ID,
    CoalitionSlugFilter,
    DateFilter,
    IdFilter,
    UpdatedSinceMixin,
    UTCIsoDateTimeFilter,
    search_filter,
    sort_filter,
)
from meetings.models import ActionItem, Decision, Meeting


class MeetingFilterSet(UpdatedSinceMixin):
    coalition = CoalitionSlugFilter()
    kind = django_filters.ChoiceFilter(choices=Meeting.Kind.choices, label=_("Kind"))
    status = django_filters.MultipleChoiceFilter(choices=Meeting.Status.choices, label=_("Status"), distinct=False)
    starts_after = UTCIsoDateTimeFilter(
        field_name="starts_at",
        lookup_expr="gte",
        label=_("Starts on or after"),
        help_text=_("Starts at or after (ISO 8601 date-time)"),
    )
    starts_before = UTCIsoDateTimeFilter(
        field_name="starts_at",
        lookup_expr="lte",
        label=_("Starts on or before"),
        help_text=_("Starts at or before (ISO 8601 date-time)"),
    )
    q = search_filter("title", "location")
    ordering = sort_filter(
        ("starts_at", "starts_at", _("Date, earliest first"), _("Date, latest first")),
        ("title", "title", _("Title, A to Z"), _("Title, Z to A")),
        BY_ID,
    )

    class Meta:
        model = Meeting
        fields = []


class DecisionFilterSet(django_filters.FilterSet):
    coalition = CoalitionSlugFilter(path="meeting__coalition")
    meeting = IdFilter(field_name="meeting_id", label=_("Meeting"))
    kind = django_filters.ChoiceFilter(choices=Decision.Kind.choices, label=_("Kind"))
    q = search_filter("text")
    ordering = django_filters.OrderingFilter(fields=(("created_at", "created_at"), ("id", "id")))

    class Meta:
        model = Decision
        fields = []


class ActionItemFilterSet(UpdatedSinceMixin):
    coalition = CoalitionSlugFilter(path="meeting__coalition")
    meeting = IdFilter(field_name="meeting_id", label=_("Meeting"))
    owner = django_filters.CharFilter(
        field_name="owner__code", label=_("Owner (a member code such as EE)"), help_text=_("Owner (member code)")
    )
    status = django_filters.MultipleChoiceFilter(choices=ActionItem.Status.choices, label=_("Status"), distinct=False)
    due_before = DateFilter(field_name="due_on", lookup_expr="lte", label=_("Due on or before"))
    q = search_filter("text")
    ordering = django_filters.OrderingFilter(fields=(("due_on", "due_on"), ("id", "id")))

    class Meta:
        model = ActionItem
        fields = []
