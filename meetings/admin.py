"""Admin for meetings and what hangs off them; every write goes through meetings.services."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from coalition.admin_services import (
    ReadOnlyAdminMixin,
    ServiceAdminMixin,
    ServiceForm,
    ServiceInline,
    VersionedServiceForm,
    changes,
)
from meetings import services
from meetings.models import ActionItem, AgendaItem, Attendance, Decision, Meeting


class AttendanceInline(ServiceInline):
    model = Attendance
    fields = ("member", "role", "status", "delegates")
    autocomplete_fields = ("member",)
    locked_on_change = ("member",)
    formfield_overrides = {
        Attendance._meta.get_field("delegates").__class__: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})}
    }

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member")

    def service_save(self, request, form, original, parent=None):
        data = form.cleaned_data
        return services.attendance_set(
            acting_user=request.user,
            meeting=parent,
            member=original.member if original else data["member"],
            role=data["role"],
            status=data["status"],
            delegates=data["delegates"],
        )


class _AddOnlyInline(ServiceInline):
    """Rows added through a service; existing ones are part of the record and shown as they are."""

    def locked_fields(self, instance):
        return self.fields if instance.pk is not None else ()


class AgendaItemForm(ServiceForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order"].required = False
        self.fields["order"].help_text = _("Empty: after the last item.")


class AgendaItemInline(_AddOnlyInline):
    model = AgendaItem
    form = AgendaItemForm
    fields = ("order", "title", "notes", "outcome")

    def service_save(self, request, form, original, parent=None):
        if original is not None:
            return None
        data = form.cleaned_data
        return services.agenda_item_add(
            acting_user=request.user,
            meeting=parent,
            title=data["title"],
            order=data["order"],
            notes=data["notes"],
            outcome=data["outcome"],
        )


class DecisionInline(_AddOnlyInline):
    model = Decision
    fields = Decision.editable_fields

    def service_save(self, request, form, original, parent=None):
        if original is not None:
            return None
        data = form.cleaned_data
        return services.decision_record(acting_user=request.user, meeting=parent, text=data["text"], kind=data["kind"])


class ActionItemInline(ServiceInline):
    model = ActionItem
    form = VersionedServiceForm
    fields = (*ActionItem.editable_fields, "loaded_version")
    autocomplete_fields = ("owner",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner")

    def service_save(self, request, form, original, parent=None):
        return _save_action_item(request, form, original, parent)

    def service_delete(self, request, obj):
        services.action_item_delete(
            acting_user=request.user, action_item=obj, version=getattr(obj, "_loaded_version", None)
        )


def _save_action_item(request, form, original, meeting):
    data = form.cleaned_data
    if original is None:
        item = services.action_item_add(
            acting_user=request.user, meeting=meeting, text=data["text"], owner=data["owner"], due_on=data["due_on"]
        )
        if data.get("status") and data["status"] != item.status:
            item = services.action_item_update(acting_user=request.user, action_item=item, status=data["status"])
        return item
    return services.action_item_update(
        acting_user=request.user,
        action_item=original,
        version=data["loaded_version"],
        **changes(form, ActionItem.editable_fields),
    )


@admin.register(Meeting)
class MeetingAdmin(ServiceAdminMixin, SimpleHistoryAdmin):
    list_display = ("title", "coalition", "kind", "starts_at", "location", "status", "minutes_status")
    list_filter = ("coalition", "kind", "status", "minutes_status", "online")
    search_fields = ("title", "location", "coalition__name")
    list_select_related = ("coalition",)
    date_hierarchy = "starts_at"
    inlines = (AttendanceInline, AgendaItemInline, DecisionInline, ActionItemInline)
    actions = ("mark_held", "cancel")
    editable = Meeting.editable_fields
    computed = ("status", "held_at", "held_by", "version", "created_at", "updated_at")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("coalition", "title", "kind", "starts_at", "ends_at", "location", "online", "minutes")
        return ("coalition", *self.editable, *self.computed, "loaded_version")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("coalition", *self.computed)

    def service_save(self, request, form, original, parent=None):
        data = form.cleaned_data
        if original is None:
            return services.meeting_create(
                acting_user=request.user,
                coalition=data["coalition"],
                title=data["title"],
                kind=data["kind"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                location=data["location"],
                online=data["online"],
                minutes=data["minutes"],
            )
        return services.meeting_update(
            acting_user=request.user,
            meeting=original,
            version=data["loaded_version"],
            **changes(form, Meeting.editable_fields),
        )

    def service_delete(self, request, obj):
        services.meeting_delete(acting_user=request.user, meeting=obj)

    @admin.action(description=_("Mark the selected meetings held"))
    def mark_held(self, request, queryset):
        self.run_service_action(
            request,
            queryset,
            lambda meeting: services.meeting_mark_held(acting_user=request.user, meeting=meeting),
            _("%(count)s meetings marked held."),
        )

    @admin.action(description=_("Cancel the selected meetings"))
    def cancel(self, request, queryset):
        self.run_service_action(
            request,
            queryset,
            lambda meeting: services.meeting_cancel(acting_user=request.user, meeting=meeting),
            _("%(count)s meetings cancelled."),
        )


@admin.register(ActionItem)
class ActionItemAdmin(ServiceAdminMixin, SimpleHistoryAdmin):
    list_display = ("text", "meeting", "owner", "due_on", "status")
    list_filter = ("status", "meeting__coalition", "owner")
    search_fields = ("text", "meeting__title", "owner__code", "owner__name")
    list_select_related = ("meeting", "owner")
    autocomplete_fields = ("meeting", "owner")
    date_hierarchy = "due_on"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("meeting", "text", "owner", "due_on", "status")
        return ("meeting", "text", "owner", "due_on", "status", "version", "updated_at", "loaded_version")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("meeting", "version", "updated_at")

    def service_save(self, request, form, original, parent=None):
        meeting = original.meeting if original else form.cleaned_data["meeting"]
        return _save_action_item(request, form, original, meeting)

    def service_delete(self, request, obj):
        services.action_item_delete(acting_user=request.user, action_item=obj)


class _MeetingPartAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """Attendance, agenda items and decisions are written on their meeting's page."""

    list_select_related = ("meeting", "meeting__coalition")

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)


@admin.register(Attendance)
class AttendanceAdmin(_MeetingPartAdmin):
    list_display = ("meeting", "member", "role", "status")
    list_filter = ("status", "role", "meeting__coalition")
    search_fields = ("meeting__title", "member__code", "member__name")
    list_select_related = ("meeting", "meeting__coalition", "member")


@admin.register(AgendaItem)
class AgendaItemAdmin(_MeetingPartAdmin):
    list_display = ("meeting", "order", "title")
    list_filter = ("meeting__coalition",)
    search_fields = ("title", "notes", "outcome", "meeting__title")


@admin.register(Decision)
class DecisionAdmin(_MeetingPartAdmin):
    list_display = ("__str__", "meeting", "kind", "created_at")
    list_filter = ("kind", "meeting__coalition")
    search_fields = ("text", "meeting__title")
