"""Serializers of meetings, decisions and action items. Delegates' names and draft minutes are
internal: partners get the attendance without delegates and no minutes until they are approved."""

from rest_framework import serializers

from coalition import permissions
from coalition.api.serializers import (
    APISerializer,
    EditableFieldsMixin,
    ReadNullableCharField,
    UTCDateTimeField,
    VisibleRecordField,
    coalition_field,
    iso_date,
    iso_datetime,
    member_field,
    version_field,
)
from meetings.models import ActionItem, Attendance, Meeting

COALITION_COLUMNS = (("coalition_slug", "coalition.slug"), ("coalition_name", "coalition.name"))
MEETING_COLUMNS = (("meeting_id", "meeting.pk"), ("meeting_title", "meeting.title"))
COALITION_OF_MEETING = (
    ("coalition_slug", "meeting.coalition.slug"),
    ("coalition_name", "meeting.coalition.name"),
)


def meeting_field(**kwargs):
    return VisibleRecordField(
        queryset=Meeting.objects.all(),
        **kwargs,
    )


class AttendanceSerializer(serializers.Serializer):
    member = serializers.CharField(help_text="The member's code.")
    member_name = serializers.CharField()
    role = serializers.ChoiceField(choices=Attendance.Role.choices)
    status = serializers.ChoiceField(choices=Attendance.Status.choices)
    delegates = serializers.CharField(
        required=False, help_text="Names and titles, one a line. Personal data: left out for partners."
    )


class AgendaItemSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    title = serializers.CharField()
    notes = serializers.CharField()
    outcome = serializers.CharField()


class MeetingSerializer(APISerializer):
    """A meeting of a coalition with its attendance and agenda."""

    id = serializers.IntegerField(read_only=True)
    coalition = coalition_field()
    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Meeting.Kind.choices, required=False)
    starts_at = UTCDateTimeField(help_text="ISO 8601; without an offset, UTC.")
    ends_at = UTCDateTimeField(required=False, allow_null=True, help_text="ISO 8601; without an offset, UTC.")
    location = serializers.CharField(max_length=200, required=False, allow_blank=True)
    online = serializers.BooleanField(required=False)
    status = serializers.ChoiceField(
        choices=Meeting.Status.choices, read_only=True, help_text="Changes through .../mark-held/ and .../cancel/."
    )
    minutes = ReadNullableCharField(
        required=False, allow_blank=True, help_text="null while draft minutes are kept internal."
    )
    minutes_status = serializers.ChoiceField(choices=Meeting.MinutesStatus.choices, read_only=True)
    held_at = UTCDateTimeField(read_only=True, allow_null=True)
    attendance = AttendanceSerializer(many=True, read_only=True)
    agenda = AgendaItemSerializer(many=True, read_only=True)
    created_at = UTCDateTimeField(read_only=True)
    updated_at = UTCDateTimeField(read_only=True)
    version = serializers.IntegerField(read_only=True)

    class Meta:
        csv_expand = {"coalition": COALITION_COLUMNS}

    def to_representation(self, m):
        user = self.context["request"].user
        delegates = permissions.can_see_delegates(user, m.coalition_id)
        attendance = []
        for a in m.attendances.all():
            row = {"member": a.member.code, "member_name": a.member.name, "role": a.role, "status": a.status}
            if delegates:
                row["delegates"] = a.delegates
            attendance.append(row)
        return {
            "id": m.pk,
            "coalition": m.coalition.slug,
            "title": m.title,
            "kind": m.kind,
            "starts_at": iso_datetime(m.starts_at),
            "ends_at": iso_datetime(m.ends_at),
            "location": m.location,
            "online": m.online,
            "status": m.status,
            "minutes": m.minutes if permissions.can_see_minutes(user, m) else None,
            "minutes_status": m.minutes_status,
            "held_at": iso_datetime(m.held_at),
            "attendance": attendance,
            "agenda": [
                {"order": i.order, "title": i.title, "notes": i.notes, "outcome": i.outcome}
                for i in m.agenda_items.all()
            ],
            "created_at": iso_datetime(m.created_at),
            "updated_at": iso_datetime(m.updated_at),
            "version": m.version,
        }


class MeetingUpdateSerializer(EditableFieldsMixin, APISerializer):
    """A change to a meeting or its minutes."""

    version = version_field()

    class Meta:
        model = Meeting
        field_kwargs = {
            "starts_at": {"help_text": "ISO 8601; without an offset, UTC."},
            "ends_at": {"help_text": "ISO 8601; without an offset, UTC."},
            "minutes_status": {
                "help_text": "approved publishes the minutes (after the meeting is held); approved minutes are final."
            },
        }


class AttendanceSetSerializer(serializers.Serializer):
    """A member's invitation to the meeting, or whether it came."""

    member = member_field()
    role = serializers.ChoiceField(choices=Attendance.Role.choices, default=Attendance.Role.PARTICIPANT)
    status = serializers.ChoiceField(choices=Attendance.Status.choices, default=Attendance.Status.INVITED)
    delegates = serializers.CharField(required=False, allow_blank=True, default="")


class AgendaItemAddSerializer(serializers.Serializer):
    """A new agenda item (at the end unless order is given)."""

    title = serializers.CharField(max_length=300)
    order = serializers.IntegerField(min_value=1, max_value=32767, required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    outcome = serializers.CharField(required=False, allow_blank=True, default="")


# --- Action items ----------------------------------------------------------------------------------


class ActionItemSerializer(APISerializer):
    """A next step agreed at a meeting, owned by a member."""

    id = serializers.IntegerField(read_only=True)
    meeting = meeting_field(help_text="Id of the meeting that agreed it.")
    coalition = serializers.CharField(read_only=True)
    text = serializers.CharField()
    owner = member_field(required=False, allow_null=True, help_text="Code of the member who owns it.")
    due_on = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=ActionItem.Status.choices, read_only=True)
    updated_at = UTCDateTimeField(read_only=True)
    version = serializers.IntegerField(read_only=True)

    class Meta:
        csv_expand = {
            "meeting": MEETING_COLUMNS,
            "coalition": COALITION_OF_MEETING,
            "owner": (("owner_code", "owner.code"), ("owner_name", "owner.name")),
        }

    def to_representation(self, item):
        return {
            "id": item.pk,
            "meeting": item.meeting_id,
            "coalition": item.meeting.coalition.slug,
            "text": item.text,
            "owner": item.owner.code if item.owner_id else None,
            "due_on": iso_date(item.due_on),
            "status": item.status,
            "updated_at": iso_datetime(item.updated_at),
            "version": item.version,
        }


class ActionItemUpdateSerializer(EditableFieldsMixin, APISerializer):
    """A change to an action item, or closing it (done or dropped)."""

    owner = member_field(required=False, allow_null=True, help_text="Code of the member who owns it.")
    version = version_field()

    class Meta:
        model = ActionItem
