"""Allocations: parts of a pledge's EUR value earmarked for priority purchases."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from coalition import permissions
from coalition.concurrency import delete_tracked, lock_current, save_tracked
from contributions import aggregates
from contributions.models import Allocation, Pledge, PriorityPurchase
from contributions.services.pledges import _money, _total

#: Pledges whose money can be earmarked: published and not withdrawn.
ALLOCATABLE = (Pledge.Status.ANNOUNCED, Pledge.Status.CONFIRMED, Pledge.Status.DISBURSING, Pledge.Status.FULFILLED)


@transaction.atomic
def allocation_set(*, acting_user, pledge, priority, amount_eur, note="", version=None, create_only=False):
    """Earmark ``amount_eur`` of ``pledge`` for ``priority`` (creating or changing the allocation).

    The allocations of one pledge never add up to more than its EUR value. Everything is decided under
    the pledge's row lock, so concurrent calls are serialised: with ``create_only`` (the API's POST) an
    allocation that already exists is refused, never overwritten by a second creator; a change of an
    existing one checks ``version`` when given.
    """
    permissions.ensure_can_manage(acting_user, pledge.coalition_id)
    if priority.coalition_id != pledge.coalition_id:
        raise ValidationError({"priority": _("The priority belongs to another coalition than the pledge.")})
    if priority.status == PriorityPurchase.Status.DROPPED:
        raise ValidationError({"priority": _("This priority has been dropped.")})
    amount_eur = _money(amount_eur, "amount_eur")
    pledge = lock_current(pledge)
    if pledge.status not in ALLOCATABLE:
        raise ValidationError({"pledge": _("A %(status)s pledge cannot be allocated.") % {"status": pledge.status}})
    existing = Allocation.objects.filter(pledge=pledge, priority=priority).first()
    if existing is not None and create_only:
        raise ValidationError(
            {
                "priority": _(
                    "This pledge is already allocated to this priority: change that allocation "
                    "(PUT /api/v1/allocations/%(id)s/)."
                )
                % {"id": existing.pk}
            }
        )
    others = _total(Allocation.objects.filter(pledge=pledge).exclude(priority=priority), "amount_eur")
    if others + amount_eur > pledge.amount_eur:
        raise ValidationError(
            {
                "amount_eur": _(
                    "This pledge is worth %(value)s EUR and %(others)s EUR of it is allocated elsewhere: "
                    "at most %(free)s EUR is left."
                )
                % {"value": pledge.amount_eur, "others": others, "free": pledge.amount_eur - others}
            }
        )
    with aggregates.pledges_changing(pledge.pk):
        if existing is None:
            allocation = Allocation(pledge=pledge, priority=priority, amount_eur=amount_eur, note=note)
            save_tracked(allocation, acting_user=acting_user)
            return allocation
        allocation = lock_current(existing, version)
        allocation.amount_eur, allocation.note = amount_eur, note
        save_tracked(allocation, acting_user=acting_user, update_fields={"amount_eur", "note"})
    return allocation


@transaction.atomic
def allocation_delete(*, acting_user, allocation, version=None):
    """Release an allocation."""
    permissions.ensure_can_manage(acting_user, allocation.pledge.coalition_id)
    allocation = lock_current(allocation, version)
    with aggregates.pledges_changing(allocation.pledge_id):
        delete_tracked(allocation, acting_user=acting_user)
