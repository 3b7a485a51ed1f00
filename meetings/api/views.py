"""Meetings and action items over the API: read by every role of the coalition (without
delegates' names and draft minutes for partners), written by its secretariat through meetings.services."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from coalition.api import schema
from coalition.api.serializers import VersionSerializer
from coalition.api.viewsets import APIViewSet, CreateMixin, DestroyMixin, UpdateMixin
from meetings import selectors, services
from meetings.api.serializers import (
    ActionItemSerializer,
    ActionItemUpdateSerializer,
    AgendaItemAddSerializer,
    AttendanceSetSerializer,
    MeetingSerializer,
    MeetingUpdateSerializer,
)
from meetings.filtersets import ActionItemFilterSet, MeetingFilterSet
from meetings.models import ActionItem, Attendance, Meeting


@schema.crud_schema(
    "meeting",
    MeetingSerializer,
    MeetingUpdateSerializer,
    description="Attendance (delegates' names only for the coalition's own roles, never partners), agenda, "
    "and the minutes once approved.",
    create_doc="The secretariat plans a meeting; it is marked held or cancelled with the actions.",
    delete_doc="Only a meeting that was not held (held meetings are the record).",
)
class MeetingViewSet(CreateMixin, UpdateMixin, DestroyMixin, APIViewSet):
    """Meetings with attendance and agenda; delegates' names and draft minutes stay internal."""

    serializer_class = MeetingSerializer
    update_serializer_class = MeetingUpdateSerializer
    action_serializers = {
        "mark_held": VersionSerializer,
        "cancel": VersionSerializer,
        "attendance": AttendanceSetSerializer,
        "agenda_items": AgendaItemAddSerializer,
    }
    filterset_class = MeetingFilterSet
    write_scope = "manage"

    def get_queryset(self):
        return (
            selectors.meeting_list(self.request.user)
            .prefetch_related(
                Prefetch("attendances", queryset=Attendance.objects.select_related("member")), "agenda_items"
            )
            .order_by("-starts_at", "-id")
        )

    def perform_create(self, data):
        return services.meeting_create(acting_user=self.request.user, **data)

    def perform_update(self, meeting, data, *, version):
        return services.meeting_update(acting_user=self.request.user, meeting=meeting, version=version, **data)

    def perform_destroy(self, meeting, *, version):
        services.meeting_delete(acting_user=self.request.user, meeting=meeting, version=version)

    @extend_schema(
        summary="Mark a meeting held",
        description="After it started; the meeting summary email goes out.",
        request=VersionSerializer,
        responses=schema.write_responses(MeetingSerializer),
    )
    @action(detail=True, methods=["post"], url_path="mark-held")
    def mark_held(self, request, pk=None):
        meeting = self.get_object()
        data = self.validated(require_version=True)
        meeting = services.meeting_mark_held(acting_user=request.user, meeting=meeting, version=data["version"])
        return self.represent_response(meeting)

    @extend_schema(
        summary="Cancel a planned meeting",
        request=VersionSerializer,
        responses=schema.write_responses(MeetingSerializer),
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        meeting = self.get_object()
        data = self.validated(require_version=True)
        meeting = services.meeting_cancel(acting_user=request.user, meeting=meeting, version=data["version"])
        return self.represent_response(meeting)

    @extend_schema(
        summary="Invite a member, or record whether it came",
        request=AttendanceSetSerializer,
        responses=schema.write_responses(MeetingSerializer, conflict=False),
    )
    @action(detail=True, methods=["post"])
    def attendance(self, request, pk=None):
        meeting = self.get_object()
        data = self.validated()
        services.attendance_set(acting_user=request.user, meeting=meeting, **data)
        return self.represent_response(meeting)

    @extend_schema(
        summary="Add an agenda item",
        request=AgendaItemAddSerializer,
        responses=schema.write_responses(MeetingSerializer, conflict=False),
    )
    @action(detail=True, methods=["post"], url_path="agenda-items")
    def agenda_items(self, request, pk=None):
        meeting = self.get_object()
        data = self.validated()
        services.agenda_item_add(acting_user=request.user, meeting=meeting, **data)
        return self.represent_response(meeting)


@schema.crud_schema(
    "action item",
    ActionItemSerializer,
    ActionItemUpdateSerializer,
    description="Next steps agreed at meetings, owned by members; open ones follow to the next meeting.",
    create_doc="A new action item is open; close it (done or dropped) with PUT or PATCH.",
)
class ActionItemViewSet(CreateMixin, UpdateMixin, DestroyMixin, APIViewSet):
    """Next steps agreed at meetings, owned by members."""

    fingerprint_models = (ActionItem, Meeting)

    serializer_class = ActionItemSerializer
    update_serializer_class = ActionItemUpdateSerializer
    filterset_class = ActionItemFilterSet
    write_scope = "manage"

    def get_queryset(self):
        return selectors.action_item_list(self.request.user).order_by("due_on", "id")

    def perform_create(self, data):
        return services.action_item_add(acting_user=self.request.user, **data)

    def perform_update(self, item, data, *, version):
        return services.action_item_update(acting_user=self.request.user, action_item=item, version=version, **data)

    def perform_destroy(self, item, *, version):
        services.action_item_delete(acting_user=self.request.user, action_item=item, version=version)
