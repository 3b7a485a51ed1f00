"""The migrations that turned global role groups and profile coalitions into seats, and that
recorded when each existing pledge was published, run forward on a database holding the old data
(django-test-migrations applies the migrations before them, the test writes old rows, then the new
migrations run)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

pytestmark = pytest.mark.slow

BEFORE_SEATS = [("coalition", "0002_seat")]
AFTER_SEATS = [("coalition", "0004_profile_without_roles")]


def _user(apps, username, *groups, coalitions=(), member=None):
    User = apps.get_model("auth", "User")
    Group = apps.get_model("auth", "Group")
    Profile = apps.get_model("coalition", "Profile")
    user = User.objects.create(username=username)
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    profile = Profile.objects.create(user=user, member=member)
    profile.coalitions.add(*coalitions)
    return user


def test_role_groups_and_profile_coalitions_become_seats(migrator):
    old = migrator.apply_initial_migration(BEFORE_SEATS)
    Coalition = old.apps.get_model("coalition", "Coalition")
    Member = old.apps.get_model("coalition", "Member")
    Membership = old.apps.get_model("coalition", "Membership")
    it = Coalition.objects.create(name="IT", slug="it-coalition")
    demining = Coalition.objects.create(name="Demining", slug="demining")
    estonia = Member.objects.create(code="EE", name="Estonia", kind="country")
    Membership.objects.create(member=estonia, coalition=it)
    Membership.objects.create(member=estonia, coalition=demining)
    _user(old.apps, "kadri", "member-editor", coalitions=[it, demining], member=estonia)
    _user(old.apps, "sofia", "secretariat", "steering", coalitions=[it])
    _user(old.apps, "lost-editor", "member-editor", coalitions=[demining])
    _user(old.apps, "partner", "partner", coalitions=[it, demining])
    _user(old.apps, "roleless", coalitions=[it])
    _user(old.apps, "nowhere", "steering")

    new = migrator.apply_tested_migration(AFTER_SEATS)

    Seat = new.apps.get_model("coalition", "Seat")
    seats = {
        (seat.user.username, seat.coalition.slug): (seat.role, seat.member.code if seat.member_id else None)
        for seat in Seat.objects.select_related("user", "coalition", "member")
    }
    assert seats == {
        ("kadri", "it-coalition"): ("member-editor", "EE"),
        ("kadri", "demining"): ("member-editor", "EE"),
        ("sofia", "it-coalition"): ("secretariat", None),  # the stronger of two groups
        ("lost-editor", "demining"): ("steering", None),  # an editor without a member could only read
        ("partner", "it-coalition"): ("partner", None),
        ("partner", "demining"): ("partner", None),
    }
    Group = new.apps.get_model("auth", "Group")
    assert not Group.objects.filter(name__in=["secretariat", "member-editor", "steering", "partner"]).exists()
    Profile = new.apps.get_model("coalition", "Profile")
    assert Profile.objects.count() == 6  # the language preference stays
    assert {field.name for field in Profile._meta.get_fields()} >= {"user", "language"}
    assert "coalitions" not in {field.name for field in Profile._meta.get_fields()}


def test_the_seat_migration_runs_backwards_to_groups(migrator):
    new = migrator.apply_initial_migration(AFTER_SEATS)
    Coalition = new.apps.get_model("coalition", "Coalition")
    User = new.apps.get_model("auth", "User")
    Seat = new.apps.get_model("coalition", "Seat")
    it = Coalition.objects.create(name="IT", slug="it-coalition")
    user = User.objects.create(username="sofia")
    new.apps.get_model("coalition", "Profile").objects.create(user=user)
    Seat.objects.create(user=user, coalition=it, role="steering")

    old = migrator.apply_tested_migration(BEFORE_SEATS)

    profile = old.apps.get_model("coalition", "Profile").objects.get(user__username="sofia")
    assert list(profile.coalitions.values_list("slug", flat=True)) == ["it-coalition"]
    assert list(profile.user.groups.values_list("name", flat=True)) == ["steering"]


def test_existing_pledges_are_published_from_their_history(migrator):
    old = migrator.apply_initial_migration([("contributions", "0003_pledge_import")])
    Coalition = old.apps.get_model("coalition", "Coalition")
    Member = old.apps.get_model("coalition", "Member")
    Pledge = old.apps.get_model("contributions", "Pledge")
    History = old.apps.get_model("contributions", "HistoricalPledge")
    coalition = Coalition.objects.create(name="IT", slug="it-coalition")
    estonia = Member.objects.create(code="EE", name="Estonia", kind="country")
    start = datetime(2024, 2, 1, 9, tzinfo=UTC)

    def pledge(title, statuses):
        record = Pledge.objects.create(
            coalition=coalition,
            member=estonia,
            title=title,
            amount=Decimal("100.00"),
            currency="EUR",
            amount_eur=Decimal("100.00"),
            exchange_rate=Decimal(1),
            exchange_rate_date=date(2024, 2, 1),
            status=statuses[-1],
            announced_on=date(2024, 2, 1),
        )
        for day, status in enumerate(statuses):
            values = {f.attname: getattr(record, f.attname) for f in Pledge._meta.concrete_fields}
            values.pop("updated_at")
            History.objects.create(
                **{**values, "status": status},
                history_date=start + timedelta(days=day),
                history_type="+" if day == 0 else "~",
            )
        return record

    announced_later = pledge("Announced on day 2", ["draft", "draft", "announced", "confirmed"])
    never = pledge("Withdrawn as a draft", ["draft", "withdrawn"])
    published_withdrawn = pledge("Withdrawn after publication", ["announced", "withdrawn"])

    new = migrator.apply_tested_migration([("contributions", "0005_published_at_from_history")])

    Pledge = new.apps.get_model("contributions", "Pledge")
    History = new.apps.get_model("contributions", "HistoricalPledge")
    assert Pledge.objects.get(pk=announced_later.pk).published_at == start + timedelta(days=2)
    assert Pledge.objects.get(pk=never.pk).published_at is None
    assert Pledge.objects.get(pk=published_withdrawn.pk).published_at == start
    rows = History.objects.filter(id=announced_later.pk).order_by("history_date")
    assert [row.published_at for row in rows] == [None, None, start + timedelta(days=2), start + timedelta(days=2)]
    assert not History.objects.filter(id=never.pk, published_at__isnull=False).exists()
