"""Disbursements: money paid against a pledge. The pledge's running total and its disbursing /
fulfilled status follow from them, under a lock on the pledge row."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coalition import permissions
from coalition.concurrency import delete_tracked, lock_current, save_tracked
from contributions import aggregates
from contributions.models import Disbursement, Pledge
from contributions.rates import part_in_eur
from contributions.services.pledges import OWN_MEMBER_ONLY, _money, _total

S = Pledge.Status
#: A pledge takes disbursements once confirmed, and until it is fulfilled.
ACCEPTS_DISBURSEMENTS = (S.CONFIRMED, S.DISBURSING)


def _refresh_pledge(pledge, acting_user):
    """Recompute the pledge's disbursed total and the status that follows from it."""
    total = _total(pledge.disbursements.all(), "amount")
    if total > pledge.amount:
        raise ValidationError(
            {
                "amount": _(
                    "Disbursements would total %(total)s %(currency)s, more than the pledged "
                    "%(amount)s %(currency)s (%(remaining)s still open)."
                )
                % {
                    "total": total,
                    "amount": pledge.amount,
                    "currency": pledge.currency,
                    "remaining": pledge.amount - pledge.disbursed_amount,
                }
            }
        )
    if pledge.status == S.WITHDRAWN:
        status = S.WITHDRAWN  # corrections to a withdrawn pledge's payments do not revive it
    elif total == 0:
        status = S.CONFIRMED
    elif total < pledge.amount:
        status = S.DISBURSING
    else:
        status = S.FULFILLED
    fields = {"disbursed_amount", "disbursed_eur"}
    pledge.disbursed_amount = total
    pledge.disbursed_eur = part_in_eur(
        total, whole=pledge.amount, whole_eur=pledge.amount_eur, rate=pledge.exchange_rate
    )
    if status != pledge.status:
        pledge.status = status
        pledge.status_changed_at = timezone.now()
        pledge.status_changed_by = acting_user if acting_user and acting_user.is_authenticated else None
        fields |= {"status", "status_changed_at", "status_changed_by"}
    with aggregates.pledges_changing(pledge.pk):
        save_tracked(pledge, acting_user=acting_user, update_fields=fields)


def _validate_date(pledge, date):
    if date is None:
        raise ValidationError({"date": _("Give the date the money was paid.")})
    if date < pledge.announced_on:
        raise ValidationError(
            {
                "date": _("A disbursement cannot predate the pledge's announcement (%(date)s).")
                % {"date": pledge.announced_on.isoformat()}
            }
        )


@transaction.atomic
def disbursement_record(*, acting_user, pledge, amount, date, reference="", note=""):
    """Record money paid against a confirmed pledge; never more than what remains of it."""
    permissions.ensure_can_edit(acting_user, pledge, OWN_MEMBER_ONLY)
    pledge = lock_current(pledge)
    if pledge.status not in ACCEPTS_DISBURSEMENTS:
        raise ValidationError(
            {
                "pledge": _("A %(status)s pledge takes no disbursements: confirm it first.") % {"status": pledge.status}
                if pledge.status in (S.DRAFT, S.ANNOUNCED)
                else _("A %(status)s pledge takes no more disbursements.") % {"status": pledge.status}
            }
        )
    amount = _money(amount)
    _validate_date(pledge, date)
    disbursement = Disbursement(
        pledge=pledge,
        amount=amount,
        date=date,
        reference=reference,
        note=note,
        created_by=acting_user if acting_user and acting_user.is_authenticated else None,
    )
    save_tracked(disbursement, acting_user=acting_user)
    _refresh_pledge(pledge, acting_user)
    return disbursement


@transaction.atomic
def disbursement_update(*, acting_user, disbursement, version=None, **changes):
    """Correct a disbursement's amount, date, reference or note."""
    unknown = set(changes) - set(Disbursement.editable_fields)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})
    permissions.ensure_can_edit(acting_user, disbursement.pledge, OWN_MEMBER_ONLY)
    pledge = lock_current(disbursement.pledge)
    disbursement = lock_current(disbursement, version)
    if "amount" in changes:
        changes["amount"] = _money(changes["amount"])
    if "date" in changes:
        _validate_date(pledge, changes["date"])
    changed = {field for field, value in changes.items() if getattr(disbursement, field) != value}
    if not changed:
        return disbursement
    for field in changed:
        setattr(disbursement, field, changes[field])
    save_tracked(disbursement, acting_user=acting_user, update_fields=changed)
    _refresh_pledge(pledge, acting_user)
    return disbursement


@transaction.atomic
def disbursement_delete(*, acting_user, disbursement, version=None):
    """Remove a disbursement recorded by mistake; the pledge's status steps back as needed."""
    permissions.ensure_can_edit(acting_user, disbursement.pledge, OWN_MEMBER_ONLY)
    pledge = lock_current(disbursement.pledge)
    disbursement = lock_current(disbursement, version)
    delete_tracked(disbursement, acting_user=acting_user)
    _refresh_pledge(pledge, acting_user)
