"""Forms of the pledge pages. They parse input and offer only the choices the user's role allows;
the services make every decision again (a form is a convenience, not a guard)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from coalition import permissions
from coalition.models import Coalition, Member
from coalition.webforms import DateInput, editable_fields_form
from contributions import rules
from contributions.models import Allocation, Disbursement, Pledge, PriorityPurchase
from meetings.forms import MeetingChoiceField
from meetings.models import Meeting

S = Pledge.Status
RATE_HELP = _(
    "Only for currencies the ECB does not publish: leave empty and the ECB reference rate of the "
    "announcement date is used."
)


PledgeFields = editable_fields_form(
    Pledge,
    overrides={
        "description": {"widget": forms.Textarea(attrs={"rows": 3})},
        "amount": {"validators": [rules.validate_amount]},
        "currency": {"help_text": _("ISO 4217 code, such as EUR, USD or GBP.")},
        "announced_on": {"widget": DateInput()},
        "confirmed_on": {"widget": DateInput()},
        "confirmed_at_meeting": MeetingChoiceField(
            queryset=Meeting.objects.none(), required=False, label=_("Confirmed at meeting")
        ),
        "exchange_rate": {"required": False, "help_text": RATE_HELP, "validators": [rules.validate_rate]},
        "exchange_rate_source": {
            "required": False,
            "initial": "",
            "help_text": _("Where the rate comes from (with a rate)."),
        },
    },
)


class PledgeEditForm(PledgeFields):
    """The fields pledge_update may change (``Pledge.editable_fields``), and the version the user read."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, user, coalition_ids=None, **kwargs):
        super().__init__(*args, **kwargs)
        meetings = Meeting.objects.visible_to(user)
        if coalition_ids is not None:
            meetings = meetings.filter(coalition__in=coalition_ids)
        self.fields["confirmed_at_meeting"].queryset = meetings.order_by("-starts_at")

    def clean(self):
        data = super().clean()
        problem = rules.dates_problem(data.get("announced_on"), data.get("confirmed_on"))
        if problem:
            self.add_error("confirmed_on", problem)
        return data

    @classmethod
    def initial_for(cls, pledge):
        """The form's initial values for ``pledge``: an ECB rate is not shown as if the user typed it."""
        initial = {name: getattr(pledge, name) for name in cls.base_fields if hasattr(pledge, name)}
        initial["confirmed_at_meeting"] = pledge.confirmed_at_meeting_id
        if pledge.exchange_rate_source in ("ECB", "EUR"):
            initial["exchange_rate"] = None
            initial["exchange_rate_source"] = ""
        return initial

    def changes(self):
        """Keyword arguments for pledge_update: the explicit rate only when the user gave one."""
        data = dict(self.cleaned_data)
        data.pop("version", None)
        if data.get("exchange_rate") is None:
            data.pop("exchange_rate", None)
            data.pop("exchange_rate_source", None)
        return data


class PledgeCreateForm(PledgeEditForm):
    """A new pledge: coalition and member limited to what the role may record, and its first status."""

    coalition = forms.ModelChoiceField(queryset=None, label=_("Coalition"))
    member = forms.ModelChoiceField(queryset=None, label=_("Member"))
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[(s, label) for s, label in S.choices if s in (S.DRAFT, S.ANNOUNCED, S.CONFIRMED)],
        initial=S.DRAFT,
        help_text=_("Draft pledges are seen only by the secretariat and your member's editors."),
    )
    field_order = ["coalition", "member", "title", "status"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        del self.fields["version"]
        coalitions = Coalition.objects.in_coalitions_where(user, permissions.PLEDGE_WRITERS)
        self.fields["coalition"].queryset = coalitions
        only = list(coalitions[:2])
        if len(only) == 1:
            self.fields["coalition"].initial = only[0].pk
        self.fields["confirmed_at_meeting"].queryset = self.fields["confirmed_at_meeting"].queryset.filter(
            coalition__in=coalitions
        )
        members = permissions.pledge_members(user, Member.objects.all())
        self.fields["member"].queryset = members
        fixed = permissions.fixed_pledge_member_id(user)
        if fixed is not None:
            # An editor speaks for one member: shown, not editable (a disabled field ignores posted data).
            self.fields["member"].disabled = True
            self.fields["member"].initial = fixed
            self.fields["member"].help_text = _("You record pledges of your own member.")

    def changes(self):
        data = super().changes()
        if data.get("exchange_rate_source") is None:
            data["exchange_rate_source"] = ""
        return data


class TransitionForm(forms.Form):
    """announce, confirm (optionally on a date and at a meeting) or withdraw."""

    to = forms.ChoiceField(choices=[(s, s) for s in (S.ANNOUNCED, S.CONFIRMED, S.WITHDRAWN)])
    version = forms.IntegerField(required=False)
    on_date = forms.DateField(required=False, label=_("Confirmed on"), widget=DateInput())
    meeting = MeetingChoiceField(queryset=Meeting.objects.none(), required=False, label=_("At meeting"))

    def __init__(self, *args, pledge, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = Meeting.objects.filter(coalition_id=pledge.coalition_id).order_by(
            "-starts_at"
        )


DisbursementFields = editable_fields_form(
    Disbursement,
    overrides={
        "date": {"widget": DateInput()},
        "amount": {"validators": [rules.validate_amount]},
        "note": {"widget": forms.Textarea(attrs={"rows": 2})},
    },
)


class DisbursementForm(DisbursementFields):
    """A payment against the pledge: ``Disbursement.editable_fields``."""

    def __init__(self, *args, pledge=None, **kwargs):
        super().__init__(*args, **kwargs)
        if pledge is not None:
            self.fields["amount"].help_text = _("In %(currency)s, the pledge's currency.") % {
                "currency": pledge.currency
            }


class PriorityChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, priority):
        return f"#{priority.rank} {priority.title}"


class AllocationForm(
    editable_fields_form(Allocation, overrides={"amount_eur": {"validators": [rules.validate_amount]}})
):
    """Part of the pledge for a priority: the priority, and ``Allocation.editable_fields``."""

    priority = PriorityChoiceField(queryset=PriorityPurchase.objects.none(), label=_("Priority purchase"))
    field_order = ["priority", *Allocation.editable_fields]

    def __init__(self, *args, pledge, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["priority"].queryset = PriorityPurchase.objects.filter(
            coalition_id=pledge.coalition_id, status__in=PriorityPurchase.ACTIVE
        ).order_by("rank")
        self.fields["amount_eur"].help_text = _(
            "Setting an amount for a priority already allocated replaces that allocation."
        )


class PledgeImportForm(forms.Form):
    """The coalition the pledges belong to and the CSV or XLSX file that lists them."""

    coalition = forms.ModelChoiceField(queryset=None, label=_("Coalition"))
    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        help_text=_(
            "First line: the column names member, title, amount, currency, announced_on (required) and "
            "status, confirmed_on, kind, channel, external_ref, description, source, exchange_rate, "
            "exchange_rate_source (optional), in any order. Rows with an external_ref the coalition "
            "already has update that pledge."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        coalitions = Coalition.objects.in_coalitions_where(user, permissions.PLEDGE_WRITERS)
        self.fields["coalition"].queryset = coalitions
        only = list(coalitions[:2])
        if len(only) == 1:
            self.fields["coalition"].initial = only[0].pk
