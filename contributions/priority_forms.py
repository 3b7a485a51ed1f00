"""Forms of the secretariat for priority purchases: create, edit, move along procurement."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from coalition.models import Coalition
from coalition.webforms import DateInput
from contributions.models import PriorityPurchase
from meetings.models import Meeting

P = PriorityPurchase.Status


class MeetingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.title} ({obj.starts_at:%Y-%m-%d})"


def _meetings(user, coalition_id=None):
    queryset = Meeting.objects.visible_to(user).exclude(status=Meeting.Status.CANCELLED)
    if coalition_id is not None:
        queryset = queryset.filter(coalition_id=coalition_id)
    return queryset.order_by("-starts_at")


class PriorityFieldsMixin(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    category = forms.CharField(label=_("Category"), max_length=100, required=False)
    estimated_cost_eur = forms.DecimalField(
        label=_("Estimated cost (EUR)"), max_digits=18, decimal_places=2, min_value=Decimal("0.01")
    )
    target_date = forms.DateField(label=_("Target date"), required=False, widget=DateInput())
    approved_at_meeting = MeetingChoiceField(
        label=_("Approved at meeting"), queryset=Meeting.objects.none(), required=False
    )


class PriorityCreateForm(PriorityFieldsMixin):
    """A new priority purchase of one of the coalitions the user serves as secretariat."""

    coalition = forms.ModelChoiceField(label=_("Coalition"), queryset=None)
    rank = forms.IntegerField(
        label=_("Rank"), min_value=1, required=False, help_text=_("Leave empty to put it at the end of the list.")
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[(P.PROPOSED, P.PROPOSED.label), (P.APPROVED, P.APPROVED.label)]
    )

    field_order = [
        "coalition",
        "title",
        "description",
        "category",
        "estimated_cost_eur",
        "rank",
        "status",
        "approved_at_meeting",
        "target_date",
    ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        coalitions = Coalition.objects.editable_by(user)
        self.fields["coalition"].queryset = coalitions
        if len(coalitions) == 1:
            self.fields["coalition"].initial = coalitions[0].pk
        self.fields["approved_at_meeting"].queryset = _meetings(user).filter(coalition__in=coalitions)

    def clean(self):
        cleaned = super().clean()
        meeting, coalition = cleaned.get("approved_at_meeting"), cleaned.get("coalition")
        if meeting is not None and coalition is not None and meeting.coalition_id != coalition.pk:
            self.add_error("approved_at_meeting", _("That meeting belongs to another coalition."))
        return cleaned


class PriorityEditForm(PriorityFieldsMixin):
    """Change a priority's details; ``version`` is the one the user read (a stale save is refused)."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, user, priority, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approved_at_meeting"].queryset = _meetings(user, priority.coalition_id)

    @classmethod
    def initial_for(cls, priority):
        names = ("title", "description", "category", "estimated_cost_eur", "target_date", "version")
        initial = {name: getattr(priority, name) for name in names}
        initial["approved_at_meeting"] = priority.approved_at_meeting_id
        return initial


class PriorityTransitionForm(forms.Form):
    to_status = forms.ChoiceField(label=_("New status"), choices=P.choices)
    version = forms.IntegerField(widget=forms.HiddenInput)
    meeting = MeetingChoiceField(label=_("Approved at meeting"), queryset=Meeting.objects.none(), required=False)

    def __init__(self, *args, user, priority, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = _meetings(user, priority.coalition_id)


class PriorityMoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", _("Move up")), ("down", _("Move down"))])
