"""The dashboard's member table and kind and channel split read from the totals tables equal the same
figures scanned from the pledges whatever series of writes the services make (a hypothesis property
test, with and without a status filter)."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coalition.models import Membership
from contributions import services
from contributions.models import Pledge
from reports import selectors
from tests import factories
from tests.contributions.test_aggregates import DAYS, _run, operations

pytestmark = pytest.mark.django_db

D = Decimal
S = Pledge.Status
#: Before every pledge of the series: a period filter that keeps them all, so the figures are scanned.
EARLY = date(2000, 1, 1)
TODAY = date(2024, 9, 1)
status_filters = st.one_of(
    st.none(), st.lists(st.sampled_from(S.values), min_size=1, max_size=3, unique=True).map(sorted)
)


@pytest.fixture
def world(coalition, member_a, member_b, secretariat, rates):
    priorities = [
        services.priority_create(acting_user=secretariat, coalition=coalition, title=title, estimated_cost_eur=cost)
        for title, cost in (("Servers", Decimal("9000000")), ("Radios", Decimal("4000000")))
    ]
    # Something to change from the first write on: per member, pledges awaiting confirmation announced
    # on different days (which is the oldest matters) and a confirmed one.
    for member in (member_a, member_b):
        for day, status in ((DAYS[2], S.ANNOUNCED), (DAYS[1], S.ANNOUNCED), (DAYS[0], S.CONFIRMED)):
            factories.make_pledge(coalition=coalition, member=member, announced_on=day, status=status)
    return coalition, [member_a, member_b], priorities, secretariat


def _check_property(world, series, statuses, unseat):
    coalition, members, priorities, user = world
    for operation in series:
        _run(operation, coalition, members, priorities, user)
    if unseat:
        # A seat gone while its pledges stay (older data; the service refuses it): still listed.
        Membership.objects.filter(coalition=coalition, member=members[1]).delete()
    for wanted in (None, statuses):
        assert selectors.totals_member_sums(coalition, statuses=wanted) == selectors.scanned_member_sums(
            coalition, statuses=wanted
        )
        assert selectors.totals_breakdowns(coalition, statuses=wanted) == selectors.scanned_breakdowns(
            coalition, statuses=wanted
        )
        # Through the selectors the dashboard calls: from the totals, and scanned for a period.
        table = selectors.member_table(coalition, today=TODAY, statuses=wanted)
        assert table == selectors.member_table(coalition, today=TODAY, statuses=wanted, date_from=EARLY)
        assert {row.code for row in table} >= {members[0].code}  # seated, listed whatever it pledged
        split = selectors.breakdowns(coalition, statuses=wanted)
        assert split == selectors.breakdowns(coalition, statuses=wanted, date_from=EARLY)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(series=st.lists(operations, min_size=1, max_size=25), statuses=status_filters, unseat=st.booleans())
def test_member_table_and_split_from_the_totals_equal_the_scanned_after_any_series_of_writes(
    world, series, statuses, unseat
):
    from django.db import transaction

    with transaction.atomic():
        _check_property(world, series, statuses, unseat)
        transaction.set_rollback(True)


@pytest.mark.slow
@pytest.mark.postgres
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(series=st.lists(operations, min_size=5, max_size=40), statuses=status_filters, unseat=st.booleans())
def test_member_table_and_split_from_the_totals_equal_the_scanned_on_postgresql(world, series, statuses, unseat):
    from django.db import transaction

    with transaction.atomic():
        _check_property(world, series, statuses, unseat)
        transaction.set_rollback(True)


def test_a_member_without_a_seat_is_listed_with_its_pledges_and_oldest_unconfirmed(coalition, member_a):
    stranger = factories.MemberFactory(code="NO", name="Norway")
    seat = factories.MembershipFactory(member=stranger, coalition=coalition)
    factories.make_pledge(coalition=coalition, member=stranger, amount=D("700.00"), announced_on=date(2024, 8, 2))
    factories.make_pledge(coalition=coalition, member=stranger, amount=D("300.00"), announced_on=date(2024, 8, 22))
    seat.delete()
    (row,) = [row for row in selectors.member_table(coalition, today=TODAY) if row.code == "NO"]
    assert (row.name, row.role, row.total_eur, row.announced_eur) == ("Norway", "", D("1000.00"), D("1000.00"))
    assert row.oldest_unconfirmed_days == 30
    assert "NO" not in {row.code for row in selectors.member_table(coalition, today=TODAY, statuses=["confirmed"])}
