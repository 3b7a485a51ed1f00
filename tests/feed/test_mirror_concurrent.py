"""The change feed's promise on PostgreSQL: a mirror client that follows the feed while writers commit
random creates, updates, transitions, deletions and seat changes in concurrent transactions (and out
of order: a transaction that starts first may commit last) ends equal to a fresh listing, for every
role, with no event handed out twice."""

import random
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction

from coalition import outbox
from coalition import services as coalition_services
from coalition.models import Change, Coalition, Member, Seat
from contributions import services as contribution_services
from contributions.models import Allocation, Pledge, PriorityPurchase
from meetings import services as meeting_services
from meetings.models import Meeting
from tests import factories
from tests.feed.mirror import Mirror, full_listing

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

OPERATIONS = 1000
WRITERS = 3
ROLES = ("secretariat", "editor_a", "editor_b", "steering", "partner", "floating")


class Writer:
    """Random writes through the services, each in its own transaction, some held open a little
    (a sleep inside the transaction) so that commits land out of the order transactions began in."""

    def __init__(self, seed, coalition_id, members, floating_id, counts):
        self.rng = random.Random(seed)
        self.coalition_id = coalition_id
        self.members = members
        self.floating_id = floating_id
        self.counts = counts

    def pick(self, queryset):
        ids = list(queryset.values_list("pk", flat=True)[:50])
        return queryset.model.objects.get(pk=self.rng.choice(ids)) if ids else None

    def run(self, operations):
        try:
            done = 0
            while done < operations:
                name = self.rng.choice(OPS)
                try:
                    with transaction.atomic():
                        if self.rng.random() < 0.2:
                            time.sleep(self.rng.uniform(0, 0.02))
                        if name(self) is False:
                            continue
                        if self.rng.random() < 0.2:
                            time.sleep(self.rng.uniform(0, 0.02))
                # A record another writer deleted meanwhile (any model's DoesNotExist) is a refusal too.
                except (ValidationError, PermissionDenied, DatabaseError, ObjectDoesNotExist):
                    self.counts["refused"] += 1
                    continue
                self.counts[name.__name__] = self.counts.get(name.__name__, 0) + 1
                done += 1
        finally:
            connection.close()

    @property
    def coalition(self):
        return Coalition.objects.get(pk=self.coalition_id)

    def pledges(self, **filters):
        return Pledge.objects.filter(coalition_id=self.coalition_id, **filters)

    def create_pledge(self):
        factories.make_pledge(
            coalition=self.coalition,
            member=Member.objects.get(pk=self.rng.choice(self.members)),
            status=self.rng.choice(["draft", "draft", "announced", "confirmed"]),
            amount=Decimal(self.rng.randint(1000, 90000)),
            currency=self.rng.choice(["EUR", "USD"]),
            title=f"Pledge {self.rng.randint(1, 10**6)}",
        )

    def update_pledge(self):
        pledge = self.pick(self.pledges(status__in=["draft", "announced", "confirmed"]))
        if pledge is None:
            return False
        contribution_services.pledge_update(acting_user=None, pledge=pledge, title=f"Renamed {self.rng.random():.6f}")

    def announce(self):
        pledge = self.pick(self.pledges(status="draft"))
        if pledge is None:
            return False
        contribution_services.pledge_announce(acting_user=None, pledge=pledge)

    def confirm(self):
        pledge = self.pick(self.pledges(status="announced"))
        if pledge is None:
            return False
        contribution_services.pledge_confirm(acting_user=None, pledge=pledge, on_date=date(2024, 3, 1))

    def withdraw(self):
        pledge = self.pick(self.pledges(status__in=["draft", "announced"]))
        if pledge is None:
            return False
        contribution_services.pledge_withdraw(acting_user=None, pledge=pledge)

    def delete_pledge(self):
        pledge = self.pick(self.pledges(disbursements__isnull=True))
        if pledge is None:
            return False
        contribution_services.pledge_delete(acting_user=None, pledge=pledge)

    def disburse(self):
        pledge = self.pick(self.pledges(status__in=["confirmed", "disbursing"]))
        if pledge is None:
            return False
        contribution_services.disbursement_record(
            acting_user=None, pledge=pledge, amount=Decimal("10.00"), date=date(2024, 4, 1)
        )

    def priority(self):
        if self.rng.random() < 0.5 or not PriorityPurchase.objects.filter(coalition_id=self.coalition_id).exists():
            contribution_services.priority_create(
                acting_user=None, coalition=self.coalition, title="Servers", estimated_cost_eur=Decimal(50000)
            )
            return None
        priority = self.pick(PriorityPurchase.objects.filter(coalition_id=self.coalition_id, allocations__isnull=True))
        if priority is None:
            return False
        contribution_services.priority_delete(acting_user=None, priority=priority)

    def allocate(self):
        allocation = self.pick(Allocation.objects.filter(pledge__coalition_id=self.coalition_id))
        if allocation is not None and self.rng.random() < 0.4:
            contribution_services.allocation_delete(acting_user=None, allocation=allocation)
            return None
        pledge = self.pick(self.pledges(status__in=["draft", "announced", "confirmed"]))
        priority = self.pick(PriorityPurchase.objects.filter(coalition_id=self.coalition_id, status="proposed"))
        if pledge is None or priority is None:
            return False
        contribution_services.allocation_set(acting_user=None, pledge=pledge, priority=priority, amount_eur=Decimal(1))

    def meeting(self):
        meeting = self.pick(Meeting.objects.filter(coalition_id=self.coalition_id, status="planned"))
        if meeting is None or self.rng.random() < 0.3:
            meeting_services.meeting_create(
                acting_user=None,
                coalition=self.coalition,
                title="Expert group",
                starts_at=datetime(2024, 2, 2, 9, tzinfo=UTC) + timedelta(days=self.rng.randint(0, 300)),
            )
            return None
        choice = self.rng.random()
        if choice < 0.3:
            decision = meeting_services.decision_record(acting_user=None, meeting=meeting, text="Agreed")
            pledge = self.pick(self.pledges())
            if pledge is not None:
                contribution_services.decision_link(acting_user=None, decision=decision, pledges=[pledge])
        elif choice < 0.6:
            meeting_services.action_item_add(acting_user=None, meeting=meeting, text="Follow up")
        elif choice < 0.8:
            meeting_services.meeting_mark_held(acting_user=None, meeting=meeting)
        else:
            meeting_services.meeting_delete(acting_user=None, meeting=meeting)

    def seat_change(self):
        user = Seat.objects.model.user.field.related_model.objects.get(pk=self.floating_id)
        role = self.rng.choice(["partner", "steering", "member-editor", None])
        if role is None:
            coalition_services.seat_remove(acting_user=None, user=user, coalition=self.coalition)
        else:
            member = Member.objects.get(pk=self.members[0]) if role == "member-editor" else None
            coalition_services.seat_set(acting_user=None, user=user, coalition=self.coalition, role=role, member=member)


OPS = [
    Writer.create_pledge,
    Writer.create_pledge,
    Writer.update_pledge,
    Writer.announce,
    Writer.confirm,
    Writer.withdraw,
    Writer.delete_pledge,
    Writer.disburse,
    Writer.priority,
    Writer.allocate,
    Writer.meeting,
    Writer.seat_change,
]


def test_mirrors_follow_concurrent_writers_and_equal_a_fresh_listing_for_every_role(
    personas, coalition, member_a, member_b, rates, monkeypatch
):
    # The report emails and webhooks the writes ask for are not what is tested here: their outbox rows
    # are written (in the writers' transactions, as always) but not run, so the writers stay quick.
    monkeypatch.setattr(outbox, "dispatch", lambda ids: 0)
    floating = factories.persona("floating", "partner", coalitions=[coalition])
    users = {**personas, "floating": floating}
    mirrors = {role: Mirror(users[role]) for role in ROLES}
    counts = {"refused": 0}
    writers = [Writer(seed, coalition.pk, [member_a.pk, member_b.pk], floating.pk, counts) for seed in range(WRITERS)]
    threads = [threading.Thread(target=w.run, args=(OPERATIONS // WRITERS + 1,)) for w in writers]
    done = threading.Event()
    syncs = {"count": 0}
    failures = []

    def follow():
        try:
            while not done.is_set():
                for mirror in mirrors.values():
                    mirror.sync(limit=200)
                syncs["count"] += 1
                time.sleep(0.2)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)
        finally:
            connection.close()

    follower = threading.Thread(target=follow)
    started = time.monotonic()
    follower.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    follower.join()
    assert failures == []
    operations = sum(n for name, n in counts.items() if name != "refused")
    print(
        f"\n{operations} operations ({counts}) in {time.monotonic() - started:.1f} s, "
        f"{syncs['count']} rounds of syncing all {len(mirrors)} mirrors meanwhile, {Change.objects.count()} changes"
    )
    assert operations >= OPERATIONS
    assert counts.get("seat_change", 0) > 0 and counts.get("delete_pledge", 0) > 0
    for role, mirror in mirrors.items():
        mirror.sync()
        listing = full_listing(users[role])
        differences = {
            (resource, key)
            for resource in listing
            for key in set(listing[resource]) | set(mirror.records[resource])
            if listing[resource].get(key) != mirror.records[resource].get(key)
        }
        assert len(mirror.seen) == len(set(mirror.seen)), role
        assert differences == set(), role
    assert mirrors["partner"].records["pledge"] != mirrors["secretariat"].records["pledge"]
