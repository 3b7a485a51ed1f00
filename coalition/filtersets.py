"""Filters shared by the HTML lists and the API viewsets, so UI filters and API parameters never drift."""

from datetime import UTC

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, Subquery
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

from coalition.models import Coalition, Member


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, in UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO allows
    (+18:25), and a date at the edge of the calendar may not exist in UTC at all (a 400, not a 500)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError(_("Enter a date-time between the years 1 and 9999."), code="invalid") from exc


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField


class DateFilter(django_filters.DateFilter):
    """A date filter whose HTML input is the browser's date picker; the value is ISO (2024-02-02)
    in the page and in the API alike."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 2**63 - 1})
class IdFilter(django_filters.NumberFilter):
    """A record's id: a whole number from 1 to the largest bigint (a larger one names no record and
    must not reach the database)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class UpdatedSinceMixin(django_filters.FilterSet):
    """``updated_since`` (ISO datetime): what changed since a partner's last pull."""

    updated_since = UTCIsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label=_("Updated since"),
        help_text=_("Updated since (ISO 8601 date-time)"),
    )


def sort_filter(*orders):
    """The ``ordering`` filter, its choices in plain words: each order is (model field, parameter,
    label ascending, label descending), e.g. ("amount_eur", "amount_eur", _("Amount (EUR), smallest
    first"), _("Amount (EUR), largest first")). The parameter values stay the API's (amount_eur,
    -amount_eur); django-filter's own labels would read "Amount eur" and "Amount eur (descending)"."""
    labels = {}
    for field, param, ascending, descending in orders:
        labels[field], labels[f"-{param}"] = ascending, descending
    return django_filters.OrderingFilter(
        fields=[(field, param) for field, param, _asc, _desc in orders],
        field_labels=labels,
        label=_("Sort by"),
        empty_label=_("Default order"),
        help_text=_("Sort order: a field name, with a leading - for descending"),
    )


#: The order every list offers last: the order records were entered in.
BY_ID = ("id", "id", _("Recorded, oldest first"), _("Recorded, newest first"))


class CoalitionSlugFilter(django_filters.CharFilter):
    """``coalition=SLUG``, matched as ``<path>_id = (SELECT id ... WHERE slug = SLUG)``: the database
    resolves the slug once and walks the ``(coalition_id, ...)`` indexes, where a filter on the joined
    slug column could only read every visible row and join it. An unknown slug matches nothing."""

    def __init__(self, *args, path="coalition", **kwargs):
        kwargs.setdefault("label", _("Coalition"))
        kwargs.setdefault("help_text", _("Coalition (slug)"))
        super().__init__(*args, **kwargs)
        self.path = path

    def filter(self, qs, value):
        if value in ([], (), {}, "", None):
            return qs
        coalition_id = Subquery(Coalition.objects.filter(slug=value.strip()).values("pk")[:1])
        return qs.filter(**{f"{self.path}_id": coalition_id})


def search_filter(*fields):
    """A ``q`` filter matching any of ``fields`` (case-insensitive substring)."""

    def apply(queryset, name, value):
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": value.strip()})
        return queryset.filter(condition)

    return django_filters.CharFilter(method=apply, label=_("Search"))


class CoalitionFilterSet(django_filters.FilterSet):
    q = search_filter("name", "slug", "description")

    class Meta:
        model = Coalition
        fields = ["slug"]


class MemberFilterSet(django_filters.FilterSet):
    coalition = django_filters.CharFilter(
        field_name="memberships__coalition__slug", label=_("Coalition"), help_text=_("Coalition (slug)"), distinct=True
    )
    kind = django_filters.ChoiceFilter(choices=Member.Kind.choices, label=_("Kind"))
    q = search_filter("code", "name")
    ordering = django_filters.OrderingFilter(fields=(("code", "code"), ("name", "name")))

    class Meta:
        model = Member
        fields = ["code", "kind"]
