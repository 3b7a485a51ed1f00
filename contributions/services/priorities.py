"""Priority purchases: create, change, rank, move through procurement; link decisions."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils.translation import gettext as _

from coalition import permissions
from coalition.concurrency import delete_tracked, lock_current, save_tracked
from contributions import aggregates
from contributions.models import PriorityPurchase
from contributions.services.pledges import _money

P = PriorityPurchase.Status
#: Procurement moves forward one step at a time; any active priority may be dropped.
TRANSITIONS = {
    P.PROPOSED: {P.APPROVED, P.DROPPED},
    P.APPROVED: {P.IN_PROCUREMENT, P.DROPPED},
    P.IN_PROCUREMENT: {P.CONTRACTED, P.DROPPED},
    P.CONTRACTED: {P.DELIVERED, P.DROPPED},
    P.DELIVERED: set(),
    P.DROPPED: set(),
}
#: Ranks are moved out of the way by this offset while a coalition's priorities are renumbered.
_RERANK_OFFSET = 1_000_000


def _active(coalition_id):
    return PriorityPurchase.objects.filter(coalition_id=coalition_id, status__in=PriorityPurchase.ACTIVE)


def _check_meeting(priority):
    meeting = priority.approved_at_meeting
    if meeting is not None and meeting.coalition_id != priority.coalition_id:
        raise ValidationError({"approved_at_meeting": _("That meeting belongs to another coalition.")})


@transaction.atomic
def priority_create(
    *,
    acting_user,
    coalition,
    title,
    estimated_cost_eur,
    rank=None,
    description="",
    category="",
    status=P.PROPOSED,
    approved_at_meeting=None,
    target_date=None,
):
    """Add a priority purchase; without a rank it goes to the end of the coalition's list."""
    permissions.ensure_can_manage(acting_user, coalition)
    if status not in (P.PROPOSED, P.APPROVED):
        raise ValidationError({"status": _("A new priority is proposed or approved.")})
    if rank is None:
        rank = (_active(coalition.pk).aggregate(top=Max("rank"))["top"] or 0) + 1
    priority = PriorityPurchase(
        coalition=coalition,
        title=title,
        description=description,
        category=category,
        rank=rank,
        estimated_cost_eur=_money(estimated_cost_eur, "estimated_cost_eur"),
        status=status,
        approved_at_meeting=approved_at_meeting,
        target_date=target_date,
    )
    _check_meeting(priority)
    save_tracked(priority, acting_user=acting_user)
    aggregates.touch(priority.coalition_id)
    return priority


@transaction.atomic
def priority_update(*, acting_user, priority, version=None, **changes):
    """Change a priority's description, cost, category, target date or approving meeting."""
    unknown = set(changes) - set(PriorityPurchase.editable_fields)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})
    permissions.ensure_can_manage(acting_user, priority.coalition_id)
    priority = lock_current(priority, version)
    if "estimated_cost_eur" in changes:
        changes["estimated_cost_eur"] = _money(changes["estimated_cost_eur"], "estimated_cost_eur")
    changed = {field for field, value in changes.items() if getattr(priority, field) != value}
    if not changed:
        return priority
    for field in changed:
        setattr(priority, field, changes[field])
    _check_meeting(priority)
    save_tracked(priority, acting_user=acting_user, update_fields=changed)
    aggregates.touch(priority.coalition_id)
    return priority


@transaction.atomic
def priority_transition(*, acting_user, priority, to_status, version=None, meeting=None):
    """Move a priority along procurement (proposed → approved → … → delivered) or drop it."""
    permissions.ensure_can_manage(acting_user, priority.coalition_id)
    priority = lock_current(priority, version)
    if to_status not in TRANSITIONS.get(priority.status, set()):
        raise ValidationError(
            {
                "status": _("A %(current)s priority cannot become %(status)s.")
                % {"current": priority.status, "status": to_status}
            }
        )
    fields = {"status"}
    if to_status == P.APPROVED and meeting is not None:
        priority.approved_at_meeting = meeting
        _check_meeting(priority)
        fields.add("approved_at_meeting")
    priority.status = to_status
    save_tracked(priority, acting_user=acting_user, update_fields=fields)
    aggregates.touch(priority.coalition_id)
    if to_status in (P.DELIVERED, P.DROPPED):
        _renumber(priority.coalition_id, [p.pk for p in _active(priority.coalition_id).order_by("rank")], acting_user)
    return priority


def _renumber(coalition_id, ordered_ids, acting_user):
    priorities = {p.pk: p for p in _active(coalition_id).select_for_update()}
    targets = {pk: rank for rank, pk in enumerate(ordered_ids, start=1)}
    moving = [priorities[pk] for pk in ordered_ids if priorities[pk].rank != targets[pk]]
    # Two passes: move every changing rank out of the way, then to its place, so the unique
    # (coalition, rank) constraint holds after each statement.
    PriorityPurchase.objects.filter(pk__in=[p.pk for p in moving]).update(rank=F("rank") + _RERANK_OFFSET)
    for priority in moving:
        priority.rank = targets[priority.pk]
        save_tracked(priority, acting_user=acting_user, update_fields={"rank"})
    aggregates.touch(coalition_id)


@transaction.atomic
def priority_rerank(*, acting_user, coalition, ordered_ids):
    """Renumber the coalition's active priorities 1..n in the order given (every active one, once)."""
    permissions.ensure_can_manage(acting_user, coalition)
    active_ids = set(_active(coalition.pk).values_list("pk", flat=True))
    ordered_ids = [int(pk) for pk in ordered_ids]
    if len(ordered_ids) != len(set(ordered_ids)) or set(ordered_ids) != active_ids:
        raise ValidationError({"ordered_ids": _("List every active priority of the coalition exactly once.")})
    _renumber(coalition.pk, ordered_ids, acting_user)


@transaction.atomic
def priority_delete(*, acting_user, priority, version=None):
    """Delete a priority entered by mistake; one with allocations must be dropped instead."""
    permissions.ensure_can_manage(acting_user, priority.coalition_id)
    priority = lock_current(priority, version)
    if priority.allocations.exists():
        raise ValidationError(_("Pledges are allocated to this priority: drop it instead of deleting it."))
    was_active = priority.status in PriorityPurchase.ACTIVE
    delete_tracked(priority, acting_user=acting_user)
    aggregates.touch(priority.coalition_id)
    if was_active:
        # Close the gap, as dropping does, so active ranks stay 1..n.
        _renumber(priority.coalition_id, [p.pk for p in _active(priority.coalition_id).order_by("rank")], acting_user)


@transaction.atomic
def decision_link(*, acting_user, decision, pledges=(), priorities=()):
    """Record which pledges and priorities a meeting's decision concerns."""
    permissions.ensure_can_manage(acting_user, decision.meeting.coalition_id)
    coalition_id = decision.meeting.coalition_id
    for record in [*pledges, *priorities]:
        if record.coalition_id != coalition_id:
            raise ValidationError(_("A decision can only concern records of its own coalition."))
    decision.pledges.add(*pledges)
    decision.priorities.add(*priorities)
    return decision
