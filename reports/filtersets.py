"""Filters of the secretariat's delivery log."""

import django_filters
from django.utils.translation import gettext_lazy as _

from coalition.filtersets import search_filter
from coalition.models import Coalition
from reports.models import Delivery, Report


class DeliveryFilterSet(django_filters.FilterSet):
    coalition = django_filters.ModelChoiceFilter(queryset=Coalition.objects.none(), label=_("Coalition"))
    report = django_filters.ChoiceFilter(choices=Report.choices, label=_("Report"))
    status = django_filters.ChoiceFilter(choices=Delivery.Status.choices, label=_("Status"))
    period = django_filters.CharFilter(lookup_expr="icontains", label=_("Period"))
    q = search_filter("recipient", "last_error")

    class Meta:
        model = Delivery
        fields = ["coalition", "report", "status", "period"]

    def __init__(self, *args, coalitions=None, **kwargs):
        super().__init__(*args, **kwargs)
        if coalitions is not None:
            self.filters["coalition"].queryset = coalitions
            self.form.fields["coalition"].queryset = coalitions
