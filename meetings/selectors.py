"""Reads of meetings, their decisions and action items."""

from django.utils import timezone

from meetings.models import ActionItem, Decision, Meeting


def meeting_list(user):
    """Meetings of the user's coalitions."""
    return Meeting.objects.visible_to(user).select_related("coalition")


def decision_list(user):
    return Decision.objects.visible_to(user).select_related("meeting__coalition")


def action_item_list(user):
    return ActionItem.objects.visible_to(user).select_related("meeting__coalition", "owner")


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


def held_meetings(coalition):
    """The coalition's held meetings, oldest first (the dashboard's time chart marks them)."""
    return Meeting.objects.filter(coalition=coalition, status=Meeting.Status.HELD).order_by("starts_at", "pk")
