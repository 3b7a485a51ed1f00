"""Allocation services: a pledge's allocations never exceed its EUR value and stay in its coalition."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from coalition.errors import ConflictError
from contributions import services
from contributions.models import Allocation, Pledge
from tests import factories

S = Pledge.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def pledge(coalition, member_a):
    """An announced EUR 1,000 pledge of member A."""
    return factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal("1000.00"), status="announced")


def _priority(coalition, title="Laptops", cost=Decimal("5000.00")):
    return services.priority_create(acting_user=None, coalition=coalition, title=title, estimated_cost_eur=cost)


@pytest.fixture
def laptops(coalition):
    return _priority(coalition, "Laptops")


@pytest.fixture
def servers(coalition):
    return _priority(coalition, "Servers")


def _allocate(pledge, priority, amount, user=None, **extra):
    return services.allocation_set(acting_user=user, pledge=pledge, priority=priority, amount_eur=amount, **extra)


def test_allocating_part_of_a_pledge(pledge, laptops, secretariat):
    allocation = _allocate(pledge, laptops, Decimal("400.00"), secretariat, note="Batch 1")
    allocation.refresh_from_db()
    assert (allocation.amount_eur, allocation.note, allocation.version) == (Decimal("400.00"), "Batch 1", 1)


def test_allocations_of_a_pledge_add_up_to_at_most_its_eur_value(pledge, laptops, servers, secretariat):
    _allocate(pledge, laptops, Decimal("600.00"), secretariat)
    with pytest.raises(ValidationError) as excinfo:
        _allocate(pledge, servers, Decimal("400.01"), secretariat)
    assert "400.00" in str(excinfo.value)  # the free part is named
    assert not servers.allocations.exists()
    _allocate(pledge, servers, Decimal("400.00"), secretariat)
    assert sum(a.amount_eur for a in Allocation.objects.filter(pledge=pledge)) == Decimal("1000.00")


def test_the_limit_is_the_eur_value_not_the_amount(coalition, member_a, laptops, secretariat, rates):
    usd = factories.make_pledge(
        coalition=coalition, member=member_a, amount=Decimal("1088.30"), currency="USD", status="confirmed"
    )
    assert usd.amount_eur == Decimal("1000.00")
    with pytest.raises(ValidationError):
        _allocate(usd, laptops, Decimal("1000.01"), secretariat)
    _allocate(usd, laptops, Decimal("1000.00"), secretariat)


def test_setting_again_changes_the_allocation_instead_of_adding(pledge, laptops, secretariat):
    first = _allocate(pledge, laptops, Decimal("900.00"), secretariat)
    second = _allocate(pledge, laptops, Decimal("1000.00"), secretariat, version=1)
    assert first.pk == second.pk
    second.refresh_from_db()
    assert (second.amount_eur, second.version) == (Decimal("1000.00"), 2)
    assert Allocation.objects.count() == 1


def test_changing_an_allocation_with_a_stale_version_is_a_conflict(pledge, laptops, secretariat):
    _allocate(pledge, laptops, Decimal("100.00"), secretariat)
    _allocate(pledge, laptops, Decimal("200.00"), secretariat, version=1)
    with pytest.raises(ConflictError):
        _allocate(pledge, laptops, Decimal("300.00"), secretariat, version=1)
    assert Allocation.objects.get().amount_eur == Decimal("200.00")


def test_allocation_across_coalitions_is_refused(pledge, other_coalition, secretariat):
    foreign = _priority(other_coalition, "Someone else's radios")
    with pytest.raises(ValidationError) as excinfo:
        _allocate(pledge, foreign, Decimal("1.00"), secretariat)
    assert "priority" in excinfo.value.message_dict
    assert not Allocation.objects.exists()


def test_a_dropped_priority_takes_no_allocation(pledge, laptops, secretariat):
    services.priority_transition(acting_user=secretariat, priority=laptops, to_status="dropped")
    laptops.refresh_from_db()
    with pytest.raises(ValidationError):
        _allocate(pledge, laptops, Decimal("1.00"), secretariat)


@pytest.mark.parametrize("status", [S.DRAFT])
def test_a_draft_pledge_cannot_be_allocated(coalition, member_a, laptops, secretariat, status):
    draft = factories.make_pledge(coalition=coalition, member=member_a, status=status)
    with pytest.raises(ValidationError) as excinfo:
        _allocate(draft, laptops, Decimal("1.00"), secretariat)
    assert "pledge" in excinfo.value.message_dict


def test_a_withdrawn_pledge_cannot_be_allocated(pledge, laptops, secretariat):
    services.pledge_withdraw(acting_user=secretariat, pledge=pledge)
    with pytest.raises(ValidationError):
        _allocate(pledge, laptops, Decimal("1.00"), secretariat)


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5.00"), Decimal("0.001")])
def test_allocation_amount_is_positive_with_two_places(pledge, laptops, secretariat, amount):
    with pytest.raises(ValidationError) as excinfo:
        _allocate(pledge, laptops, amount, secretariat)
    assert "amount_eur" in excinfo.value.message_dict


def test_withdrawing_the_pledge_releases_its_allocations(pledge, laptops, servers, secretariat):
    _allocate(pledge, laptops, Decimal("100.00"), secretariat)
    _allocate(pledge, servers, Decimal("100.00"), secretariat)
    services.pledge_withdraw(acting_user=secretariat, pledge=pledge)
    assert not Allocation.objects.exists()


def test_deleting_an_allocation_frees_the_money(pledge, laptops, servers, secretariat):
    allocation = _allocate(pledge, laptops, Decimal("1000.00"), secretariat)
    services.allocation_delete(acting_user=secretariat, allocation=allocation, version=1)
    assert not Allocation.objects.exists()
    _allocate(pledge, servers, Decimal("1000.00"), secretariat)


def test_deleting_with_a_stale_version_is_a_conflict(pledge, laptops, secretariat):
    allocation = _allocate(pledge, laptops, Decimal("10.00"), secretariat)
    _allocate(pledge, laptops, Decimal("20.00"), secretariat)
    with pytest.raises(ConflictError):
        services.allocation_delete(acting_user=secretariat, allocation=allocation, version=1)
    assert Allocation.objects.exists()


# --- Database constraints ------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1.00")])
def test_database_refuses_a_non_positive_allocation(pledge, laptops, amount):
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.create(pledge=pledge, priority=laptops, amount_eur=amount)
    assert not Allocation.objects.exists()


def test_database_refuses_two_allocations_of_a_pledge_to_one_priority(pledge, laptops):
    Allocation.objects.create(pledge=pledge, priority=laptops, amount_eur=Decimal("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.create(pledge=pledge, priority=laptops, amount_eur=Decimal("2.00"))
    assert Allocation.objects.count() == 1
