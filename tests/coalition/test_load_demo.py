"""The demo coalition: the facts of the seed reports, totals to the cent, idempotent loading.

Loading takes seconds, so the tests that only read share one load per module (rolled back at the
end); the two tests that load themselves come first and check that they start from an empty
database, so the shared load cannot hide a broken first run.
"""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum
from django.test import override_settings

from coalition.models import Coalition, Member, Membership
from contributions.models import Pledge, PriorityPurchase
from demo.data import DEMO_PASSWORD, USERS
from meetings.models import ActionItem, Attendance, Meeting
from meetings.selectors import last_and_next_meeting

FIRST_STEERING_GROUP = "First steering group meeting"
TALLINN = "Steering group meeting in Tallinn"


# The loader hashes six passwords and checks them; PBKDF2 would add seconds per load.
FAST_HASHER = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


def load():
    out = io.StringIO()
    # pytest-django runs with DEBUG off, which the command treats as production unless told.
    call_command("load_demo", allow_production=True, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo_loaded(django_db_setup, django_db_blocker):
    """One load for the module's read-only tests, undone when the module is done."""
    with django_db_blocker.unblock(), FAST_HASHER, transaction.atomic():
        load()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(demo_loaded, db):
    return Coalition.objects.get(slug="it-coalition")


def row_counts():
    return {model._meta.label: model._default_manager.count() for model in apps.get_models(include_auto_created=True)}


@FAST_HASHER
def test_load_demo_twice_leaves_the_same_rows(db):
    assert not Coalition.objects.exists()
    assert "created" in load()
    first = row_counts()
    passwords = dict(get_user_model().objects.values_list("username", "password"))
    output = load()
    assert row_counts() == first
    assert dict(get_user_model().objects.values_list("username", "password")) == passwords
    assert "nothing to do" in output
    # The history tables are part of the comparison and were written on the first run.
    assert first["contributions.HistoricalPledge"] > first["contributions.Pledge"]
    assert first["meetings.HistoricalMeeting"] > first["meetings.Meeting"]


@FAST_HASHER
def test_load_demo_prints_the_logins(db):
    assert not Coalition.objects.exists()
    output = load()
    for username, role, _member in USERS:
        assert any(username in line and role in line and DEMO_PASSWORD in line for line in output.splitlines())


def test_first_steering_group_meeting_has_all_sixteen_present(demo):
    meeting = Meeting.objects.get(coalition=demo, title=FIRST_STEERING_GROUP)
    present = Attendance.objects.filter(meeting=meeting, status=Attendance.Status.PRESENT).select_related("member")
    codes = {a.member.code for a in present}
    assert codes == {"EE", "LU", "BE", "GB", "DK", "IS", "IT", "LV", "LT", "NL", "DE", "PL", "US", "JP", "NATO", "EU"}
    assert sum(a.member.kind == Member.Kind.COUNTRY for a in present) == 14
    assert {a.member.code for a in present if a.role == Attendance.Role.CHAIR} == {"EE", "LU"}
    assert meeting.starts_at.date() == date(2024, 2, 2)
    assert meeting.status == Meeting.Status.HELD


def test_pledges_confirmed_at_first_meeting_are_the_six_and_exceed_30_million(demo):
    confirmed = Pledge.objects.filter(coalition=demo, confirmed_at_meeting__title=FIRST_STEERING_GROUP)
    assert sorted(confirmed.values_list("member__code", flat=True)) == sorted(["EE", "LU", "DK", "LV", "LT", "NL"])
    assert all(p.status in Pledge.CONFIRMED_STATUSES for p in confirmed)
    assert confirmed.aggregate(total=Sum("amount_eur"))["total"] > Decimal("30000000")


def test_total_reaches_58_million_by_tallinn_with_22_million_additional(demo):
    counted = Pledge.objects.filter(coalition=demo, status__in=Pledge.COUNTED, announced_on__lte=date(2024, 5, 31))
    assert counted.aggregate(total=Sum("amount_eur"))["total"] == Decimal("58000000.00")
    additional = counted.filter(announced_on=date(2024, 5, 31))
    assert sorted(additional.values_list("member__code", flat=True)) == ["BE", "EE", "IS", "LU"]
    assert additional.aggregate(total=Sum("amount_eur"))["total"] == Decimal("22000000.00")


def test_danish_pledge_is_converted_at_the_ecb_rate_of_the_day(demo):
    pledge = Pledge.objects.get(coalition=demo, external_ref="DEMO-DK-2024-02")
    assert (pledge.currency, pledge.exchange_rate, pledge.exchange_rate_date) == (
        "DKK",
        Decimal("7.4540"),
        date(2024, 2, 2),
    )
    assert pledge.amount_eur == Decimal("5000000.00")


def test_every_demo_pledge_says_its_amount_is_illustrative(demo):
    pledges = Pledge.objects.filter(coalition=demo)
    assert pledges.count() == 13
    assert [p.external_ref for p in pledges if "illustrative" not in p.description.lower()] == []


def test_pledges_cite_the_ministry_reports(demo):
    published = Pledge.objects.filter(coalition=demo).exclude(status=Pledge.Status.DRAFT)
    assert all(p.source.startswith("Ministry of Defence of Ukraine, report of") for p in published)


def test_dashboard_states_are_all_shown(demo):
    statuses = set(Pledge.objects.filter(coalition=demo).values_list("status", flat=True))
    assert statuses == {"draft", "announced", "confirmed", "disbursing", "fulfilled"}


def test_draft_is_seen_only_by_its_members_editor_and_the_secretariat(demo):
    draft = Pledge.objects.get(coalition=demo, status=Pledge.Status.DRAFT)
    users = {u.username: u for u in get_user_model().objects.all()}
    for username, sees in [("editor-ee", True), ("secretariat", True), ("editor-lu", False), ("steering", False)]:
        assert Pledge.objects.visible_to(users[username]).filter(pk=draft.pk).exists() is sees, username


def test_nato_and_eu_are_organisation_members(demo):
    for code in ("NATO", "EU"):
        membership = Membership.objects.get(coalition=demo, member__code=code)
        assert membership.member.kind == Member.Kind.ORGANISATION
    leads = Membership.objects.filter(coalition=demo, role=Membership.Role.LEAD).values_list("member__code", flat=True)
    assert sorted(leads) == ["EE", "LU"]


def test_priorities_are_funded_partly_funded_and_unfunded(demo):
    coverage = {
        p.rank: (p.allocations.aggregate(total=Sum("amount_eur"))["total"] or Decimal(0)) / p.estimated_cost_eur
        for p in PriorityPurchase.objects.filter(coalition=demo)
    }
    assert coverage[1] == 1
    assert 0 < coverage[4] < 1
    assert coverage[5] == 0
    assert PriorityPurchase.objects.filter(coalition=demo, approved_at_meeting__title=FIRST_STEERING_GROUP).count() == 5


def test_next_meeting_is_planned_with_tallinn_action_items_open(demo):
    last, upcoming = last_and_next_meeting(demo, now=Meeting.objects.get(coalition=demo, title=TALLINN).starts_at)
    assert upcoming is not None and upcoming.status == Meeting.Status.PLANNED
    open_items = ActionItem.objects.filter(meeting__coalition=demo, status=ActionItem.Status.OPEN)
    assert open_items.count() == 3
    assert set(open_items.values_list("meeting__title", flat=True)) == {TALLINN}


def test_since_the_tallinn_meeting_only_the_june_payments_changed(demo):
    """The history is dated as the story goes (announced, confirmed at its meeting, paid on its day),
    so the dashboard's change since Tallinn is LU's 3,000,000 EUR of 28 June and DK's 18,635,000 of
    37,270,000 DKK on 14 June: half its 5,000,000 EUR. Dated on the day of the load, it was all 53 M."""
    from reports import selectors

    last, _upcoming = last_and_next_meeting(demo)
    assert last.title == TALLINN
    members = selectors.member_table(demo, as_of=selectors.meeting_cutoff(last))
    head = selectors.headline(selectors.coalition_summary(demo), members, [], meeting=last)
    assert head.since == selectors.SinceMeeting(disbursed_eur=Decimal("5500000.00"))
    paid = {row.code: row.since.disbursed_eur for row in members if row.since.disbursed_eur}
    assert paid == {"LU": Decimal("3000000.00"), "DK": Decimal("2500000.00")}


def test_writes_are_recorded_in_history_as_the_system(demo):
    history = Pledge.history.filter(coalition_id=demo.pk)
    assert history.count() > Pledge.objects.filter(coalition=demo).count()
    assert not history.exclude(history_user=None).exists()


def test_demo_users_can_log_in(demo, client):
    for username, _role, _member in USERS:
        assert client.login(username=username, password=DEMO_PASSWORD), username
        client.logout()
    assert get_user_model().objects.get(username="admin").is_superuser


def test_load_demo_refuses_production_without_flag(settings):
    """With DEBUG off the demo's published passwords must not land in a real database by accident."""
    from django.core.management import CommandError, call_command

    settings.DEBUG = False
    with pytest.raises(CommandError, match="--allow-production"):
        call_command("load_demo")
