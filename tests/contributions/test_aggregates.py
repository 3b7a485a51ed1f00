"""The totals tables stay equal to the raw sums of the pledges whatever series of writes the
services make (a hypothesis property test), and ``rebuild_aggregates`` finds and repairs drift."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contributions import aggregates, services
from contributions.models import Pledge, PledgeMonthTotal, PledgeTotal, PriorityTotal
from reports import selectors

S = Pledge.Status
pytestmark = pytest.mark.django_db

DAYS = (date(2024, 2, 2), date(2024, 3, 28), date(2024, 5, 31), date(2024, 7, 1))
amounts = st.decimals(min_value=Decimal("1.00"), max_value=Decimal("5000000.00"), places=2)
fractions = st.sampled_from([Decimal("0.1"), Decimal("0.5"), Decimal("1")])
index = st.integers(min_value=0, max_value=30)

operations = st.one_of(
    st.tuples(
        st.just("create"),
        st.integers(0, 1),
        amounts,
        st.sampled_from(["EUR", "USD", "GBP"]),
        st.sampled_from([S.DRAFT, S.ANNOUNCED, S.CONFIRMED]),
        st.sampled_from(Pledge.Kind.values),
        st.sampled_from(Pledge.Channel.values),
        st.sampled_from(DAYS),
    ),
    st.tuples(st.just("update"), index, amounts, st.sampled_from(Pledge.Kind.values), st.sampled_from(DAYS)),
    st.tuples(st.just("transition"), index, st.sampled_from([S.ANNOUNCED, S.CONFIRMED, S.WITHDRAWN])),
    st.tuples(st.just("delete"), index),
    st.tuples(st.just("disburse"), index, fractions),
    st.tuples(st.just("undisburse"), index),
    st.tuples(st.just("allocate"), index, st.integers(0, 1), fractions),
    st.tuples(st.just("release"), index),
)


def _pick(items, i):
    return items[i % len(items)] if items else None


def _run(operation, coalition, members, priorities, user):
    """One write through the services; a refusal (a rule the random series broke) changes nothing."""
    name, *args = operation
    pledges = list(Pledge.objects.filter(coalition=coalition).order_by("pk"))
    try:
        if name == "create":
            member, amount, currency, status, kind, channel, day = args
            services.pledge_create(
                acting_user=user,
                coalition=coalition,
                member=members[member],
                title="Servers",
                amount=amount,
                currency=currency,
                status=status,
                kind=kind,
                announced_on=day,
                channel=channel,
                confirmed_on=day + timedelta(days=3) if status == S.CONFIRMED else None,
            )
        elif name == "update" and pledges:
            pledge = _pick(pledges, args[0])
            services.pledge_update(
                acting_user=user,
                pledge=pledge,
                amount=args[1],
                kind=args[2],
                announced_on=min(args[3], pledge.confirmed_on or args[3]),
            )
        elif name == "transition" and pledges:
            pledge = _pick(pledges, args[0])
            on_date = pledge.announced_on + timedelta(days=40)
            services.pledge_transition(acting_user=user, pledge=pledge, to_status=args[1], on_date=on_date)
        elif name == "delete" and pledges:
            services.pledge_delete(acting_user=user, pledge=_pick(pledges, args[0]))
        elif name == "disburse" and pledges:
            pledge = _pick(pledges, args[0])
            amount = (pledge.remaining_amount * args[1]).quantize(Decimal("0.01"))
            services.disbursement_record(
                acting_user=user, pledge=pledge, amount=amount, date=pledge.announced_on + timedelta(days=60)
            )
        elif name == "undisburse":
            paid = [pledge for pledge in pledges if pledge.disbursed_amount]
            if paid:
                disbursement = _pick(paid, args[0]).disbursements.order_by("pk").first()
                services.disbursement_delete(acting_user=user, disbursement=disbursement)
        elif name == "allocate" and pledges:
            pledge = _pick(pledges, args[0])
            amount = (pledge.amount_eur * args[2] / 2).quantize(Decimal("0.01"))
            services.allocation_set(acting_user=user, pledge=pledge, priority=priorities[args[1]], amount_eur=amount)
        elif name == "release" and pledges:
            allocation = _pick(list(_pick(pledges, args[0]).allocations.all()), 0)
            if allocation:
                services.allocation_delete(acting_user=user, allocation=allocation)
    except ValidationError:
        pass


@pytest.fixture
def world(coalition, member_a, member_b, secretariat, rates):
    priorities = [
        services.priority_create(acting_user=secretariat, coalition=coalition, title=title, estimated_cost_eur=cost)
        for title, cost in (("Servers", Decimal("9000000")), ("Radios", Decimal("4000000")))
    ]
    return coalition, [member_a, member_b], priorities, secretariat


def _check_property(world, series):
    coalition, members, priorities, user = world
    with transaction.atomic():
        for operation in series:
            _run(operation, coalition, members, priorities, user)
        assert aggregates.differences() == []
        # The dashboard's figures read from the totals equal those scanned from the pledges.
        assert selectors.coalition_summary(coalition) == selectors.scanned_summary(coalition)
        transaction.set_rollback(True)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(series=st.lists(operations, min_size=1, max_size=25))
def test_totals_equal_the_raw_sums_after_any_series_of_writes(world, series):
    _check_property(world, series)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=False)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(series=st.lists(operations, min_size=5, max_size=40))
def test_totals_equal_the_raw_sums_on_postgresql(world, series):
    _check_property(world, series)


def test_an_import_adds_its_new_pledges_to_the_totals(world):
    coalition, members, _priorities, user = world
    batch = [
        services.pledges.new_pledge(
            acting_user=user,
            coalition=coalition,
            member=members[i % 2],
            title=f"Row {i}",
            amount=Decimal("1000.00") + i,
            currency="EUR",
            announced_on=DAYS[0],
            status=S.ANNOUNCED,
            description="",
            kind=Pledge.Kind.FINANCIAL,
            channel=Pledge.Channel.BILATERAL,
            confirmed_on=None,
            confirmed_at_meeting=None,
            source="",
            external_ref="",
            exchange_rate=None,
            exchange_rate_source="",
        )
        for i in range(3)
    ]
    Pledge.objects.bulk_create(batch)
    aggregates.pledges_created(pledge.pk for pledge in batch)

    assert aggregates.differences() == []
    assert PledgeTotal.objects.get(member=members[0], status=S.ANNOUNCED).amount_eur == Decimal("2002.00")


def test_a_draft_counts_nowhere_until_it_is_announced(world):
    coalition, members, _priorities, user = world
    pledge = services.pledge_create(
        acting_user=user,
        coalition=coalition,
        member=members[0],
        title="Draft",
        amount=Decimal("10"),
        currency="EUR",
        announced_on=DAYS[0],
    )
    assert not PledgeTotal.objects.exists()
    services.pledge_announce(acting_user=user, pledge=pledge)
    assert PledgeTotal.objects.get().amount_eur == Decimal("10.00")
    assert PledgeMonthTotal.objects.get().month == date(2024, 2, 1)


def test_check_finds_drift_and_rebuild_repairs_it(world, capsys):
    coalition, members, priorities, user = world
    pledge = services.pledge_create(
        acting_user=user,
        coalition=coalition,
        member=members[0],
        title="Radios",
        amount=Decimal("500.00"),
        currency="EUR",
        announced_on=DAYS[0],
        status=S.CONFIRMED,
    )
    services.allocation_set(acting_user=user, pledge=pledge, priority=priorities[0], amount_eur=Decimal("100.00"))
    call_command("rebuild_aggregates", "--check")
    PledgeTotal.objects.update(amount_eur=Decimal("1.00"))
    PriorityTotal.objects.all().delete()

    with pytest.raises(CommandError, match="2 totals differ"):
        call_command("rebuild_aggregates", "--check")
    assert "stored" in capsys.readouterr().out

    call_command("rebuild_aggregates")
    call_command("rebuild_aggregates", "--check", "--coalition", coalition.slug)
    assert PriorityTotal.objects.get().amount_eur == Decimal("100.00")


def test_rebuild_refuses_an_unknown_coalition(world):
    with pytest.raises(CommandError, match="No such coalition: nowhere"):
        call_command("rebuild_aggregates", "--coalition", "nowhere")
