"""Forms of the secretariat for priority purchases: create, edit, move along procurement."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from coalition.models import Coalition
from coalition.webforms import DateInput, editable_fields_form
from contributions.models import PriorityPurchase
from meetings.forms import MeetingChoiceField
from meetings.models import Meeting

P = PriorityPurchase.Status


def _meetings(user, coalition_id=None):
    queryset = Meeting.objects.visible_to(user).exclude(status=Meeting.Status.CANCELLED)
    if coalition_id is not None:
        queryset = queryset.filter(coalition_id=coalition_id)
    return queryset.order_by("-starts_at")


#: ``PriorityPurchase.editable_fields``, the list priority_update accepts.
PriorityFieldsMixin = editable_fields_form(
    PriorityPurchase,
    overrides={
        "description": {"widget": forms.Textarea(attrs={"rows": 3})},
        "estimated_cost_eur": {"min_value": Decimal("0.01")},
        "target_date": {"widget": DateInput()},
        "approved_at_meeting": MeetingChoiceField(
            label=_("Approved at meeting"), queryset=Meeting.objects.none(), required=False
        ),
    },
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
        initial = {name: getattr(priority, name) for name in (*PriorityPurchase.editable_fields, "version")}
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
