"""The dashboard's member table and kind and channel split read from the totals tables equal the same
figures scanned from the pledges whatever series of writes the services make (a hypothesis property
test, with and without a status filter), and the history as of a meeting long past is kept: equal to
what it was read as, to the cent, not kept for a recent instant, stale for no one after the demo
loader dates rows in the past, and read from the database when the cache does not answer."""

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coalition.api import conditional
from coalition.models import Membership
from contributions import services
from contributions.models import Pledge
from meetings.selectors import last_and_next_meeting
from reports import figures, selectors
from tests import factories
from tests.contributions.test_aggregates import DAYS, _run, operations
from tests.reports.dashboard_data import on, recorded_at

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


# --- The history as of a meeting, kept ------------------------------------------------------------

CUTOFF = datetime(2024, 3, 1, 22, tzinfo=UTC)


@pytest.fixture
def history(coalition, member_a, member_b, secretariat):
    """Before the cutoff: EE 1,234.50 confirmed with 0.10 paid, LU 99.99 announced; after it, LU's
    confirmed (so "now" and "then" differ)."""
    cache.clear()
    with recorded_at(on(date(2024, 2, 1))):
        ee = factories.make_pledge(
            coalition=coalition,
            member=member_a,
            amount=D("1234.50"),
            announced_on=date(2024, 1, 10),
            status="confirmed",
            confirmed_on=date(2024, 2, 1),
        )
        services.disbursement_record(acting_user=secretariat, pledge=ee, amount=D("0.10"), date=date(2024, 2, 1))
        lu = factories.make_pledge(
            coalition=coalition, member=member_b, amount=D("99.99"), announced_on=date(2024, 2, 1)
        )
    with recorded_at(on(date(2024, 3, 5))):
        services.pledge_confirm(acting_user=secretariat, pledge=lu, on_date=date(2024, 3, 5))
    return {"ee": member_a.pk, "lu": member_b.pk}


def test_the_history_as_of_a_meeting_long_past_is_kept_to_the_cent(coalition, history, django_assert_num_queries):
    with django_assert_num_queries(1):
        read = selectors.members_as_of(coalition, CUTOFF)
    assert read[history["ee"]] == {
        "member_id": history["ee"],
        "total": D("1234.50"),
        "confirmed": D("1234.50"),
        "disbursed": D("0.10"),
    }
    assert read[history["lu"]]["confirmed"] == 0
    with django_assert_num_queries(0):
        kept = selectors.members_as_of(coalition, CUTOFF)
    assert kept == read
    assert {key: str(value) for key, value in kept[history["ee"]].items()} == {
        "member_id": str(history["ee"]),
        "total": "1234.50",
        "confirmed": "1234.50",
        "disbursed": "0.10",
    }
    # Each filter is kept apart: what stood announced then is LU's alone.
    with django_assert_num_queries(1):
        assert set(selectors.members_as_of(coalition, CUTOFF, statuses=["announced"])) == {history["lu"]}
    with django_assert_num_queries(1):
        assert selectors.members_as_of(coalition, CUTOFF, date_from=date(2024, 2, 1)).keys() == {history["lu"]}


def test_the_dashboard_reads_the_kept_history_as_it_read_the_history(coalition, history, django_assert_num_queries):
    first = selectors.member_table(coalition, as_of=CUTOFF, today=TODAY)
    assert {row.code: row.since for row in first}["LU"] == selectors.SinceMeeting(confirmed_eur=D("99.99"))
    with django_assert_num_queries(2):  # the totals by member and the seats (none awaits confirmation)
        assert selectors.member_table(coalition, as_of=CUTOFF, today=TODAY) == first


def test_a_recent_instant_is_not_kept(coalition, member_a, history, django_assert_num_queries):
    """A minute ago: a transaction still open could yet commit history dated before it."""
    recent = timezone.now() - timedelta(minutes=1)
    with django_assert_num_queries(1):
        before = selectors.members_as_of(coalition, recent)
    with recorded_at(recent - timedelta(seconds=5)):  # committed now, dated before ``recent``
        factories.make_pledge(coalition=coalition, member=member_a, amount=D("5.00"))
    with django_assert_num_queries(1):
        again = selectors.members_as_of(coalition, recent)
    assert again[history["ee"]]["total"] == before[history["ee"]]["total"] + D("5.00") == D("1239.50")


def test_history_dated_in_the_past_after_it_was_kept_is_read_once_the_generation_is_replaced(
    coalition, member_a, history
):
    kept = selectors.members_as_of(coalition, CUTOFF)
    with recorded_at(on(date(2024, 2, 20))):  # as the demo loader dates what it writes
        factories.make_pledge(coalition=coalition, member=member_a, amount=D("10.00"), announced_on=date(2024, 2, 20))
    assert selectors.members_as_of(coalition, CUTOFF) == kept  # kept: the new row is not read
    figures.history_rewritten(coalition.pk)
    assert selectors.members_as_of(coalition, CUTOFF)[history["ee"]]["total"] == D("1244.50")


class _Unreachable:
    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        return fail


def test_without_the_cache_the_history_is_read(coalition, history, monkeypatch, django_assert_num_queries):
    expected = selectors.members_as_of(coalition, CUTOFF)
    monkeypatch.setattr(conditional, "cache", _Unreachable())
    for _twice in range(2):
        with django_assert_num_queries(1):
            assert selectors.members_as_of(coalition, CUTOFF) == expected
    figures.history_rewritten(coalition.pk)  # and replacing the generation does not fail either


def _load_demo():
    call_command("load_demo", allow_production=True, stdout=io.StringIO())


def test_the_demo_loader_dating_history_in_the_past_makes_the_kept_figures_stale_for_no_one(
    settings, django_capture_on_commit_callbacks
):
    """A demo pledge deleted, then the demo loaded again: the pledge is created anew with its history
    dated as the story has it, before the last meeting, so the figures as of the meeting grow."""
    from coalition.models import Coalition
    from demo.data import SLUG

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _load_demo()
    demo = Coalition.objects.get(slug=SLUG)
    cutoff = selectors.meeting_cutoff(last_and_next_meeting(demo)[0])
    before = selectors.members_as_of(demo, cutoff)
    pledge = (
        Pledge.objects.filter(
            coalition=demo, status__in=Pledge.COUNTED, disbursed_amount=0, announced_on__lt=cutoff.date()
        )
        .order_by("pk")
        .first()
    )
    services.pledge_delete(acting_user=get_user_model().objects.get(username="admin"), pledge=pledge)
    with django_capture_on_commit_callbacks(execute=True):
        _load_demo()
    after = selectors.members_as_of(demo, cutoff)
    assert after[pledge.member_id]["total"] == before[pledge.member_id]["total"] + pledge.amount_eur
    cache.clear()
    assert selectors.members_as_of(demo, cutoff) == after
