"""The dashboard's filters: the announcement period and the statuses counted."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from coalition.webforms import DateInput
from contributions.models import Pledge

#: Drafts never reach the figures, so they are not offered.
STATUS_CHOICES = [(value, label) for value, label in Pledge.Status.choices if value != Pledge.Status.DRAFT]


class DashboardFilterForm(forms.Form):
    """``announced_after`` / ``announced_before`` / ``status``: the names the pledge list and API use."""

    announced_after = forms.DateField(label=_("Announced on or after"), required=False, widget=DateInput())
    announced_before = forms.DateField(label=_("Announced on or before"), required=False, widget=DateInput())
    status = forms.MultipleChoiceField(
        label=_("Status"), choices=STATUS_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )

    def clean(self):
        data = super().clean()
        after, before = data.get("announced_after"), data.get("announced_before")
        if after and before and after > before:
            raise ValidationError({"announced_before": _("The end of the period is before its start.")})
        return data

    def summary_filters(self):
        """Keyword arguments for reports.selectors.coalition_summary (none when the form is invalid)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "date_from": data.get("announced_after"),
            "date_to": data.get("announced_before"),
            "statuses": data.get("status") or None,
        }
