"""Reads of meetings, their decisions and action items."""

from django.db.models import Prefetch
from django.utils import timezone

from coalition import permissions
from meetings.models import ActionItem, Attendance, Decision, Meeting


def meeting_list(user):
    """Meetings of the user's coalitions."""
    return permissions.visible_by_coalition(user, Meeting.objects.all()).select_related("coalition")


def meeting_detail(user, pk):
    """One meeting with attendance, agenda, decisions and action items prefetched."""
    return (
        meeting_list(user)
        .prefetch_related(
            Prefetch("attendances", queryset=Attendance.objects.select_related("member")),
            "agenda_items",
            Prefetch("decisions", queryset=Decision.objects.prefetch_related("pledges__member", "priorities")),
            Prefetch("action_items", queryset=ActionItem.objects.select_related("owner")),
        )
        .get(pk=pk)
    )


def decision_list(user):
    return permissions.visible_by_coalition(user, Decision.objects.all(), "meeting__coalition").select_related(
        "meeting__coalition"
    )


def action_item_list(user):
    return permissions.visible_by_coalition(user, ActionItem.objects.all(), "meeting__coalition").select_related(
        "meeting__coalition", "owner"
    )


def last_and_next_meeting(coalition, now=None):
    """The coalition's last held meeting and its next planned one (either may be None)."""
    now = now or timezone.now()
    meetings = Meeting.objects.filter(coalition=coalition)
    last = meetings.filter(status=Meeting.Status.HELD).order_by("-starts_at").first()
    upcoming = meetings.filter(status=Meeting.Status.PLANNED, starts_at__gte=now).order_by("starts_at").first()
    return last, upcoming


def open_action_items(coalition):
    """Action items still open in the coalition, oldest due first (they follow to the next meeting)."""
    return (
        ActionItem.objects.filter(meeting__coalition=coalition, status=ActionItem.Status.OPEN)
        .select_related("owner", "meeting")
        .order_by("due_on", "pk")
    )
