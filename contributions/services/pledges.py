"""Pledge services: create, update, the lifecycle's transitions, withdraw and delete."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from coalition import permissions
from coalition.concurrency import delete_tracked, lock_current, save_tracked
from coalition.models import Membership
from contributions import aggregates, rules
from contributions.models import Pledge
from contributions.rates import convert, part_in_eur
from contributions.signals import pledge_confirmed

S = Pledge.Status

#: Why a pledge (or a disbursement) of another member is refused.
OWN_MEMBER_ONLY = _lazy("You may only change pledges of your own member.")
#: What a status change writes: the status, who changed it and when, and the publication it may be.
STATUS_FIELDS = {"status", "status_changed_at", "status_changed_by", "published_at"}
#: Statuses a new pledge may start in (importing one confirmed at a past meeting is normal).
INITIAL_STATUSES = (S.DRAFT, S.ANNOUNCED, S.CONFIRMED)
#: The transitions a person makes; disbursing and fulfilled follow from disbursements.
MANUAL_TRANSITIONS = {
    S.DRAFT: {S.ANNOUNCED, S.CONFIRMED, S.WITHDRAWN},
    S.ANNOUNCED: {S.CONFIRMED, S.WITHDRAWN},
    S.CONFIRMED: {S.WITHDRAWN},
    S.DISBURSING: {S.WITHDRAWN},
    S.FULFILLED: set(),
    S.WITHDRAWN: set(),
}


def _money(value, field="amount"):
    if isinstance(value, float):
        raise TypeError("Money is Decimal, never float.")
    problem = rules.amount_problem(value)
    if problem:
        raise ValidationError({field: problem})
    return Decimal(value)


def _total(queryset, field):
    """The sum of a money column, in cents: SQLite sums decimals as floats (999.990000000000), which
    would fail the two-places check on save and blur comparisons with the pledge's amount."""
    return (queryset.aggregate(total=Sum(field))["total"] or Decimal(0)).quantize(Decimal("0.01"))


def _check_member_in_coalition(coalition, member, member_ids=None):
    """``member_ids``: the coalition's member ids when the caller read them once (imports)."""
    if member_ids is not None:
        belongs = member.pk in member_ids
    else:
        belongs = Membership.objects.filter(coalition=coalition, member=member).exists()
    if not belongs:
        raise ValidationError(
            {"member": _("%(member)s is not a member of %(coalition)s.") % {"member": member, "coalition": coalition}}
        )


def _check_meeting(pledge):
    meeting = pledge.confirmed_at_meeting
    if meeting is not None and meeting.coalition_id != pledge.coalition_id:
        raise ValidationError({"confirmed_at_meeting": _("That meeting belongs to another coalition.")})


def _apply_conversion(pledge, explicit_rate, explicit_source, rate_lookup=None):
    conversion = convert(
        amount=pledge.amount,
        currency=pledge.currency,
        on_date=pledge.announced_on,
        explicit_rate=explicit_rate,
        explicit_source=explicit_source or "",
        rate_lookup=rate_lookup,
    )
    pledge.amount_eur = conversion.amount_eur
    pledge.exchange_rate = conversion.rate
    pledge.exchange_rate_date = conversion.rate_date
    pledge.exchange_rate_source = conversion.source


def _stamp_status(pledge, acting_user):
    """Record who changed the status and when; the first public status publishes the pledge, once."""
    pledge.status_changed_at = timezone.now()
    pledge.status_changed_by = acting_user if acting_user and acting_user.is_authenticated else None
    if pledge.published_at is None and pledge.status in Pledge.COUNTED:
        pledge.published_at = pledge.status_changed_at


def _on_confirmed(pledge, acting_user):
    # In the transaction: what reacts (a report to send) is written with the confirmation, or not at all.
    pledge_confirmed.send(sender=Pledge, pledge_id=pledge.pk, acting_user_id=getattr(acting_user, "pk", None))


@transaction.atomic
def pledge_create(
    *,
    acting_user,
    coalition,
    member,
    title,
    amount,
    currency,
    announced_on,
    status=S.DRAFT,
    description="",
    kind=Pledge.Kind.FINANCIAL,
    channel=Pledge.Channel.BILATERAL,
    confirmed_on=None,
    confirmed_at_meeting=None,
    source="",
    external_ref="",
    exchange_rate=None,
    exchange_rate_source="",
):
    """Record a pledge with its EUR value at the ECB rate of ``announced_on``."""
    pledge = new_pledge(
        acting_user=acting_user,
        coalition=coalition,
        member=member,
        title=title,
        amount=amount,
        currency=currency,
        announced_on=announced_on,
        status=status,
        description=description,
        kind=kind,
        channel=channel,
        confirmed_on=confirmed_on,
        confirmed_at_meeting=confirmed_at_meeting,
        source=source,
        external_ref=external_ref,
        exchange_rate=exchange_rate,
        exchange_rate_source=exchange_rate_source,
    )
    with aggregates.pledges_changing() as change:
        save_tracked(pledge, acting_user=acting_user)
        change.add(pledge.pk)
    if pledge.status == S.CONFIRMED:
        _on_confirmed(pledge, acting_user)
    return pledge


def new_pledge(
    *,
    acting_user,
    coalition,
    member,
    title,
    amount,
    currency,
    announced_on,
    status,
    description,
    kind,
    channel,
    confirmed_on,
    confirmed_at_meeting,
    source,
    external_ref,
    exchange_rate,
    exchange_rate_source,
    member_ids=None,
    rate_lookup=None,
):
    """An unsaved pledge that passed every rule of pledge_create (the database's constraints aside):
    pledge_create saves it; the bulk import (services/imports.py) saves many at once, passing the
    coalition's ``member_ids`` and a ``rate_lookup`` it read once instead of querying per row."""
    permissions.ensure_can_write_pledge_for(acting_user, coalition, member)
    if status not in INITIAL_STATUSES:
        raise ValidationError(
            {
                "status": _(
                    "A new pledge starts as draft, announced or confirmed; %(status)s follows from "
                    "disbursements or a withdrawal."
                )
                % {"status": status}
            }
        )
    _check_member_in_coalition(coalition, member, member_ids)
    pledge = Pledge(
        coalition=coalition,
        member=member,
        title=title,
        description=description,
        kind=kind,
        channel=channel,
        amount=_money(amount),
        currency=(currency or "").strip().upper(),
        status=status,
        announced_on=announced_on,
        confirmed_on=confirmed_on,
        confirmed_at_meeting=confirmed_at_meeting,
        source=source,
        external_ref=external_ref or "",
    )
    if status == S.CONFIRMED and pledge.confirmed_on is None:
        pledge.confirmed_on = (
            timezone.localdate(confirmed_at_meeting.starts_at) if confirmed_at_meeting else timezone.localdate()
        )
    problem = rules.dates_problem(announced_on, pledge.confirmed_on)
    if problem:
        raise ValidationError({"confirmed_on": problem})
    _check_meeting(pledge)
    _apply_conversion(pledge, exchange_rate, exchange_rate_source, rate_lookup)
    if pledge.amount_eur <= 0:
        raise ValidationError(
            {"amount": _("This amount is worth less than a cent in EUR; check the amount and the currency.")}
        )
    _stamp_status(pledge, acting_user)
    return pledge


@transaction.atomic
def pledge_update(*, acting_user, pledge, version=None, **changes):
    """Change a pledge's fields; the EUR value is recomputed when amount, currency or date change.

    ``version`` is the version the user read: a stale one raises ConflictError.
    """
    unknown = set(changes) - set(Pledge.editable_fields)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})
    permissions.ensure_can_edit(acting_user, pledge, OWN_MEMBER_ONLY)
    pledge = lock_current(pledge, version)
    if pledge.status == S.WITHDRAWN:
        raise ValidationError(_("A withdrawn pledge cannot be changed."))
    previous_status = pledge.status
    explicit_rate = changes.pop("exchange_rate", None)
    explicit_source = changes.pop("exchange_rate_source", None)
    if "amount" in changes:
        changes["amount"] = _money(changes["amount"])
    if "currency" in changes:
        changes["currency"] = (changes["currency"] or "").strip().upper()
    if "external_ref" in changes:
        changes["external_ref"] = changes["external_ref"] or ""
    changed = {field for field, value in changes.items() if getattr(pledge, field) != value}
    for field in changed:
        setattr(pledge, field, changes[field])
    money_changed = changed & {"amount", "currency", "announced_on"}
    rate_given = explicit_rate is not None and Decimal(explicit_rate) != pledge.exchange_rate
    if money_changed or rate_given:
        if (
            explicit_rate is None
            and pledge.exchange_rate_source != "ECB"
            and pledge.currency != "EUR"
            and not (changed & {"currency", "announced_on"})
        ):
            # Same currency and date with an explicit rate: keep the user's rate for the new amount.
            explicit_rate, explicit_source = pledge.exchange_rate, pledge.exchange_rate_source
        _apply_conversion(pledge, explicit_rate, explicit_source or "")
        changed |= {"amount_eur", "exchange_rate", "exchange_rate_date", "exchange_rate_source"}
        if pledge.disbursed_amount:
            pledge.disbursed_eur = part_in_eur(
                pledge.disbursed_amount, whole=pledge.amount, whole_eur=pledge.amount_eur, rate=pledge.exchange_rate
            )
            changed.add("disbursed_eur")
    if not changed:
        return pledge
    if pledge.amount < pledge.disbursed_amount:
        raise ValidationError(
            {
                "amount": _("%(disbursed)s %(currency)s has already been disbursed; the pledge cannot be smaller.")
                % {"disbursed": pledge.disbursed_amount, "currency": pledge.currency}
            }
        )
    allocated = _total(pledge.allocations.all(), "amount_eur")
    if pledge.amount_eur < allocated:
        raise ValidationError(
            {
                "amount": _(
                    "%(allocated)s EUR of this pledge is allocated to priorities; reduce the allocations first."
                )
                % {"allocated": allocated}
            }
        )
    if pledge.status == S.FULFILLED and pledge.amount > pledge.disbursed_amount:
        pledge.status = S.DISBURSING
    elif pledge.status == S.DISBURSING and pledge.amount == pledge.disbursed_amount:
        pledge.status = S.FULFILLED
    if pledge.status != previous_status:
        _stamp_status(pledge, acting_user)
        changed |= STATUS_FIELDS
    _check_meeting(pledge)
    with aggregates.pledges_changing(pledge.pk):
        save_tracked(pledge, acting_user=acting_user, update_fields=changed)
    return pledge


@transaction.atomic
def pledge_transition(*, acting_user, pledge, to_status, version=None, on_date=None, meeting=None):
    """Move a pledge along its lifecycle: announce, confirm (optionally at a meeting) or withdraw."""
    permissions.ensure_can_edit(acting_user, pledge, OWN_MEMBER_ONLY)
    pledge = lock_current(pledge, version)
    if to_status not in MANUAL_TRANSITIONS.get(pledge.status, set()):
        if to_status in (S.DISBURSING, S.FULFILLED):
            message = _("%(status)s follows from disbursements; record a disbursement instead.")
        else:
            message = _("A %(current)s pledge cannot become %(status)s.")
        raise ValidationError({"status": message % {"status": to_status, "current": pledge.status}})
    fields = set(STATUS_FIELDS)
    if to_status == S.CONFIRMED:
        if meeting is not None:
            if meeting.coalition_id != pledge.coalition_id:
                raise ValidationError({"confirmed_at_meeting": _("That meeting belongs to another coalition.")})
            pledge.confirmed_at_meeting = meeting
            fields.add("confirmed_at_meeting")
        pledge.confirmed_on = on_date or (timezone.localdate(meeting.starts_at) if meeting else timezone.localdate())
        problem = rules.dates_problem(pledge.announced_on, pledge.confirmed_on)
        if problem:
            raise ValidationError({"confirmed_on": problem})
        fields.add("confirmed_on")
    with aggregates.pledges_changing(pledge.pk):
        if to_status == S.WITHDRAWN:
            for allocation in pledge.allocations.all():
                delete_tracked(allocation, acting_user=acting_user)
        pledge.status = to_status
        _stamp_status(pledge, acting_user)
        save_tracked(pledge, acting_user=acting_user, update_fields=fields)
    if to_status == S.CONFIRMED:
        _on_confirmed(pledge, acting_user)
    return pledge


def pledge_announce(*, acting_user, pledge, version=None):
    """Publish a draft pledge."""
    return pledge_transition(acting_user=acting_user, pledge=pledge, to_status=S.ANNOUNCED, version=version)


def pledge_confirm(*, acting_user, pledge, version=None, on_date=None, meeting=None):
    """Confirm a pledge, recording the date and the meeting that confirmed it."""
    return pledge_transition(
        acting_user=acting_user, pledge=pledge, to_status=S.CONFIRMED, version=version, on_date=on_date, meeting=meeting
    )


def pledge_withdraw(*, acting_user, pledge, version=None):
    """Withdraw a pledge (any state before fulfilled); its allocations are released."""
    return pledge_transition(acting_user=acting_user, pledge=pledge, to_status=S.WITHDRAWN, version=version)


@transaction.atomic
def pledge_delete(*, acting_user, pledge, version=None):
    """Delete a pledge entered by mistake: only one nothing has been disbursed against."""
    permissions.ensure_can_edit(acting_user, pledge, OWN_MEMBER_ONLY)
    pledge = lock_current(pledge, version)
    if pledge.disbursed_amount > 0 or pledge.disbursements.exists():
        raise ValidationError(_("Money has been disbursed against this pledge: withdraw it instead of deleting it."))
    with aggregates.pledges_changing(pledge.pk):
        for allocation in pledge.allocations.all():
            delete_tracked(allocation, acting_user=acting_user)
        delete_tracked(pledge, acting_user=acting_user)
