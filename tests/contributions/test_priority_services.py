"""Priority purchase services: ranks unique among active priorities, rerank, procurement transitions."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from coalition.errors import ConflictError
from contributions import services
from contributions.models import PriorityPurchase
from meetings import services as meeting_services
from tests import factories

P = PriorityPurchase.Status
pytestmark = pytest.mark.django_db


def _create(coalition, title, user=None, **extra):
    extra.setdefault("estimated_cost_eur", Decimal("1000000.00"))
    return services.priority_create(acting_user=user, coalition=coalition, title=title, **extra)


def _ranks(coalition):
    return list(
        PriorityPurchase.objects.filter(coalition=coalition, status__in=PriorityPurchase.ACTIVE)
        .order_by("rank")
        .values_list("title", "rank")
    )


@pytest.fixture
def three(coalition, secretariat):
    return [_create(coalition, title, secretariat) for title in ("Servers", "Laptops", "Firewalls")]


def test_new_priorities_go_to_the_end_of_the_list(coalition, three):
    assert _ranks(coalition) == [("Servers", 1), ("Laptops", 2), ("Firewalls", 3)]


def test_an_explicit_rank_already_taken_is_refused(coalition, three, secretariat):
    with pytest.raises(ValidationError) as excinfo:
        _create(coalition, "Radios", secretariat, rank=2)
    assert "rank" in str(excinfo.value)
    assert PriorityPurchase.objects.count() == 3


def test_ranks_are_per_coalition(coalition, other_coalition, three):
    other = _create(other_coalition, "Radios", rank=1)
    assert other.rank == 1


def test_a_dropped_priority_frees_its_rank(coalition, three, secretariat):
    services.priority_transition(acting_user=secretariat, priority=three[0], to_status=P.DROPPED)
    assert _ranks(coalition) == [("Laptops", 1), ("Firewalls", 2)]
    # The freed numbers are reusable, while the dropped one keeps its old rank outside the constraint.
    assert _create(coalition, "Radios", secretariat).rank == 3
    three[0].refresh_from_db()
    assert (three[0].status, three[0].rank) == (P.DROPPED, 1)


def test_a_delivered_priority_leaves_the_ranking(coalition, three, secretariat):
    laptops = three[1]
    for status in (P.APPROVED, P.IN_PROCUREMENT, P.CONTRACTED, P.DELIVERED):
        laptops = services.priority_transition(acting_user=secretariat, priority=laptops, to_status=status)
    assert _ranks(coalition) == [("Servers", 1), ("Firewalls", 2)]


@pytest.mark.parametrize("status", [P.IN_PROCUREMENT, P.CONTRACTED, P.DELIVERED, P.DROPPED])
def test_a_new_priority_is_proposed_or_approved(coalition, secretariat, status):
    with pytest.raises(ValidationError) as excinfo:
        _create(coalition, "Radios", secretariat, status=status)
    assert "status" in excinfo.value.message_dict


def test_a_new_approved_priority(coalition, secretariat):
    assert _create(coalition, "Radios", secretariat, status=P.APPROVED).status == P.APPROVED


@pytest.mark.parametrize("cost", [Decimal("0"), Decimal("-1.00"), Decimal("1.001")])
def test_estimated_cost_is_positive_with_two_places(coalition, secretariat, cost):
    with pytest.raises(ValidationError) as excinfo:
        _create(coalition, "Radios", secretariat, estimated_cost_eur=cost)
    assert "estimated_cost_eur" in excinfo.value.message_dict


def test_approved_at_another_coalitions_meeting_is_refused(coalition, other_coalition, secretariat):
    meeting = meeting_services.meeting_create(
        acting_user=None, coalition=other_coalition, title="Other", starts_at=timezone.now()
    )
    with pytest.raises(ValidationError) as excinfo:
        _create(coalition, "Radios", secretariat, approved_at_meeting=meeting)
    assert "approved_at_meeting" in excinfo.value.message_dict
    priority = _create(coalition, "Radios", secretariat)
    with pytest.raises(ValidationError):
        services.priority_transition(acting_user=secretariat, priority=priority, to_status=P.APPROVED, meeting=meeting)
    priority.refresh_from_db()
    assert (priority.status, priority.approved_at_meeting) == (P.PROPOSED, None)


def test_approval_at_a_meeting_is_recorded(coalition, secretariat):
    meeting = meeting_services.meeting_create(
        acting_user=None, coalition=coalition, title="SG", starts_at=timezone.now()
    )
    priority = _create(coalition, "Radios", secretariat)
    services.priority_transition(acting_user=secretariat, priority=priority, to_status=P.APPROVED, meeting=meeting)
    priority.refresh_from_db()
    assert (priority.status, priority.approved_at_meeting) == (P.APPROVED, meeting)


# --- Transitions ---------------------------------------------------------------------------------


def test_procurement_moves_forward_one_step_at_a_time(coalition, secretariat):
    priority = _create(coalition, "Radios", secretariat)
    for status in (P.APPROVED, P.IN_PROCUREMENT, P.CONTRACTED, P.DELIVERED):
        priority = services.priority_transition(
            acting_user=secretariat, priority=priority, to_status=status, version=priority.version
        )
        priority.refresh_from_db()
        assert priority.status == status


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ((), P.IN_PROCUREMENT),
        ((), P.DELIVERED),
        ((P.APPROVED,), P.PROPOSED),
        ((P.APPROVED,), P.CONTRACTED),
        ((P.APPROVED, P.IN_PROCUREMENT, P.CONTRACTED, P.DELIVERED), P.DROPPED),
        ((P.DROPPED,), P.PROPOSED),
        ((P.DROPPED,), P.APPROVED),
        ((), "bought"),
    ],
)
def test_refused_priority_transitions(coalition, secretariat, path, target):
    priority = _create(coalition, "Radios", secretariat)
    for status in path:
        priority = services.priority_transition(acting_user=secretariat, priority=priority, to_status=status)
    with pytest.raises(ValidationError) as excinfo:
        services.priority_transition(acting_user=secretariat, priority=priority, to_status=target)
    assert "status" in excinfo.value.message_dict
    priority.refresh_from_db()
    assert priority.status == (path[-1] if path else P.PROPOSED)


@pytest.mark.parametrize(
    "path", [(), (P.APPROVED,), (P.APPROVED, P.IN_PROCUREMENT), (P.APPROVED, P.IN_PROCUREMENT, P.CONTRACTED)]
)
def test_any_active_priority_may_be_dropped(coalition, secretariat, path):
    priority = _create(coalition, "Radios", secretariat)
    for status in path:
        priority = services.priority_transition(acting_user=secretariat, priority=priority, to_status=status)
    services.priority_transition(acting_user=secretariat, priority=priority, to_status=P.DROPPED)
    priority.refresh_from_db()
    assert priority.status == P.DROPPED


def test_stale_version_transition_is_a_conflict(coalition, secretariat):
    priority = _create(coalition, "Radios", secretariat)
    services.priority_update(acting_user=secretariat, priority=priority, version=1, title="Radio sets")
    with pytest.raises(ConflictError):
        services.priority_transition(acting_user=secretariat, priority=priority, to_status=P.APPROVED, version=1)


# --- Update --------------------------------------------------------------------------------------


def test_update_changes_fields_and_the_version(coalition, secretariat):
    priority = _create(coalition, "Radios", secretariat)
    services.priority_update(
        acting_user=secretariat, priority=priority, version=1, category="Comms", estimated_cost_eur=Decimal("5.00")
    )
    priority.refresh_from_db()
    assert (priority.category, priority.estimated_cost_eur, priority.version) == ("Comms", Decimal("5.00"), 2)


@pytest.mark.parametrize("field", ["rank", "status", "coalition"])
def test_update_refuses_rank_status_and_coalition(coalition, secretariat, field):
    priority = _create(coalition, "Radios", secretariat)
    with pytest.raises(ValidationError) as excinfo:
        services.priority_update(acting_user=secretariat, priority=priority, **{field: 5})
    assert field in excinfo.value.message_dict


def test_update_validates_the_cost(coalition, secretariat):
    priority = _create(coalition, "Radios", secretariat)
    with pytest.raises(ValidationError):
        services.priority_update(acting_user=secretariat, priority=priority, estimated_cost_eur=Decimal("0"))


# --- Rerank --------------------------------------------------------------------------------------


def test_rerank_renumbers_in_the_given_order(coalition, three, secretariat):
    servers, laptops, firewalls = three
    services.priority_rerank(
        acting_user=secretariat, coalition=coalition, ordered_ids=[firewalls.pk, servers.pk, laptops.pk]
    )
    assert _ranks(coalition) == [("Firewalls", 1), ("Servers", 2), ("Laptops", 3)]
    firewalls.refresh_from_db()
    assert firewalls.version == 2
    assert firewalls.history.latest().history_user == secretariat


def test_rerank_rewrites_only_the_priorities_that_move(coalition, three, secretariat):
    servers, laptops, firewalls = three
    services.priority_rerank(
        acting_user=secretariat, coalition=coalition, ordered_ids=[servers.pk, firewalls.pk, laptops.pk]
    )
    assert _ranks(coalition) == [("Servers", 1), ("Firewalls", 2), ("Laptops", 3)]
    servers.refresh_from_db()
    assert (servers.version, servers.history.count()) == (1, 1)
    assert laptops.history.count() == 2


def test_rerank_accepts_ids_as_strings(coalition, three, secretariat):
    services.priority_rerank(
        acting_user=secretariat, coalition=coalition, ordered_ids=[str(p.pk) for p in reversed(three)]
    )
    assert [title for title, _rank in _ranks(coalition)] == ["Firewalls", "Laptops", "Servers"]


@pytest.mark.parametrize(
    "order",
    [
        lambda s, lap, f: [s.pk, lap.pk],  # one missing
        lambda s, lap, f: [s.pk, lap.pk, f.pk, f.pk],  # a duplicate
        lambda s, lap, f: [s.pk, lap.pk, f.pk, 999999],  # a stranger
    ],
    ids=["missing", "duplicate", "unknown"],
)
def test_rerank_needs_every_active_priority_once(coalition, three, secretariat, order):
    with pytest.raises(ValidationError) as excinfo:
        services.priority_rerank(acting_user=secretariat, coalition=coalition, ordered_ids=order(*three))
    assert "ordered_ids" in excinfo.value.message_dict
    assert _ranks(coalition) == [("Servers", 1), ("Laptops", 2), ("Firewalls", 3)]


def test_rerank_leaves_out_inactive_priorities(coalition, three, secretariat):
    servers, laptops, firewalls = three
    services.priority_transition(acting_user=secretariat, priority=servers, to_status=P.DROPPED)
    with pytest.raises(ValidationError):
        services.priority_rerank(
            acting_user=secretariat, coalition=coalition, ordered_ids=[servers.pk, laptops.pk, firewalls.pk]
        )
    services.priority_rerank(acting_user=secretariat, coalition=coalition, ordered_ids=[firewalls.pk, laptops.pk])
    assert _ranks(coalition) == [("Firewalls", 1), ("Laptops", 2)]


def test_rerank_of_another_coalitions_priorities_is_refused(coalition, other_coalition, three, secretariat):
    other = _create(other_coalition, "Radios")
    with pytest.raises(ValidationError):
        services.priority_rerank(acting_user=None, coalition=coalition, ordered_ids=[other.pk, *(p.pk for p in three)])


# --- Delete --------------------------------------------------------------------------------------


def test_delete_closes_the_rank_gap(coalition, three, secretariat):
    services.priority_delete(acting_user=secretariat, priority=three[0], version=1)
    assert _ranks(coalition) == [("Laptops", 1), ("Firewalls", 2)]


def test_a_priority_with_allocations_cannot_be_deleted(coalition, member_a, three, secretariat):
    pledge = factories.make_pledge(coalition=coalition, member=member_a, status="announced")
    services.allocation_set(acting_user=secretariat, pledge=pledge, priority=three[0], amount_eur=Decimal("1.00"))
    with pytest.raises(ValidationError) as excinfo:
        services.priority_delete(acting_user=secretariat, priority=three[0])
    assert "drop it" in str(excinfo.value)
    assert PriorityPurchase.objects.filter(pk=three[0].pk).exists()


# --- Decisions -----------------------------------------------------------------------------------


def test_decision_links_its_own_coalitions_records_only(coalition, other_coalition, member_a, secretariat):
    meeting = meeting_services.meeting_create(
        acting_user=None, coalition=coalition, title="SG", starts_at=timezone.now()
    )
    decision = meeting_services.decision_record(acting_user=None, meeting=meeting, text="Priorities set")
    priority = _create(coalition, "Radios")
    pledge = factories.make_pledge(coalition=coalition, member=member_a)
    services.decision_link(acting_user=secretariat, decision=decision, pledges=[pledge], priorities=[priority])
    assert list(decision.pledges.all()) == [pledge]
    assert list(decision.priorities.all()) == [priority]
    foreign = _create(other_coalition, "Other radios")
    with pytest.raises(ValidationError):
        services.decision_link(acting_user=secretariat, decision=decision, priorities=[foreign])
    assert list(decision.priorities.all()) == [priority]


# --- Database constraints ------------------------------------------------------------------------


def _raw(coalition, rank, status=P.PROPOSED, cost=Decimal("1.00")):
    return PriorityPurchase.objects.create(
        coalition=coalition, title=f"#{rank}", rank=rank, status=status, estimated_cost_eur=cost
    )


@pytest.mark.parametrize("status", PriorityPurchase.ACTIVE)
def test_database_refuses_a_duplicate_active_rank(coalition, status):
    _raw(coalition, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw(coalition, 1, status=status)
    assert PriorityPurchase.objects.count() == 1


@pytest.mark.parametrize("status", [P.DELIVERED, P.DROPPED])
def test_database_allows_inactive_priorities_to_share_a_rank(coalition, status):
    _raw(coalition, 1)
    _raw(coalition, 1, status=status)
    _raw(coalition, 1, status=status)
    assert PriorityPurchase.objects.count() == 3


@pytest.mark.parametrize(("rank", "cost"), [(0, Decimal("1.00")), (1, Decimal("0")), (1, Decimal("-1.00"))])
def test_database_refuses_rank_zero_and_non_positive_cost(coalition, rank, cost):
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw(coalition, rank, cost=cost)
    assert not PriorityPurchase.objects.exists()
