"""The secretariat's meeting forms: plan and edit a meeting, attendance, agenda, action items (a decision's
form, which names pledges and priorities, is contributions' decision_forms)."""

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from coalition.models import Coalition, Member
from coalition.webforms import DATETIME_INPUT_FORMATS, DateInput, DateTimeInput, editable_fields_form
from meetings.models import ActionItem, Attendance, Meeting


def _datetime_field(label, required=True):
    return forms.DateTimeField(
        label=label, required=required, widget=DateTimeInput(), input_formats=DATETIME_INPUT_FORMATS
    )


def coalition_members(coalition_id):
    """The members seated in the coalition (the choices of attendance and action item owners)."""
    return Member.objects.filter(memberships__coalition_id=coalition_id).order_by("name")


MEETING_OVERRIDES = {
    "starts_at": _datetime_field(_("Starts at")),
    "ends_at": _datetime_field(_("Ends at"), required=False),
    "minutes": {"widget": forms.Textarea(attrs={"rows": 8})},
}


def meeting_label(meeting):
    """A meeting as a choice reads it: its title and day, in the reader's date format."""
    return f"{meeting.title} ({formats.date_format(timezone.localtime(meeting.starts_at), 'DATE_FORMAT')})"


class MeetingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, meeting):
        return meeting_label(meeting)


class MeetingFieldsMixin(
    editable_fields_form(Meeting, overrides=MEETING_OVERRIDES, exclude=("minutes", "minutes_status"))
):
    """A meeting's details (``Meeting.editable_fields`` but its minutes)."""

    def clean(self):
        cleaned = super().clean()
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at < starts_at:
            self.add_error("ends_at", _("A meeting cannot end before it starts."))
        return cleaned


class MeetingCreateForm(MeetingFieldsMixin):
    coalition = forms.ModelChoiceField(label=_("Coalition"), queryset=None)
    field_order = ["coalition", "title", "kind", "starts_at", "ends_at", "location", "online"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        coalitions = Coalition.objects.editable_by(user)
        self.fields["coalition"].queryset = coalitions
        if len(coalitions) == 1:
            self.fields["coalition"].initial = coalitions[0].pk


class MeetingEditForm(MeetingFieldsMixin, editable_fields_form(Meeting, overrides=MEETING_OVERRIDES)):
    """Every field meeting_update changes (``Meeting.editable_fields``), and the version read."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    @classmethod
    def initial_for(cls, meeting):
        initial = {name: getattr(meeting, name) for name in Meeting.editable_fields}
        for name in ("starts_at", "ends_at"):
            if initial[name] is not None:
                initial[name] = timezone.localtime(initial[name])
        initial["version"] = meeting.version
        return initial


class VersionForm(forms.Form):
    """Mark held, cancel: the version the user read, so a stale click is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class AttendanceForm(forms.Form):
    member = forms.ModelChoiceField(label=_("Member"), queryset=Member.objects.none())
    role = forms.ChoiceField(label=_("Role"), choices=Attendance.Role.choices, initial=Attendance.Role.PARTICIPANT)
    status = forms.ChoiceField(label=_("Attendance"), choices=Attendance.Status.choices)
    delegates = forms.CharField(
        label=_("Delegates"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Names and titles, one a line. Personal data: shown only inside the coalition."),
    )

    def __init__(self, *args, meeting, user=None, **kwargs):
        super().__init__(*args, prefix="attendance", **kwargs)
        self.fields["member"].queryset = coalition_members(meeting.coalition_id)


class AgendaItemForm(forms.Form):
    title = forms.CharField(label=_("Agenda item"), max_length=300)
    order = forms.IntegerField(
        label=_("Number"), min_value=1, required=False, help_text=_("Leave empty to add it at the end.")
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    outcome = forms.CharField(label=_("Outcome"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, meeting=None, user=None, **kwargs):
        super().__init__(*args, prefix="agenda", **kwargs)


class ActionItemForm(forms.Form):
    text = forms.CharField(label=_("Action item"), widget=forms.Textarea(attrs={"rows": 2}))
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=Member.objects.none(), required=False)
    due_on = forms.DateField(label=_("Due on"), required=False, widget=DateInput())

    def __init__(self, *args, meeting, user=None, **kwargs):
        super().__init__(*args, prefix="action", **kwargs)
        self.fields["owner"].queryset = coalition_members(meeting.coalition_id)


class ActionItemStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ActionItem.Status.choices)
    version = forms.IntegerField(widget=forms.HiddenInput)
