"""Meeting services: planning, marking held or cancelled, minutes, attendance, agenda, decisions, action items."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from coalition.errors import ConflictError
from meetings import services
from meetings.models import ActionItem, AgendaItem, Attendance, Decision, Meeting
from meetings.signals import meeting_held
from tests import factories

M = Meeting.Status
pytestmark = pytest.mark.django_db


def _meeting(coalition, user=None, when=None, **extra):
    when = when or timezone.now() - timedelta(days=1)
    return services.meeting_create(
        acting_user=user, coalition=coalition, title="Steering group", starts_at=when, **extra
    )


@pytest.fixture
def past(coalition):
    return _meeting(coalition)


@pytest.fixture
def held(past, secretariat):
    return services.meeting_mark_held(acting_user=secretariat, meeting=past)


def test_a_new_meeting_is_planned_with_draft_minutes(coalition, secretariat):
    meeting = _meeting(coalition, secretariat, location="Tallinn", kind=Meeting.Kind.PLENARY)
    meeting.refresh_from_db()
    assert (meeting.status, meeting.minutes_status, meeting.version) == (M.PLANNED, "draft", 1)
    assert (meeting.location, meeting.kind) == ("Tallinn", "plenary")


def test_a_meeting_cannot_end_before_it_starts(coalition, secretariat):
    start = timezone.now()
    with pytest.raises(ValidationError):
        _meeting(coalition, secretariat, when=start, ends_at=start - timedelta(minutes=1))
    assert not Meeting.objects.exists()


# --- Marking held, cancelling, deleting ----------------------------------------------------------


def test_marking_a_past_planned_meeting_held_records_who_and_when(past, secretariat):
    before = timezone.now()
    services.meeting_mark_held(acting_user=secretariat, meeting=past, version=1)
    past.refresh_from_db()
    assert (past.status, past.held_by, past.version) == (M.HELD, secretariat, 2)
    assert past.held_at >= before


def test_a_future_meeting_cannot_be_marked_held(coalition, secretariat):
    future = _meeting(coalition, when=timezone.now() + timedelta(hours=1))
    with pytest.raises(ValidationError) as excinfo:
        services.meeting_mark_held(acting_user=secretariat, meeting=future)
    assert "before it starts" in str(excinfo.value)
    future.refresh_from_db()
    assert future.status == M.PLANNED


def test_only_a_planned_meeting_can_be_marked_held(held, coalition, secretariat):
    with pytest.raises(ValidationError):
        services.meeting_mark_held(acting_user=secretariat, meeting=held)
    cancelled = services.meeting_cancel(acting_user=secretariat, meeting=_meeting(coalition))
    with pytest.raises(ValidationError):
        services.meeting_mark_held(acting_user=secretariat, meeting=cancelled)
    cancelled.refresh_from_db()
    assert cancelled.status == M.CANCELLED


def test_meeting_held_is_signalled_inside_its_transaction(past, secretariat):
    """Inside, so the summary's outbox row is written with the meeting's new status or not at all."""
    from django.db import transaction

    received = []

    def listener(sender, meeting_id, acting_user_id, **kwargs):
        received.append((meeting_id, acting_user_id, transaction.get_connection().in_atomic_block))

    meeting_held.connect(listener, dispatch_uid="test-held-listener")
    try:
        services.meeting_mark_held(acting_user=secretariat, meeting=past)
        assert received == [(past.pk, secretariat.pk, True)]
    finally:
        meeting_held.disconnect(dispatch_uid="test-held-listener")


def test_a_planned_meeting_can_be_cancelled_once(past, secretariat):
    services.meeting_cancel(acting_user=secretariat, meeting=past, version=1)
    past.refresh_from_db()
    assert past.status == M.CANCELLED
    with pytest.raises(ValidationError):
        services.meeting_cancel(acting_user=secretariat, meeting=past)


def test_a_held_meeting_cannot_be_cancelled(held, secretariat):
    with pytest.raises(ValidationError):
        services.meeting_cancel(acting_user=secretariat, meeting=held)
    held.refresh_from_db()
    assert held.status == M.HELD


def test_a_held_meeting_cannot_be_deleted_but_a_planned_one_can(held, coalition, secretariat):
    with pytest.raises(ValidationError):
        services.meeting_delete(acting_user=secretariat, meeting=held)
    assert Meeting.objects.filter(pk=held.pk).exists()
    planned = _meeting(coalition)
    services.meeting_delete(acting_user=secretariat, meeting=planned, version=1)
    assert not Meeting.objects.filter(pk=planned.pk).exists()


def test_stale_version_mark_held_is_a_conflict(past, secretariat):
    services.meeting_update(acting_user=secretariat, meeting=past, version=1, title="Renamed")
    with pytest.raises(ConflictError):
        services.meeting_mark_held(acting_user=secretariat, meeting=past, version=1)
    past.refresh_from_db()
    assert past.status == M.PLANNED


# --- Updating and minutes ------------------------------------------------------------------------


def test_update_changes_details(past, secretariat):
    services.meeting_update(acting_user=secretariat, meeting=past, version=1, location="Luxembourg", online=True)
    past.refresh_from_db()
    assert (past.location, past.online, past.version) == ("Luxembourg", True, 2)


@pytest.mark.parametrize("field", ["status", "held_at", "held_by", "coalition"])
def test_update_refuses_fields_set_by_transitions(past, secretariat, field):
    with pytest.raises(ValidationError) as excinfo:
        services.meeting_update(acting_user=secretariat, meeting=past, **{field: None})
    assert field in excinfo.value.message_dict


def test_minutes_are_approved_only_after_the_meeting_is_held(past, secretariat):
    with pytest.raises(ValidationError) as excinfo:
        services.meeting_update(acting_user=secretariat, meeting=past, minutes="Agreed", minutes_status="approved")
    assert "minutes_status" in excinfo.value.message_dict
    past.refresh_from_db()
    assert (past.minutes, past.minutes_status) == ("", "draft")


def test_approved_minutes_are_final(held, secretariat):
    services.meeting_update(acting_user=secretariat, meeting=held, minutes="Agreed", minutes_status="approved")
    with pytest.raises(ValidationError) as excinfo:
        services.meeting_update(acting_user=secretariat, meeting=held, minutes="Rewritten")
    assert "minutes" in excinfo.value.message_dict
    held.refresh_from_db()
    assert held.minutes == "Agreed"


def test_approved_minutes_cannot_be_reopened(held, secretariat):
    services.meeting_update(acting_user=secretariat, meeting=held, minutes="Agreed", minutes_status="approved")
    with pytest.raises(ValidationError) as excinfo:
        services.meeting_update(acting_user=secretariat, meeting=held, minutes_status="draft")
    assert "minutes_status" in excinfo.value.message_dict
    held.refresh_from_db()
    assert held.minutes_status == "approved"


def test_other_details_of_a_meeting_with_approved_minutes_can_change(held, secretariat):
    services.meeting_update(acting_user=secretariat, meeting=held, minutes="Agreed", minutes_status="approved")
    services.meeting_update(acting_user=secretariat, meeting=held, location="Online")
    held.refresh_from_db()
    assert held.location == "Online"


def test_update_with_a_stale_version_is_a_conflict_and_writes_nothing(past, secretariat):
    services.meeting_update(acting_user=secretariat, meeting=past, version=1, title="First")
    with pytest.raises(ConflictError):
        services.meeting_update(acting_user=secretariat, meeting=past, version=1, title="Second")
    past.refresh_from_db()
    assert (past.title, past.version) == ("First", 2)


# --- Attendance ----------------------------------------------------------------------------------


def test_attendance_is_one_row_per_member(past, member_a, secretariat):
    services.attendance_set(acting_user=secretariat, meeting=past, member=member_a)
    services.attendance_set(
        acting_user=secretariat, meeting=past, member=member_a, status="present", role="chair", delegates="A. Person"
    )
    rows = list(Attendance.objects.filter(meeting=past))
    assert len(rows) == 1
    assert (rows[0].status, rows[0].role, rows[0].delegates) == ("present", "chair", "A. Person")


def test_attendance_needs_a_member_of_the_coalition(past, other_coalition, secretariat):
    stranger = factories.MemberFactory(code="FR", name="France")
    factories.MembershipFactory(member=stranger, coalition=other_coalition)
    with pytest.raises(ValidationError) as excinfo:
        services.attendance_set(acting_user=secretariat, meeting=past, member=stranger)
    assert "member" in excinfo.value.message_dict
    assert not Attendance.objects.exists()


def test_attendance_status_must_be_a_known_one(past, member_a, secretariat):
    with pytest.raises(ValidationError):
        services.attendance_set(acting_user=secretariat, meeting=past, member=member_a, status="asleep")


def test_database_refuses_duplicate_attendance(past, member_a):
    Attendance.objects.create(meeting=past, member=member_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Attendance.objects.create(meeting=past, member=member_a)
    assert Attendance.objects.count() == 1


# --- Agenda and decisions ------------------------------------------------------------------------


def test_agenda_items_are_numbered_in_order(past, secretariat):
    first = services.agenda_item_add(acting_user=secretariat, meeting=past, title="Opening")
    second = services.agenda_item_add(acting_user=secretariat, meeting=past, title="Pledges")
    assert (first.order, second.order) == (1, 2)
    assert [str(item) for item in past.agenda_items.all()] == ["1. Opening", "2. Pledges"]


def test_an_agenda_number_is_used_once(past, secretariat):
    services.agenda_item_add(acting_user=secretariat, meeting=past, title="Opening", order=1)
    with pytest.raises(ValidationError):
        services.agenda_item_add(acting_user=secretariat, meeting=past, title="Again", order=1)
    assert AgendaItem.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        AgendaItem.objects.create(meeting=past, order=1, title="Raw")


def test_a_decision_needs_text(past, secretariat):
    with pytest.raises(ValidationError) as excinfo:
        services.decision_record(acting_user=secretariat, meeting=past, text="   ")
    assert "text" in excinfo.value.message_dict
    decision = services.decision_record(
        acting_user=secretariat, meeting=past, text="  Priorities set  ", kind="priority_set"
    )
    assert (decision.text, decision.kind) == ("Priorities set", "priority_set")
    assert Decision.objects.count() == 1


# --- Action items --------------------------------------------------------------------------------


def test_action_item_owned_by_a_member_of_the_coalition(past, member_a, secretariat):
    item = services.action_item_add(
        acting_user=secretariat, meeting=past, text=" Draft the roadmap ", owner=member_a, due_on=date(2024, 4, 1)
    )
    item.refresh_from_db()
    assert (item.text, item.owner, item.status, item.version) == ("Draft the roadmap", member_a, "open", 1)


def test_action_item_owner_must_belong_to_the_coalition(past, other_coalition, member_a, secretariat):
    stranger = factories.MemberFactory(code="FR", name="France")
    factories.MembershipFactory(member=stranger, coalition=other_coalition)
    with pytest.raises(ValidationError) as excinfo:
        services.action_item_add(acting_user=secretariat, meeting=past, text="Buy", owner=stranger)
    assert "owner" in excinfo.value.message_dict
    item = services.action_item_add(acting_user=secretariat, meeting=past, text="Buy", owner=member_a)
    with pytest.raises(ValidationError):
        services.action_item_update(acting_user=secretariat, action_item=item, owner=stranger)
    item.refresh_from_db()
    assert item.owner == member_a


def test_action_item_needs_text(past, secretariat):
    with pytest.raises(ValidationError):
        services.action_item_add(acting_user=secretariat, meeting=past, text="")
    assert not ActionItem.objects.exists()


def test_action_item_is_closed_with_a_version_check(past, secretariat):
    item = services.action_item_add(acting_user=secretariat, meeting=past, text="Buy")
    services.action_item_update(acting_user=secretariat, action_item=item, version=1, status="done")
    item.refresh_from_db()
    assert (item.status, item.version) == ("done", 2)
    with pytest.raises(ConflictError):
        services.action_item_update(acting_user=secretariat, action_item=item, version=1, status="dropped")
    with pytest.raises(ValidationError):
        services.action_item_update(acting_user=secretariat, action_item=item, status="lost")
    with pytest.raises(ValidationError) as excinfo:
        services.action_item_update(acting_user=secretariat, action_item=item, meeting=None)
    assert "meeting" in excinfo.value.message_dict


def test_action_item_delete(past, secretariat):
    item = services.action_item_add(acting_user=secretariat, meeting=past, text="Buy")
    services.action_item_delete(acting_user=secretariat, action_item=item, version=1)
    assert not ActionItem.objects.exists()


# --- Database constraints ------------------------------------------------------------------------


def test_database_refuses_a_meeting_that_ends_before_it_starts(coalition):
    start = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        Meeting.objects.create(coalition=coalition, title="Raw", starts_at=start, ends_at=start - timedelta(seconds=1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Meeting.objects.create(coalition=coalition, title="Raw", starts_at=start, status="postponed")
    assert not Meeting.objects.exists()
