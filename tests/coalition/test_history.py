"""History: who changed what and when, values before and after; stale versions refused as conflicts."""

import threading
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connections, transaction
from django.utils import timezone

from coalition.errors import ConflictError
from contributions import services
from contributions.models import Allocation, Disbursement, Pledge, PriorityPurchase
from meetings import services as meeting_services
from meetings.models import Meeting
from tests import factories


def _changes(record):
    """{field: (old, new)} between a history row and the one before it."""
    delta = record.diff_against(record.prev_record)
    return {change.field: (change.old, change.new) for change in delta.changes}


@pytest.fixture
def pledge(coalition, member_a, editor_a, rates):
    return factories.make_pledge(
        coalition=coalition,
        member=member_a,
        acting_user=editor_a,
        amount=Decimal("1000000.00"),
        currency="USD",
        status="confirmed",
    )


@pytest.mark.django_db
class TestHistoryRows:
    def test_pledge_create_update_delete(self, pledge, editor_a, secretariat):
        created = pledge.history.get()
        assert (created.history_type, created.history_user, created.title) == ("+", editor_a, "EE pledge")
        services.pledge_update(acting_user=secretariat, pledge=pledge, version=1, amount=Decimal("2176600.00"))
        updated = pledge.history.latest()
        assert (updated.history_type, updated.history_user) == ("~", secretariat)
        changes = _changes(updated)
        assert changes["amount"] == (Decimal("1000000.00"), Decimal("2176600.00"))
        assert changes["amount_eur"] == (Decimal("918864.28"), Decimal("2000000.00"))
        assert changes["version"] == (1, 2)
        assert "title" not in changes
        services.pledge_delete(acting_user=editor_a, pledge=pledge, version=2)
        deleted = Pledge.history.filter(id=pledge.pk).latest()
        assert (deleted.history_type, deleted.history_user, deleted.amount) == ("-", editor_a, Decimal("2176600.00"))

    def test_pledge_transition_records_status_before_and_after(self, coalition, member_a, editor_a, secretariat):
        pledge = factories.make_pledge(coalition=coalition, member=member_a, status="announced")
        services.pledge_withdraw(acting_user=secretariat, pledge=pledge)
        record = pledge.history.latest()
        assert record.history_user == secretariat
        assert _changes(record)["status"] == ("announced", "withdrawn")

    def test_disbursement_create_update_delete(self, pledge, editor_a, secretariat):
        disbursement = services.disbursement_record(
            acting_user=editor_a, pledge=pledge, amount=Decimal("100.00"), date=date(2024, 3, 1)
        )
        assert disbursement.history.get().history_user == editor_a
        # The pledge's side of it: its running total and status, by the same user.
        pledge_record = pledge.history.latest()
        assert pledge_record.history_user == editor_a
        assert _changes(pledge_record)["status"] == ("confirmed", "disbursing")
        assert _changes(pledge_record)["disbursed_amount"] == (Decimal("0.00"), Decimal("100.00"))

        services.disbursement_update(
            acting_user=secretariat, disbursement=disbursement, version=1, amount=Decimal("150.00")
        )
        updated = disbursement.history.latest()
        assert updated.history_user == secretariat
        assert _changes(updated)["amount"] == (Decimal("100.00"), Decimal("150.00"))

        services.disbursement_delete(acting_user=secretariat, disbursement=disbursement, version=2)
        deleted = Disbursement.history.filter(id=disbursement.pk).latest()
        assert (deleted.history_type, deleted.history_user) == ("-", secretariat)
        assert _changes(pledge.history.latest())["status"] == ("disbursing", "confirmed")

    def test_allocation_create_update_delete(self, coalition, pledge, secretariat, admin_user):
        priority = services.priority_create(
            acting_user=secretariat, coalition=coalition, title="Laptops", estimated_cost_eur=Decimal("10000.00")
        )
        allocation = services.allocation_set(
            acting_user=secretariat, pledge=pledge, priority=priority, amount_eur=Decimal("100.00")
        )
        assert allocation.history.get().history_user == secretariat
        services.allocation_set(
            acting_user=admin_user, pledge=pledge, priority=priority, amount_eur=Decimal("250.00"), version=1
        )
        updated = allocation.history.latest()
        assert updated.history_user == admin_user
        assert _changes(updated)["amount_eur"] == (Decimal("100.00"), Decimal("250.00"))
        services.allocation_delete(acting_user=secretariat, allocation=allocation)
        deleted = Allocation.history.filter(id=allocation.pk).latest()
        assert (deleted.history_type, deleted.history_user, deleted.amount_eur) == ("-", secretariat, Decimal("250.00"))

    def test_priority_create_update_transition_delete(self, coalition, secretariat):
        priority = services.priority_create(
            acting_user=secretariat, coalition=coalition, title="Laptops", estimated_cost_eur=Decimal("10000.00")
        )
        assert priority.history.get().history_user == secretariat
        services.priority_update(acting_user=secretariat, priority=priority, version=1, title="Rugged laptops")
        assert _changes(priority.history.latest())["title"] == ("Laptops", "Rugged laptops")
        services.priority_transition(acting_user=secretariat, priority=priority, to_status="approved", version=2)
        assert _changes(priority.history.latest())["status"] == ("proposed", "approved")
        services.priority_delete(acting_user=secretariat, priority=priority, version=3)
        deleted = PriorityPurchase.history.filter(id=priority.pk).latest()
        assert (deleted.history_type, deleted.history_user) == ("-", secretariat)

    def test_meeting_create_update_held_delete(self, coalition, secretariat):
        meeting = meeting_services.meeting_create(
            acting_user=secretariat, coalition=coalition, title="SG", starts_at=timezone.now() - timedelta(hours=2)
        )
        assert meeting.history.get().history_user == secretariat
        meeting_services.meeting_update(acting_user=secretariat, meeting=meeting, version=1, location="Tallinn")
        assert _changes(meeting.history.latest())["location"] == ("", "Tallinn")
        meeting_services.meeting_mark_held(acting_user=secretariat, meeting=meeting, version=2)
        held = meeting.history.latest()
        assert _changes(held)["status"] == ("planned", "held")
        assert held.history_user == secretariat
        mistake = meeting_services.meeting_create(
            acting_user=secretariat, coalition=coalition, title="Typo", starts_at=timezone.now()
        )
        meeting_services.meeting_delete(acting_user=secretariat, meeting=mistake)
        deleted = Meeting.history.filter(id=mistake.pk).latest()
        assert (deleted.history_type, deleted.history_user) == ("-", secretariat)

    def test_history_survives_the_record(self, coalition, member_a, secretariat):
        pledge = factories.make_pledge(coalition=coalition, member=member_a, acting_user=secretariat)
        pk = pledge.pk
        services.pledge_delete(acting_user=secretariat, pledge=pledge)
        assert [row.history_type for row in Pledge.history.filter(id=pk).order_by("history_date")] == ["+", "-"]


# --- Stale versions ------------------------------------------------------------------------------


def _stale_cases(coalition, pledge, secretariat):
    """(record, update(version)) pairs: each update bumps the record's version when it succeeds."""
    disbursement = services.disbursement_record(
        acting_user=None, pledge=pledge, amount=Decimal("1.00"), date=date(2024, 3, 1)
    )
    priority = services.priority_create(
        acting_user=None, coalition=coalition, title="Laptops", estimated_cost_eur=Decimal("10000.00")
    )
    allocation = services.allocation_set(acting_user=None, pledge=pledge, priority=priority, amount_eur=Decimal("1.00"))
    meeting = meeting_services.meeting_create(
        acting_user=None, coalition=coalition, title="SG", starts_at=timezone.now()
    )
    item = meeting_services.action_item_add(acting_user=None, meeting=meeting, text="Buy")
    pledge.refresh_from_db()
    return {
        "pledge": (
            pledge,
            lambda v, text: services.pledge_update(acting_user=secretariat, pledge=pledge, version=v, title=text),
        ),
        "disbursement": (
            disbursement,
            lambda v, text: services.disbursement_update(
                acting_user=secretariat, disbursement=disbursement, version=v, reference=text
            ),
        ),
        "allocation": (
            allocation,
            lambda v, text: services.allocation_set(
                acting_user=secretariat,
                pledge=pledge,
                priority=priority,
                amount_eur=Decimal("1.00"),
                note=text,
                version=v,
            ),
        ),
        "priority": (
            priority,
            lambda v, text: services.priority_update(acting_user=secretariat, priority=priority, version=v, title=text),
        ),
        "meeting": (
            meeting,
            lambda v, text: meeting_services.meeting_update(
                acting_user=secretariat, meeting=meeting, version=v, title=text
            ),
        ),
        "action_item": (
            item,
            lambda v, text: meeting_services.action_item_update(
                acting_user=secretariat, action_item=item, version=v, text=text
            ),
        ),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["pledge", "disbursement", "allocation", "priority", "meeting", "action_item"])
def test_a_stale_version_is_refused_and_nothing_is_written(coalition, pledge, secretariat, kind):
    record, update = _stale_cases(coalition, pledge, secretariat)[kind]
    record.refresh_from_db()
    read_version = record.version
    update(read_version, "first edit")
    record.refresh_from_db()
    assert record.version == read_version + 1
    rows_before = record.history.count()

    with pytest.raises(ConflictError) as excinfo:
        update(read_version, "second edit from a stale page")

    assert excinfo.value.current_version == read_version + 1
    assert "changed by someone else" in str(excinfo.value)
    record.refresh_from_db()
    assert record.version == read_version + 1
    assert record.history.count() == rows_before
    assert "second edit" not in str(record.history.latest().instance.__dict__)


# --- Real concurrency on PostgreSQL --------------------------------------------------------------


def _run_in_thread(target):
    """Run ``target`` on its own database connection; keep what it returned or raised."""
    outcome = {}

    def run():
        try:
            outcome["result"] = target()
        except Exception as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_update_with_the_old_version_gets_a_conflict(coalition, member_a, secretariat, editor_a):
    pledge = factories.make_pledge(coalition=coalition, member=member_a, status="announced")
    first_holds_the_lock = threading.Event()
    let_first_commit = threading.Event()

    def first():
        with transaction.atomic():
            services.pledge_update(acting_user=secretariat, pledge=pledge, version=1, title="Secretariat's title")
            first_holds_the_lock.set()
            assert let_first_commit.wait(10)
        return "committed"

    def second():
        assert first_holds_the_lock.wait(10)
        return services.pledge_update(acting_user=editor_a, pledge=pledge, version=1, title="Editor's title")

    first_thread, first_outcome = _run_in_thread(first)
    second_thread, second_outcome = _run_in_thread(second)
    assert first_holds_the_lock.wait(10)
    time.sleep(0.5)
    # The second writer waits on the row lock instead of reading the row before the first commits.
    assert second_thread.is_alive()
    let_first_commit.set()
    first_thread.join(10)
    second_thread.join(10)

    assert first_outcome == {"result": "committed"}
    assert isinstance(second_outcome.get("error"), ConflictError), second_outcome
    assert second_outcome["error"].current_version == 2
    pledge.refresh_from_db()
    assert (pledge.title, pledge.version) == ("Secretariat's title", 2)
    assert [row.history_user for row in pledge.history.filter(history_type="~")] == [secretariat]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_disbursements_never_exceed_the_pledge(coalition, member_a, secretariat, editor_a):
    """Each payment fits alone, not both: the pledge row lock makes the second see the first."""
    pledge = factories.make_pledge(coalition=coalition, member=member_a, status="confirmed", amount=Decimal("100.00"))
    start = threading.Barrier(2)

    def pay(user):
        def run():
            start.wait(10)
            return services.disbursement_record(
                acting_user=user, pledge=pledge, amount=Decimal("60.00"), date=date(2024, 3, 1)
            )

        return run

    threads = [_run_in_thread(pay(secretariat)), _run_in_thread(pay(editor_a))]
    for thread, _outcome in threads:
        thread.join(20)
    outcomes = [outcome for _thread, outcome in threads]
    assert sorted("result" in outcome for outcome in outcomes) == [False, True], outcomes
    refused = next(outcome["error"] for outcome in outcomes if "error" in outcome)
    assert "more than the pledged" in str(refused)
    pledge.refresh_from_db()
    assert (pledge.disbursed_amount, pledge.status) == (Decimal("60.00"), "disbursing")
    assert Disbursement.objects.filter(pledge=pledge).count() == 1
