"""Meetings in the browser: the list (upcoming and past), a meeting's page (printable as a meeting pack),
the secretariat's forms, and iCalendar downloads of a meeting and of a coalition's calendar."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coalition import confirm, permissions
from coalition.errors import ConflictError
from coalition.history import history_entries
from coalition.models import Coalition
from coalition.webforms import add_service_error
from meetings import ics, selectors, services
from meetings.filtersets import MeetingFilterSet
from meetings.forms import (
    ActionItemForm,
    ActionItemStatusForm,
    AgendaItemForm,
    AttendanceForm,
    MeetingCreateForm,
    MeetingEditForm,
    VersionForm,
)
from meetings.models import ActionItem, Attendance, Decision, Meeting

PAST_PAGE_SIZE = 25


@require_GET
def meeting_list(request):
    """Upcoming meetings first (soonest first), then past and cancelled ones (latest first), paged."""
    user = request.user
    permissions.ensure_can_use_portal(user)
    queryset = selectors.meeting_list(user).annotate(
        decision_count=Count("decisions", distinct=True),
        open_action_count=Count("action_items", filter=Q(action_items__status=ActionItem.Status.OPEN), distinct=True),
    )
    filterset = MeetingFilterSet(request.GET or None, queryset=queryset)
    now = timezone.now()
    upcoming_q = Q(status=Meeting.Status.PLANNED, starts_at__gte=now)
    upcoming = list(filterset.qs.filter(upcoming_q).order_by("starts_at", "pk"))
    past = filterset.qs.exclude(upcoming_q)
    if not past.ordered:  # no ordering asked, or one the filter set refused
        past = past.order_by("-starts_at", "-pk")
    page = Paginator(past, PAST_PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "meetings/meeting_list.html",
        {
            "filterset": filterset,
            "upcoming": upcoming,
            "page_obj": page,
            "past": page.object_list,
            "coalitions": list(Coalition.objects.visible_to(user).order_by("name")),
            "can_create": permissions.can_manage_any_coalition(user),
            "query": params.urlencode(),
        },
    )


def _meeting_queryset(user):
    """A meeting with everything its page shows, in a fixed number of queries."""
    # Pledges and priorities are contributions' records: read through their reverse relations, with
    # the visibility layer's rules, so this app imports nothing above it.
    visible_pledges = (
        permissions.visible_related(user, Meeting, "confirmed_pledges")
        .select_related("member")
        .order_by("member__code", "pk")
    )
    return (
        selectors.meeting_list(user)
        .select_related("held_by")
        .prefetch_related(
            Prefetch("attendances", queryset=Attendance.objects.select_related("member").order_by("member__name")),
            "agenda_items",
            Prefetch(
                "decisions",
                queryset=Decision.objects.prefetch_related(
                    Prefetch("pledges", queryset=visible_pledges), "priorities"
                ).order_by("pk"),
            ),
            Prefetch("action_items", queryset=ActionItem.objects.select_related("owner").order_by("due_on", "pk")),
            Prefetch("confirmed_pledges", queryset=visible_pledges, to_attr="visible_confirmed_pledges"),
            "approved_priorities",
        )
    )


def _get_meeting(user, pk):
    return permissions.get_visible(_meeting_queryset(user), user, pk=pk)


def _detail_context(request, meeting, **forms):
    user = request.user
    internal = permissions.can_read_internal(user, meeting.coalition_id)
    can_manage = permissions.can_manage(user, meeting.coalition_id)
    earlier_open = (
        ActionItem.objects.filter(
            meeting__coalition_id=meeting.coalition_id,
            meeting__starts_at__lt=meeting.starts_at,
            status=ActionItem.Status.OPEN,
        )
        .select_related("owner", "meeting")
        .order_by("due_on", "pk")
    )
    confirmed = meeting.visible_confirmed_pledges
    context = {
        "meeting": meeting,
        "attendances": meeting.attendances.all(),
        "present_count": sum(1 for a in meeting.attendances.all() if a.status == Attendance.Status.PRESENT),
        "show_delegates": permissions.can_see_delegates(user, meeting.coalition_id),
        "show_minutes": bool(meeting.minutes) and permissions.can_see_minutes(user, meeting),
        "earlier_open_items": list(earlier_open),
        "confirmed_pledges": confirmed,
        "confirmed_total_eur": sum((p.amount_eur for p in confirmed), 0),
        "can_manage": can_manage,
        "can_read_history": internal,
        "today": timezone.localdate(),
    }
    if internal:
        context["history"] = history_entries(meeting.history.visible_to(user), Meeting, known=[meeting.coalition])
    if can_manage:
        context.update(
            version_form=VersionForm(initial={"version": meeting.version}),
            attendance_form=forms.get("attendance_form") or AttendanceForm(meeting=meeting, user=user),
            agenda_form=forms.get("agenda_form") or AgendaItemForm(meeting=meeting, user=user),
            action_form=forms.get("action_form") or ActionItemForm(meeting=meeting, user=user),
            action_status_choices=ActionItem.Status.choices,
        )
    return context


@require_GET
def meeting_detail(request, pk):
    """Attendance, agenda, decisions (with their pledges and priorities), action items, earlier open
    items, the pledges confirmed there; the secretariat's forms beneath."""
    meeting = _get_meeting(request.user, pk)
    return render(request, "meetings/meeting_detail.html", _detail_context(request, meeting))


@require_http_methods(["GET", "POST"])
def meeting_create(request):
    user = request.user
    permissions.ensure(permissions.can_manage_any_coalition(user), _("Only the coalition's secretariat may do this."))
    form = MeetingCreateForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_create(acting_user=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("The meeting was planned."))
            return redirect("meetings:detail", pk=meeting.pk)
    return render(request, "meetings/meeting_form.html", {"form": form, "meeting": None})


@require_http_methods(["GET", "POST"])
def meeting_edit(request, pk):
    """Change a meeting or its minutes; a stale version is refused and the input kept."""
    user = request.user
    meeting = permissions.get_editable(Meeting.objects.select_related("coalition"), user, pk=pk)
    if request.method == "POST":
        form = MeetingEditForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            version = data.pop("version")
            try:
                services.meeting_update(acting_user=user, meeting=meeting, version=version, **data)
            except (ValidationError, ConflictError) as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("The meeting was saved."))
                return redirect("meetings:detail", pk=meeting.pk)
    else:
        form = MeetingEditForm(initial=MeetingEditForm.initial_for(meeting))
    return render(request, "meetings/meeting_form.html", {"form": form, "meeting": meeting})


def _run(request, action, success):
    """Call a service for a button; its refusal becomes a message on the meeting page."""
    try:
        action()
    except (ValidationError, ConflictError) as exc:
        messages.error(request, str(exc.message) if isinstance(exc, ConflictError) else " ".join(exc.messages))
        return False
    messages.success(request, success)
    return True


def _status_change(request, pk, service, success, confirmation=None):
    user = request.user
    meeting = permissions.get_editable(Meeting.objects.all(), user, pk=pk)
    # Only a planned meeting can change: for any other the service says why, with nothing to confirm.
    if confirmation and meeting.status == Meeting.Status.PLANNED and not confirm.confirmed(request):
        return confirm.confirmation_page(
            request,
            record=f"{meeting.title}, {formats.date_format(timezone.localtime(meeting.starts_at), 'DATETIME_FORMAT')}",
            back_url=reverse("meetings:detail", args=[meeting.pk]),
            **confirmation,
        )
    form = VersionForm(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else None
    if version is None:
        messages.error(request, _("The page was out of date: reload it and try again."))
    else:
        _run(request, lambda: service(acting_user=user, meeting=meeting, version=version), success)
    return redirect("meetings:detail", pk=meeting.pk)


@require_POST
def meeting_mark_held(request, pk):
    return _status_change(request, pk, services.meeting_mark_held, _("The meeting is marked held."))


@require_POST
def meeting_cancel(request, pk):
    return _status_change(
        request,
        pk,
        services.meeting_cancel,
        _("The meeting is cancelled."),
        confirmation={
            "title": _("Cancel this meeting?"),
            "question": _(
                "The meeting will be marked cancelled, for good: a cancelled meeting cannot be held or planned again."
            ),
            "consequences": [
                _("Members see it cancelled in the meeting list and in their calendars."),
                _("Its agenda, attendance and action items stay on record."),
            ],
            "button": _("Cancel the meeting"),
        },
    )


def _sub_form(request, pk, form_class, form_name, save, success, anchor):
    """POST of a form on the meeting page: save and go back, or show the page again with the errors."""
    user = request.user
    meeting = permissions.get_editable(_meeting_queryset(user), user, pk=pk)
    form = form_class(request.POST, meeting=meeting, user=user)
    if form.is_valid():
        try:
            with transaction.atomic():
                save(user, meeting, form.cleaned_data)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, success)
            return redirect(f"{meeting_url(meeting)}#{anchor}")
    context = _detail_context(request, meeting, **{form_name: form})
    return render(request, "meetings/meeting_detail.html", context, status=400)


def meeting_url(meeting):
    return reverse("meetings:detail", args=[meeting.pk])


@require_POST
def attendance_set(request, pk):
    def save(user, meeting, data):
        services.attendance_set(acting_user=user, meeting=meeting, **data)

    return _sub_form(request, pk, AttendanceForm, "attendance_form", save, _("Attendance recorded."), "attendance")


@require_POST
def agenda_item_add(request, pk):
    def save(user, meeting, data):
        services.agenda_item_add(acting_user=user, meeting=meeting, **data)

    return _sub_form(request, pk, AgendaItemForm, "agenda_form", save, _("Agenda item added."), "agenda")


@require_POST
def action_item_add(request, pk):
    def save(user, meeting, data):
        services.action_item_add(acting_user=user, meeting=meeting, **data)

    return _sub_form(request, pk, ActionItemForm, "action_form", save, _("Action item added."), "action-items")


@require_POST
def action_item_status(request, pk, item_pk):
    """Close an action item (done / dropped) or reopen it; back to the page it was changed from."""
    user = request.user
    item = permissions.get_editable(ActionItem.objects.select_related("meeting"), user, pk=item_pk)
    meeting = permissions.get_visible(Meeting.objects.all(), user, pk=pk)
    form = ActionItemStatusForm(request.POST)
    if form.is_valid() and form.cleaned_data["status"] == ActionItem.Status.DROPPED and not confirm.confirmed(request):
        return confirm.confirmation_page(
            request,
            title=_("Drop this action item?"),
            record=item.text,
            question=_("The action item will be closed as dropped: nobody is expected to do it any more."),
            consequences=[
                _("It leaves the open action items of the meeting pack and the dashboard; it can be reopened.")
            ],
            button=_("Drop the action item"),
            back_url=f"{meeting_url(meeting)}#action-items",
        )
    if form.is_valid():
        _run(
            request,
            lambda: services.action_item_update(
                acting_user=user,
                action_item=item,
                version=form.cleaned_data["version"],
                status=form.cleaned_data["status"],
            ),
            _("Action item updated."),
        )
    else:
        messages.error(request, _("The page was out of date: reload it and try again."))
    return redirect(f"{meeting_url(meeting)}#action-items")


def _ics_response(body, filename):
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.ics"'
    return response


@require_GET
def meeting_ics(request, pk):
    """One meeting as an iCalendar file."""
    meeting = permissions.get_visible(selectors.meeting_list(request.user), request.user, pk=pk)
    return _ics_response(ics.calendar([meeting], name=meeting.coalition.name), f"meeting-{meeting.pk}")


@require_GET
def calendar_ics(request, slug=None):
    """A coalition's meetings as an iCalendar file (``?coalition=slug``, or the user's only coalition)."""
    user = request.user
    permissions.ensure_can_use_portal(user)
    slug = slug or request.GET.get("coalition")
    coalitions = Coalition.objects.visible_to(user)
    if slug:
        coalition = coalitions.filter(slug=slug).first()
    else:
        candidates = list(coalitions[:2])
        coalition = candidates[0] if len(candidates) == 1 else None
    if coalition is None:
        raise Http404(_("No such coalition."))
    meetings = Meeting.objects.filter(coalition=coalition).select_related("coalition").order_by("starts_at", "pk")
    return _ics_response(ics.calendar(meetings, name=coalition.name), f"{coalition.slug}-meetings")
