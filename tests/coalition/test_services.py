"""Coalition services: coalitions, members, memberships, roles and API keys, and their constraints."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from coalition import permissions, services
from coalition.api.authentication import hash_key
from coalition.models import APIKey, Coalition, Member, Membership, Profile
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


def test_member_create_normalises_the_code(secretariat):
    member = services.member_create(acting_user=secretariat, code=" dk ", name="Denmark")
    assert (member.code, str(member)) == ("DK", "Denmark (DK)")


@pytest.mark.parametrize(
    ("code", "kind"),
    [("DNK", "country"), ("D1", "country"), ("", "country"), ("N", "organisation"), ("NA-TO", "organisation")],
)
def test_member_code_follows_its_kind(secretariat, code, kind):
    with pytest.raises(ValidationError):
        services.member_create(acting_user=secretariat, code=code, name="X", kind=kind)


def test_member_code_is_unique(secretariat, member_a):
    with pytest.raises(ValidationError):
        services.member_create(acting_user=secretariat, code="EE", name="Estonia again")


def test_organisations_take_longer_codes(secretariat):
    assert services.member_create(acting_user=secretariat, code="NATO", name="NATO", kind="organisation").code == "NATO"


@pytest.mark.parametrize("persona", ["editor_a", "steering", "partner", "outsider"])
def test_only_the_secretariat_registers_members(request, persona):
    with pytest.raises(PermissionDenied):
        services.member_create(acting_user=request.getfixturevalue(persona), code="DK", name="Denmark")
    assert not Member.objects.filter(code="DK").exists()


def test_member_update_keeps_the_code(secretariat, member_a):
    services.member_update(acting_user=secretariat, member=member_a, name="Republic of Estonia")
    member_a.refresh_from_db()
    assert (member_a.code, member_a.name) == ("EE", "Republic of Estonia")
    with pytest.raises(ValidationError):
        services.member_update(acting_user=secretariat, member=member_a, kind="organisation-ish")


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


# --- Roles ---------------------------------------------------------------------------------------


def test_role_grant_creates_the_user_with_member_and_coalitions(coalition, member_a):
    user, created = services.role_grant(
        username="kadri", role="member-editor", member=member_a, coalitions=[coalition], email="kadri@example.org"
    )
    assert created
    assert not user.has_usable_password()
    assert list(user.groups.values_list("name", flat=True)) == ["member-editor"]
    profile = Profile.objects.get(user=user)
    assert profile.member == member_a
    assert list(profile.coalitions.all()) == [coalition]
    assert permissions.can_write_pledge_for(user, coalition, member_a)


def test_role_grant_twice_changes_nothing(coalition):
    services.role_grant(username="sam", role="steering", coalitions=[coalition], password="pw-123456789")
    user, created = services.role_grant(username="sam", role="steering", coalitions=[coalition])
    assert not created
    assert user.check_password("pw-123456789")
    assert get_user_model().objects.filter(username="sam").count() == 1
    assert user.groups.count() == 1


def test_role_grant_refuses_unknown_roles_and_editors_without_member():
    with pytest.raises(ValidationError) as excinfo:
        services.role_grant(username="x", role="king")
    assert "role" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.role_grant(username="x", role="member-editor")
    assert "member" in excinfo.value.message_dict
    assert not get_user_model().objects.filter(username="x").exists()


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
