"""The form that records a meeting's decision with the pledges and priorities it concerns."""

from django import forms
from django.utils.translation import gettext_lazy as _

from coalition.webforms import RecordsChoiceField
from contributions.models import Pledge, PriorityPurchase
from meetings.models import Decision


class PledgeChoiceField(RecordsChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.member.code}: {obj.title}"


class PriorityChoiceField(RecordsChoiceField):
    def label_from_instance(self, obj):
        return f"#{obj.rank} {obj.title}"


class DecisionForm(forms.Form):
    text = forms.CharField(label=_("Decision"), widget=forms.Textarea(attrs={"rows": 4}))
    kind = forms.ChoiceField(label=_("Kind"), choices=Decision.Kind.choices, initial=Decision.Kind.OTHER)
    pledges = PledgeChoiceField(
        label=_("Pledges it concerns"),
        queryset=Pledge.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    priorities = PriorityChoiceField(
        label=_("Priorities it concerns"),
        queryset=PriorityPurchase.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, meeting, user, **kwargs):
        super().__init__(*args, **kwargs)
        coalition_id = meeting.coalition_id
        self.fields["pledges"].queryset = (
            Pledge.objects.visible_to(user)
            .published()
            .filter(coalition_id=coalition_id)
            .select_related("member")
            .order_by("member__code", "title")
        )
        self.fields["priorities"].queryset = PriorityPurchase.objects.filter(coalition_id=coalition_id).order_by(
            "rank", "pk"
        )
