"""Load the demo coalition (demo.data) through the services, as the system.

Every record is looked up by its natural key first and written only when missing (or behind its
final state), so a second run writes nothing: no new rows, no new history rows. The whole load is one
transaction, and the reports that confirmations and held meetings trigger are queued when it commits,
when the demo's users (created last) are there to receive them: the first run sends them.
"""

import functools
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from coalition import services as coalition_services
from coalition.models import Coalition, Member
from contributions import services as contribution_services
from contributions.models import Allocation, Disbursement, ExchangeRate, Pledge, PriorityPurchase
from demo import data
from meetings import services as meeting_services
from meetings.models import ActionItem, Decision, Meeting
from reports import figures

SYSTEM = None  # acting_user for every write: the system, allowed everything, every rule applied
PRIORITY_STEPS = ("proposed", "approved", "in_procurement", "contracted", "delivered")


@dataclass
class Login:
    username: str
    role: str
    member: str
    password: str


@dataclass
class Result:
    """What a run created (per kind of record) and the demo logins to print."""

    coalition: Coalition
    created: Counter = field(default_factory=Counter)
    logins: list = field(default_factory=list)


@transaction.atomic
def load_demo():
    """Create whatever of the demo coalition is missing; returns a Result."""
    result = Result(coalition=None)
    _rates(result)
    coalition = result.coalition = _coalition(result)
    # The load dates history rows in the past (_as_told): figures kept of the history as it stood then
    # are stale from its commit on.
    transaction.on_commit(functools.partial(figures.history_rewritten, coalition.pk))
    members = _members(coalition, result)
    meetings, decisions = {}, {}
    for spec in data.MEETINGS:
        meetings[spec["key"]] = meeting = _meeting(coalition, spec, result)
        for key, kind, text in spec["decisions"]:
            decisions[spec["key"], key] = _decision(meeting, kind, text, result)
    priorities = _priorities(coalition, meetings, decisions, result)
    pledges = _pledges(coalition, members, meetings, decisions, result)
    _allocations(pledges, priorities, result)
    _disbursements(pledges, result)
    for spec in data.MEETINGS:
        _close_meeting(meetings[spec["key"]], members, spec, result)
    _users(coalition, members, result)
    return result


def _local(day, hour):
    """``hour`` o'clock on ``day`` in the portal's time zone."""
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _as_told(history, written_after, when):
    """Date the history rows a service just wrote (after ``written_after``) at ``when``, the moment
    the demo's story has them. The dashboard's change since the last meeting reads the history as it
    stood when the meeting ended: dated on the day of the load, every pledge would be a change since."""
    history.filter(history_date__gte=written_after).update(history_date=when)


def _rates(result):
    for currency, day, rate in data.ECB_RATES:
        _rate, created = ExchangeRate.objects.get_or_create(
            currency=currency, date=day, defaults={"rate": Decimal(rate), "source": "ECB"}
        )
        result.created["exchange rates"] += created


def _coalition(result):
    spec = data.COALITION
    coalition = Coalition.objects.filter(slug=spec["slug"]).first()
    if coalition is None:
        coalition = coalition_services.coalition_create(
            acting_user=SYSTEM,
            name=spec["name"],
            slug=spec["slug"],
            description=spec["description"],
            target_eur=Decimal(spec["target_eur"]),
        )
        result.created["coalitions"] += 1
    return coalition


def _members(coalition, result):
    members = {member.code: member for member in Member.objects.filter(code__in=[m[0] for m in data.MEMBERS])}
    for code, name, kind in data.MEMBERS:
        if code not in members:
            members[code] = coalition_services.member_create(acting_user=SYSTEM, code=code, name=name, kind=kind)
            result.created["members"] += 1
    seated = set(coalition.memberships.values_list("member__code", flat=True))
    for code, role, since in data.MEMBERSHIPS:
        if code not in seated:
            coalition_services.membership_set(
                acting_user=SYSTEM, coalition=coalition, member=members[code], role=role, since=since
            )
            result.created["memberships"] += 1
    return members


def _meeting(coalition, spec, result):
    meeting = Meeting.objects.filter(coalition=coalition, title=spec["title"], starts_at=spec["starts_at"]).first()
    if meeting is None:
        meeting = meeting_services.meeting_create(
            acting_user=SYSTEM,
            coalition=coalition,
            title=spec["title"],
            kind=spec["kind"],
            starts_at=spec["starts_at"],
            location=spec["location"],
            online=spec["online"],
            minutes=spec["minutes"],
        )
        result.created["meetings"] += 1
    present = set(meeting.attendances.values_list("member__code", flat=True))
    members = {m.code: m for m in Member.objects.filter(code__in=[code for code, _r, _s in spec["attendance"]])}
    for code, role, status in spec["attendance"]:
        if code not in present:
            meeting_services.attendance_set(
                acting_user=SYSTEM, meeting=meeting, member=members[code], role=role, status=status
            )
            result.created["attendances"] += 1
    numbered = set(meeting.agenda_items.values_list("order", flat=True))
    for order, title, notes, outcome in spec["agenda"]:
        if order not in numbered:
            meeting_services.agenda_item_add(
                acting_user=SYSTEM, meeting=meeting, order=order, title=title, notes=notes, outcome=outcome
            )
            result.created["agenda items"] += 1
    return meeting


def _decision(meeting, kind, text, result):
    decision = Decision.objects.filter(meeting=meeting, text=text).first()
    if decision is None:
        decision = meeting_services.decision_record(acting_user=SYSTEM, meeting=meeting, text=text, kind=kind)
        result.created["decisions"] += 1
    return decision


def _priorities(coalition, meetings, decisions, result):
    priorities = {}
    for spec in data.PRIORITIES:
        priority = PriorityPurchase.objects.filter(coalition=coalition, title=spec["title"]).first()
        if priority is None:
            priority = contribution_services.priority_create(
                acting_user=SYSTEM,
                coalition=coalition,
                title=spec["title"],
                description=spec["description"],
                category=spec["category"],
                rank=spec["rank"],
                estimated_cost_eur=Decimal(spec["cost"]),
                status="approved",
                approved_at_meeting=meetings["sg1"],
            )
            result.created["priority purchases"] += 1
        # Procurement moves one step at a time, each step in the history.
        while priority.status in PRIORITY_STEPS and PRIORITY_STEPS.index(priority.status) < PRIORITY_STEPS.index(
            spec["status"]
        ):
            next_status = PRIORITY_STEPS[PRIORITY_STEPS.index(priority.status) + 1]
            priority = contribution_services.priority_transition(
                acting_user=SYSTEM, priority=priority, to_status=next_status
            )
        for key in spec["decisions"]:
            _link(decisions[key], priorities=[priority])
        priorities[spec["key"]] = priority
    return priorities


def _pledges(coalition, members, meetings, decisions, result):
    pledges = {}
    for spec in data.PLEDGES:
        pledge = Pledge.objects.filter(coalition=coalition, external_ref=spec["ref"]).first()
        if pledge is None:
            written_after = timezone.now()
            pledge = contribution_services.pledge_create(
                acting_user=SYSTEM,
                coalition=coalition,
                member=members[spec["member"]],
                title=spec["title"],
                description=spec["description"],
                amount=Decimal(spec["amount"]),
                currency=spec["currency"],
                announced_on=spec["announced_on"],
                status="draft" if spec["status"] == "draft" else "announced",
                source=spec["source"],
                external_ref=spec["ref"],
            )
            _as_told(Pledge.history.filter(id=pledge.pk), written_after, _local(spec["announced_on"], 8))
            result.created["pledges"] += 1
        if spec["status"] == "confirmed" and pledge.status == "announced":
            meeting = meetings[spec["confirmed_at"]]
            written_after = timezone.now()
            pledge = contribution_services.pledge_confirm(acting_user=SYSTEM, pledge=pledge, meeting=meeting)
            # At the meeting, and never before the announcement (the same day's, at 8:00).
            confirmed = max(meeting.starts_at, _local(spec["announced_on"], 8))
            _as_told(Pledge.history.filter(id=pledge.pk), written_after, confirmed)
        for key in spec["decisions"]:
            _link(decisions[key], pledges=[pledge])
        pledges[spec["ref"]] = pledge
    return pledges


def _link(decision, *, pledges=(), priorities=()):
    missing_pledges = [p for p in pledges if not decision.pledges.filter(pk=p.pk).exists()]
    missing_priorities = [p for p in priorities if not decision.priorities.filter(pk=p.pk).exists()]
    if missing_pledges or missing_priorities:
        contribution_services.decision_link(
            acting_user=SYSTEM, decision=decision, pledges=missing_pledges, priorities=missing_priorities
        )


def _allocations(pledges, priorities, result):
    for ref, key, amount in data.ALLOCATIONS:
        pledge, priority = pledges[ref], priorities[key]
        if not Allocation.objects.filter(pledge=pledge, priority=priority).exists():
            contribution_services.allocation_set(
                acting_user=SYSTEM,
                pledge=pledge,
                priority=priority,
                amount_eur=Decimal(amount),
                note=data.ALLOCATION_NOTE,
            )
            result.created["allocations"] += 1


def _disbursements(pledges, result):
    for ref, reference, amount, day in data.DISBURSEMENTS:
        pledge = pledges[ref]
        if not Disbursement.objects.filter(pledge=pledge, reference=reference).exists():
            written_after = timezone.now()
            disbursement = contribution_services.disbursement_record(
                acting_user=SYSTEM,
                pledge=pledge,
                amount=Decimal(amount),
                date=day,
                reference=reference,
                note=data.DISBURSEMENT_NOTE,
            )
            for history in (Disbursement.history.filter(id=disbursement.pk), Pledge.history.filter(id=pledge.pk)):
                _as_told(history, written_after, _local(day, 12))
            result.created["disbursements"] += 1


def _close_meeting(meeting, members, spec, result):
    """Action items, then (for past meetings) held with approved minutes."""
    for text, owner, due_on, status in spec["action_items"]:
        item = ActionItem.objects.filter(meeting=meeting, text=text).first()
        if item is None:
            item = meeting_services.action_item_add(
                acting_user=SYSTEM, meeting=meeting, text=text, owner=members[owner], due_on=due_on
            )
            result.created["action items"] += 1
        if item.status != status and item.status == ActionItem.Status.OPEN:
            meeting_services.action_item_update(acting_user=SYSTEM, action_item=item, status=status)
    if not spec["held"]:
        return
    meeting.refresh_from_db()
    if meeting.status == Meeting.Status.PLANNED:
        meeting = meeting_services.meeting_mark_held(acting_user=SYSTEM, meeting=meeting)
    if meeting.minutes_status != Meeting.MinutesStatus.APPROVED:
        meeting_services.meeting_update(
            acting_user=SYSTEM, meeting=meeting, minutes_status=Meeting.MinutesStatus.APPROVED
        )


def _users(coalition, members, result):
    User = get_user_model()
    for username, role, code in data.USERS:
        user = User.objects.filter(username=username).first()
        email = f"{username}@example.org"
        if role == "superuser":
            if user is None:
                user = User.objects.create_superuser(username, email, data.DEMO_PASSWORD)
                result.created["users"] += 1
        else:
            # Granting again is harmless (no new rows) and repairs a missing role or coalition.
            user, created, _changes = coalition_services.role_grant(
                username=username,
                role=role,
                member=members[code] if code else None,
                coalitions=[coalition],
                password=data.DEMO_PASSWORD if user is None else None,
                email=email if user is None else None,
            )
            result.created["users"] += created
        # An existing account keeps its password: say so rather than print one that may not work.
        password = data.DEMO_PASSWORD if user.check_password(data.DEMO_PASSWORD) else "(changed, left as is)"
        result.logins.append(Login(username=username, role=role, member=code or "", password=password))
