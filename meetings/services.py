"""Every write to meetings: create, change, mark held or cancelled; attendance, agenda,
decisions and action items. Only the coalition's secretariat (or the system) writes here."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coalition import permissions
from coalition.concurrency import delete_tracked, lock_current, save_tracked
from coalition.models import Membership
from meetings.models import ActionItem, AgendaItem, Attendance, Decision, Meeting
from meetings.signals import meeting_held

M = Meeting.Status


def _check_member(coalition_id, member, field="member"):
    if member is not None and not Membership.objects.filter(coalition_id=coalition_id, member=member).exists():
        raise ValidationError({field: _("%(member)s is not a member of this coalition.") % {"member": member}})


@transaction.atomic
def meeting_create(
    *,
    acting_user,
    coalition,
    title,
    starts_at,
    kind=Meeting.Kind.STEERING_GROUP,
    ends_at=None,
    location="",
    online=False,
    minutes="",
):
    """Plan a meeting of the coalition."""
    permissions.ensure_can_manage(acting_user, coalition)
    meeting = Meeting(
        coalition=coalition,
        title=title,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location,
        online=online,
        minutes=minutes,
    )
    save_tracked(meeting, acting_user=acting_user)
    return meeting


@transaction.atomic
def meeting_update(*, acting_user, meeting, version=None, **changes):
    """Change a meeting's details or minutes; approved minutes are final."""
    unknown = set(changes) - set(Meeting.editable_fields)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})
    permissions.ensure_can_manage(acting_user, meeting.coalition_id)
    meeting = lock_current(meeting, version)
    changed = {field for field, value in changes.items() if getattr(meeting, field) != value}
    if not changed:
        return meeting
    if meeting.minutes_status == Meeting.MinutesStatus.APPROVED and changed & {"minutes", "minutes_status"}:
        # Reopening approved minutes would let them be rewritten after the fact.
        field = "minutes" if "minutes" in changed else "minutes_status"
        raise ValidationError({field: _("The minutes are approved and can no longer be changed.")})
    if changes.get("minutes_status") == Meeting.MinutesStatus.APPROVED and meeting.status != M.HELD:
        raise ValidationError({"minutes_status": _("Minutes are approved after the meeting is held.")})
    for field in changed:
        setattr(meeting, field, changes[field])
    save_tracked(meeting, acting_user=acting_user, update_fields=changed)
    return meeting


@transaction.atomic
def meeting_mark_held(*, acting_user, meeting, version=None):
    """Record that a planned meeting took place; the meeting summary is asked for in the same transaction."""
    permissions.ensure_can_manage(acting_user, meeting.coalition_id)
    meeting = lock_current(meeting, version)
    if meeting.status != M.PLANNED:
        raise ValidationError(
            {
                "status": _("Only a planned meeting can be marked held; this one is %(status)s.")
                % {"status": meeting.status}
            }
        )
    if meeting.starts_at > timezone.now():
        raise ValidationError({"status": _("A meeting cannot be marked held before it starts.")})
    meeting.status = M.HELD
    meeting.held_at = timezone.now()
    meeting.held_by = acting_user if acting_user and acting_user.is_authenticated else None
    save_tracked(meeting, acting_user=acting_user, update_fields={"status", "held_at", "held_by"})
    meeting_held.send(sender=Meeting, meeting_id=meeting.pk, acting_user_id=getattr(acting_user, "pk", None))
    return meeting


@transaction.atomic
def meeting_cancel(*, acting_user, meeting, version=None):
    """Cancel a planned meeting."""
    permissions.ensure_can_manage(acting_user, meeting.coalition_id)
    meeting = lock_current(meeting, version)
    if meeting.status != M.PLANNED:
        raise ValidationError({"status": _("Only a planned meeting can be cancelled.")})
    meeting.status = M.CANCELLED
    save_tracked(meeting, acting_user=acting_user, update_fields={"status"})
    return meeting


@transaction.atomic
def meeting_delete(*, acting_user, meeting, version=None):
    """Delete a planned meeting created by mistake (held meetings are the record: keep them)."""
    permissions.ensure_can_manage(acting_user, meeting.coalition_id)
    meeting = lock_current(meeting, version)
    if meeting.status == M.HELD:
        raise ValidationError(_("A held meeting is part of the record and cannot be deleted."))
    delete_tracked(meeting, acting_user=acting_user)


@transaction.atomic
def attendance_set(
    *, acting_user, meeting, member, role=Attendance.Role.PARTICIPANT, status=Attendance.Status.INVITED, delegates=""
):
    """Invite a member to a meeting or record whether it came (one row per member)."""
    permissions.ensure_can_manage(acting_user, meeting.coalition_id)
    _check_member(meeting.coalition_id, member)
    attendance = Attendance.objects.select_for_update().filter(meeting=meeting, member=member).first()
    if attendance is None:
        attendance = Attendance(meeting=meeting, member=member)
    attendance.role, attendance.status, attendance.delegates = role, status, delegates
    save_tracked(attendance, acting_user=acting_user, bump=False)
    return attendance


@transaction.atomic
def agenda_item_add(*, acting_user, meeting, title, order=None, notes="", outcome=""):
    """Add an item to the meeting's agenda (at the end unless ``order`` is given)."""
    permissions.ensure_can_manage(acting_user, meeting.coalition_id)
    if order is None:
        last = meeting.agenda_items.order_by("-order").values_list("order", flat=True).first()
        order = (last or 0) + 1
    item = AgendaItem(meeting=meeting, order=order, title=title, notes=notes, outcome=outcome)
    save_tracked(item, acting_user=acting_user, bump=False)
    return item


@transaction.atomic
def decision_record(*, acting_user, meeting, text, kind=Decision.Kind.OTHER):
    """Record a decision of the meeting (link its pledges and priorities with contributions.services)."""
    permissions.ensure_can_manage(acting_user, meeting.coalition_id)
    if not text.strip():
        raise ValidationError({"text": _("Write what was decided.")})
    decision = Decision(meeting=meeting, text=text.strip(), kind=kind)
    save_tracked(decision, acting_user=acting_user, bump=False)
    return decision


@transaction.atomic
def decision_update(*, acting_user, decision, **changes):
    """Correct a decision's wording or kind (its links to pledges and priorities stay)."""
    unknown = set(changes) - set(Decision.editable_fields)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})
    permissions.ensure_can_manage(acting_user, decision.meeting.coalition_id)
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    if "text" in changes:
        changes["text"] = (changes["text"] or "").strip()
        if not changes["text"]:
            raise ValidationError({"text": _("Write what was decided.")})
    changed = {field for field, value in changes.items() if getattr(decision, field) != value}
    for field in changed:
        setattr(decision, field, changes[field])
    if changed:
        save_tracked(decision, acting_user=acting_user, update_fields=changed, bump=False)
    return decision


@transaction.atomic
def decision_delete(*, acting_user, decision):
    """Delete a decision recorded by mistake (the pledges and priorities it concerned stay)."""
    permissions.ensure_can_manage(acting_user, decision.meeting.coalition_id)
    delete_tracked(decision, acting_user=acting_user)


@transaction.atomic
def action_item_add(*, acting_user, meeting, text, owner=None, due_on=None):
    """Record a next step agreed at the meeting, owned by a member of the coalition."""
    permissions.ensure_can_manage(acting_user, meeting.coalition_id)
    _check_member(meeting.coalition_id, owner, "owner")
    if not text.strip():
        raise ValidationError({"text": _("Write what is to be done.")})
    item = ActionItem(meeting=meeting, text=text.strip(), owner=owner, due_on=due_on)
    save_tracked(item, acting_user=acting_user)
    return item


@transaction.atomic
def action_item_update(*, acting_user, action_item, version=None, **changes):
    """Change an action item, or close it (done / dropped)."""
    unknown = set(changes) - set(ActionItem.editable_fields)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})
    permissions.ensure_can_manage(acting_user, action_item.meeting.coalition_id)
    action_item = lock_current(action_item, version)
    if "owner" in changes:
        _check_member(action_item.meeting.coalition_id, changes["owner"], "owner")
    changed = {field for field, value in changes.items() if getattr(action_item, field) != value}
    if not changed:
        return action_item
    for field in changed:
        setattr(action_item, field, changes[field])
    save_tracked(action_item, acting_user=acting_user, update_fields=changed)
    return action_item


@transaction.atomic
def action_item_delete(*, acting_user, action_item, version=None):
    """Delete an action item recorded by mistake."""
    permissions.ensure_can_manage(acting_user, action_item.meeting.coalition_id)
    action_item = lock_current(action_item, version)
    delete_tracked(action_item, acting_user=acting_user)
