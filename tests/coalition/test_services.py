"""Coalition services: coalitions, members, memberships, seats and API keys, and their constraints."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from coalition import permissions, services
from coalition.api.authentication import hash_key
from coalition.models import APIKey, Coalition, Member, Membership, Profile, Seat
from tests import factories

pytestmark = pytest.mark.django_db


def test_administrator_creates_a_coalition(admin_user):
    coalition = services.coalition_create(
        acting_user=admin_user, name="Demining", slug="demining", target_eur=Decimal("1000.00")
    )
    assert (coalition.slug, coalition.reporting_currency, str(coalition)) == ("demining", "EUR", "Demining")


def test_only_an_administrator_creates_coalitions(secretariat):
    with pytest.raises(PermissionDenied):
        services.coalition_create(acting_user=secretariat, name="Demining", slug="demining")
    assert not Coalition.objects.filter(slug="demining").exists()


@pytest.mark.parametrize(("slug", "target"), [("not a slug", None), ("ok", Decimal("0")), ("ok", Decimal("-1"))])
def test_coalition_slug_and_target_are_validated(slug, target):
    with pytest.raises(ValidationError):
        services.coalition_create(acting_user=None, name="X", slug=slug, target_eur=target)


def test_coalition_update_by_its_secretariat(coalition, secretariat, steering):
    services.coalition_update(acting_user=secretariat, coalition=coalition, description="IT for Ukraine")
    coalition.refresh_from_db()
    assert coalition.description == "IT for Ukraine"
    with pytest.raises(PermissionDenied):
        services.coalition_update(acting_user=steering, coalition=coalition, description="Hijacked")
    with pytest.raises(ValidationError):
        services.coalition_update(acting_user=secretariat, coalition=coalition, slug="renamed")
    with pytest.raises(ValidationError):
        services.coalition_update(acting_user=secretariat, coalition=coalition, target_eur=Decimal("0"))
    coalition.refresh_from_db()
    assert (coalition.slug, coalition.description) == ("test-coalition", "IT for Ukraine")


def test_member_register_normalises_the_code_and_seats_the_member(coalition, secretariat):
    member = services.member_register(acting_user=secretariat, coalition=coalition, code=" dk ", name="Denmark")
    assert (member.code, str(member)) == ("DK", "Denmark (DK)")
    assert list(member.memberships.values_list("coalition__slug", "role")) == [("test-coalition", "member")]


@pytest.mark.parametrize(
    ("code", "kind"),
    [("DNK", "country"), ("D1", "country"), ("", "country"), ("N", "organisation"), ("NA-TO", "organisation")],
)
def test_member_code_follows_its_kind(coalition, secretariat, code, kind):
    with pytest.raises(ValidationError):
        services.member_register(acting_user=secretariat, coalition=coalition, code=code, name="X", kind=kind)
    assert not Member.objects.exists()


def test_a_member_already_in_the_coalition_is_refused(coalition, secretariat, member_a):
    with pytest.raises(ValidationError, match="EE is already a member of this coalition"):
        services.member_register(acting_user=secretariat, coalition=coalition, code="EE", name="Estonia again")


def test_a_country_seated_elsewhere_is_attached_not_duplicated(coalition, other_coalition, secretariat):
    denmark = factories.MemberFactory(code="DK", name="Denmark")
    factories.MembershipFactory(member=denmark, coalition=other_coalition)

    member = services.member_register(acting_user=secretariat, coalition=coalition, code="dk", name="Danmark")

    assert member == denmark and member.name == "Denmark"
    assert set(member.memberships.values_list("coalition__slug", flat=True)) == {"test-coalition", "other-coalition"}


def test_an_organisation_code_taken_elsewhere_is_refused_without_saying_whose(coalition, other_coalition, secretariat):
    hidden = factories.MemberFactory(code="ITU", name="International Telecommunication Union", kind="organisation")
    factories.MembershipFactory(member=hidden, coalition=other_coalition)

    with pytest.raises(ValidationError) as excinfo:
        services.member_register(
            acting_user=secretariat, coalition=coalition, code="ITU", name="IT Unit", kind="organisation"
        )

    assert excinfo.value.message_dict == {"code": ["This code is used by another member: choose another code."]}
    assert "Telecommunication" not in str(excinfo.value)
    assert not hidden.memberships.filter(coalition=coalition).exists()
    same = services.member_register(
        acting_user=secretariat,
        coalition=coalition,
        code="ITU",
        name="international telecommunication union",
        kind="organisation",
    )
    assert same == hidden


def test_organisations_take_longer_codes(coalition, secretariat):
    member = services.member_register(
        acting_user=secretariat, coalition=coalition, code="NATO", name="NATO", kind="organisation"
    )
    assert member.code == "NATO"


@pytest.mark.parametrize("persona", ["editor_a", "steering", "partner", "outsider"])
def test_only_the_secretariat_registers_members(request, coalition, persona):
    with pytest.raises(PermissionDenied):
        services.member_register(
            acting_user=request.getfixturevalue(persona), coalition=coalition, code="DK", name="Denmark"
        )
    assert not Member.objects.filter(code="DK").exists()


def test_the_secretariat_of_another_coalition_cannot_register_members_here(coalition, other_coalition):
    other = factories.persona("other-sec", "secretariat", coalitions=[other_coalition])
    with pytest.raises(PermissionDenied):
        services.member_register(acting_user=other, coalition=coalition, code="DK", name="Denmark")


def test_only_an_administrator_registers_a_member_outside_any_coalition(secretariat, admin_user):
    with pytest.raises(PermissionDenied):
        services.member_create(acting_user=secretariat, code="DK", name="Denmark")
    assert services.member_create(acting_user=admin_user, code="DK", name="Denmark").code == "DK"


def test_member_update_keeps_the_code(secretariat, member_a):
    services.member_update(acting_user=secretariat, member=member_a, name="Republic of Estonia")
    member_a.refresh_from_db()
    assert (member_a.code, member_a.name) == ("EE", "Republic of Estonia")
    with pytest.raises(ValidationError):
        services.member_update(acting_user=secretariat, member=member_a, kind="organisation-ish")
    with pytest.raises(ValidationError):
        services.member_update(acting_user=secretariat, member=member_a, code="ES")


def test_a_member_seated_in_another_coalition_is_renamed_only_by_a_secretariat_of_both(
    coalition, other_coalition, secretariat, member_a, admin_user
):
    factories.MembershipFactory(member=member_a, coalition=other_coalition)

    with pytest.raises(PermissionDenied, match="also sits in coalitions you do not serve"):
        services.member_update(acting_user=secretariat, member=member_a, name="Hijacked")

    both = factories.persona("both", "secretariat", coalitions=[coalition, other_coalition])
    services.member_update(acting_user=both, member=member_a, name="Eesti")
    services.member_update(acting_user=admin_user, member=member_a, kind="country")
    member_a.refresh_from_db()
    assert member_a.name == "Eesti"


def test_membership_set_creates_then_changes_the_role(coalition, secretariat):
    denmark = factories.MemberFactory(code="DK", name="Denmark")
    first = services.membership_set(acting_user=secretariat, coalition=coalition, member=denmark)
    second = services.membership_set(acting_user=secretariat, coalition=coalition, member=denmark, role="observer")
    assert first.pk == second.pk
    assert Membership.objects.get(pk=first.pk).role == "observer"
    assert str(second) == "DK in test-coalition (observer)"


def test_membership_role_must_be_known(coalition, secretariat):
    denmark = factories.MemberFactory(code="DK", name="Denmark")
    with pytest.raises(ValidationError):
        services.membership_set(acting_user=secretariat, coalition=coalition, member=denmark, role="king")
    assert not Membership.objects.filter(member=denmark).exists()


def test_membership_remove_refused_while_the_member_has_pledges(coalition, member_a, member_b, secretariat):
    factories.make_pledge(coalition=coalition, member=member_a)
    with pytest.raises(ValidationError):
        services.membership_remove(acting_user=secretariat, membership=member_a.memberships.get())
    services.membership_remove(acting_user=secretariat, membership=member_b.memberships.get())
    assert list(Membership.objects.values_list("member__code", flat=True)) == ["EE"]


def test_database_refuses_a_duplicate_membership(coalition, member_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(coalition=coalition, member=member_a)
    assert Membership.objects.filter(member=member_a).count() == 1


@pytest.mark.parametrize(("code", "kind"), [("est", "country"), ("EST", "country"), ("nato", "organisation")])
def test_database_refuses_a_malformed_member_code(code, kind):
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.create(code=code, name="X", kind=kind)
    assert not Member.objects.exists()


@pytest.mark.parametrize("overrides", [{"target_eur": Decimal("0")}, {"reporting_currency": "USD"}])
def test_database_refuses_a_broken_coalition(overrides):
    with pytest.raises(IntegrityError), transaction.atomic():
        Coalition.objects.create(name="X", slug="x", **overrides)
    assert not Coalition.objects.exists()


# --- Seats ---------------------------------------------------------------------------------------


def test_role_grant_creates_the_user_with_a_seat(coalition, member_a):
    user, created, changes = services.role_grant(
        username="kadri", role="member-editor", member=member_a, coalitions=[coalition], email="kadri@example.org"
    )
    assert created and changes == [(coalition, None)]
    assert not user.has_usable_password()
    seat = user.seats.get()
    assert (seat.coalition, seat.role, seat.member) == (coalition, "member-editor", member_a)
    assert str(seat) == "kadri in test-coalition: member-editor for EE"
    assert permissions.can_write_pledge_for(user, coalition, member_a)


def test_role_grant_twice_changes_nothing(coalition):
    services.role_grant(username="sam", role="steering", coalitions=[coalition], password="pw-123456789")
    user, created, changes = services.role_grant(username="sam", role="steering", coalitions=[coalition])
    assert not created and changes == [(coalition, "steering")]
    assert user.check_password("pw-123456789")
    assert get_user_model().objects.filter(username="sam").count() == 1
    assert user.seats.count() == 1
    assert user.seats.get().history.count() == 1


def test_role_grant_refuses_unknown_roles_editors_without_member_and_no_coalition(coalition):
    with pytest.raises(ValidationError) as excinfo:
        services.role_grant(username="x", role="king", coalitions=[coalition])
    assert "role" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.role_grant(username="x", role="member-editor", coalitions=[coalition])
    assert "member" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.role_grant(username="x", role="steering", coalitions=[])
    assert "coalition" in excinfo.value.message_dict
    assert not get_user_model().objects.filter(username="x").exists()


def test_role_grant_checks_the_password(coalition):
    with pytest.raises(ValidationError, match="too common"):
        services.role_grant(username="weak", role="partner", coalitions=[coalition], password="password123")
    assert not get_user_model().objects.filter(username="weak").exists()


def test_seat_set_replaces_the_role_in_that_coalition_only(coalition, other_coalition, member_a, admin_user):
    user = factories.persona("mix", "secretariat", coalitions=[coalition, other_coalition])

    seat, previous = services.seat_set(
        acting_user=admin_user, user=user, coalition=coalition, role="member-editor", member=member_a
    )

    assert previous == "secretariat"
    assert dict(user.seats.values_list("coalition__slug", "role")) == {
        "test-coalition": "member-editor",
        "other-coalition": "secretariat",
    }
    assert seat.history.latest().history_user == admin_user
    assert not permissions.can_manage(user, coalition)
    assert permissions.can_manage(user, other_coalition)


def test_a_member_is_kept_only_on_a_member_editors_seat(coalition, member_a, admin_user):
    user = factories.persona("ed", "member-editor", member=member_a, coalitions=[coalition])
    seat, _previous = services.seat_set(acting_user=admin_user, user=user, coalition=coalition, role="steering")
    assert seat.member is None


def test_only_an_administrator_gives_seats(coalition, secretariat, steering):
    with pytest.raises(PermissionDenied):
        services.seat_set(acting_user=secretariat, user=steering, coalition=coalition, role="secretariat")
    with pytest.raises(PermissionDenied):
        services.seat_remove(acting_user=secretariat, user=steering, coalition=coalition)
    assert steering.seats.get().role == "steering"


def test_seat_remove_takes_the_role_in_one_coalition(coalition, other_coalition, admin_user):
    user = factories.persona("mix", "steering", coalitions=[coalition, other_coalition])

    assert services.seat_remove(acting_user=admin_user, user=user, coalition=coalition) == "steering"
    assert services.seat_remove(acting_user=admin_user, user=user, coalition=coalition) is None

    assert list(user.seats.values_list("coalition__slug", flat=True)) == ["other-coalition"]
    assert not permissions.can_read_coalition(user, coalition)


@pytest.mark.parametrize(
    ("role", "member"),
    [("member-editor", None), ("steering", "EE"), ("king", None)],
)
def test_database_refuses_a_broken_seat(coalition, member_a, role, member):
    user = get_user_model().objects.create_user("broken")
    with pytest.raises(IntegrityError), transaction.atomic():
        Seat.objects.create(user=user, coalition=coalition, role=role, member=member_a if member else None)
    assert not Seat.objects.exists()


def test_database_refuses_two_seats_in_one_coalition(coalition, steering):
    with pytest.raises(IntegrityError), transaction.atomic():
        Seat.objects.create(user=steering, coalition=coalition, role="partner")
    assert steering.seats.count() == 1


def test_every_user_gets_a_profile():
    user = get_user_model().objects.create_user("newcomer")
    assert Profile.objects.filter(user=user).exists()
    assert str(user.profile) == "profile of newcomer"


# --- API keys ------------------------------------------------------------------------------------


def test_api_key_is_stored_as_a_digest(partner):
    api_key, raw = services.api_key_create(owner=partner, name="dashboard")
    assert api_key.digest == hash_key(raw)
    assert raw not in {api_key.digest, api_key.prefix, api_key.name}
    assert raw.startswith(api_key.prefix)
    assert api_key.is_active


def test_api_key_revoked_by_its_owner_or_an_administrator_only(partner, steering, admin_user):
    api_key, _raw = services.api_key_create(owner=partner)
    with pytest.raises(PermissionDenied):
        services.api_key_revoke(acting_user=steering, api_key=api_key)
    services.api_key_revoke(acting_user=admin_user, api_key=api_key)
    api_key.refresh_from_db()
    assert not api_key.is_active
    own, _raw = services.api_key_create(owner=partner)
    services.api_key_revoke(acting_user=partner, api_key=own)
    assert APIKey.objects.get(pk=own.pk).revoked_at is not None


def test_database_refuses_a_duplicate_api_key_digest(partner):
    api_key, _raw = services.api_key_create(owner=partner)
    with pytest.raises(IntegrityError), transaction.atomic():
        APIKey.objects.create(owner=partner, name="copy", prefix="x", digest=api_key.digest)
