"""grant_role, revoke_role and create_api_key: the commands that give people their seats and partners
their keys."""

import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from coalition.api.authentication import APIKeyAuthentication, hash_key
from coalition.models import APIKey
from tests import factories

User = get_user_model()


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_grant_role_creates_the_user_with_a_seat_password_and_email(coalition, member_a):
    output = run(
        "grant_role",
        "kadri",
        "member-editor",
        "--member",
        "ee",
        "--coalition",
        coalition.slug,
        "--password",
        factories.PASSWORD,
        "--email",
        "kadri@example.org",
    )

    user = User.objects.get(username="kadri")
    assert user.email == "kadri@example.org"
    assert list(user.seats.values_list("coalition__slug", "role", "member__code")) == [
        ("test-coalition", "member-editor", "EE")
    ]
    assert authenticate(username="kadri", password=factories.PASSWORD) == user
    assert "Created user kadri: password set." in output
    assert "  test-coalition: member-editor for EE (new seat)" in output
    assert "seats now: test-coalition: member-editor for EE" in output


def test_a_role_is_held_per_coalition(coalition, other_coalition):
    """The secretariat of one coalition may only sit on another's steering group."""
    run("grant_role", "sec-mix", "secretariat", "--coalition", coalition.slug, "--password", factories.PASSWORD)

    output = run("grant_role", "sec-mix", "steering", "--coalition", other_coalition.slug)

    user = User.objects.get(username="sec-mix")
    assert dict(user.seats.values_list("coalition__slug", "role")) == {
        "test-coalition": "secretariat",
        "other-coalition": "steering",
    }
    assert "Updated existing user sec-mix: password unchanged." in output
    assert "seats now: other-coalition: steering; test-coalition: secretariat" in output
    assert authenticate(username="sec-mix", password=factories.PASSWORD) is not None


def test_grant_role_again_changes_the_role_in_that_coalition(coalition):
    run("grant_role", "sofia", "partner", "--coalition", coalition.slug)

    output = run("grant_role", "sofia", "steering", "--coalition", coalition.slug)

    assert list(User.objects.get(username="sofia").seats.values_list("role", flat=True)) == ["steering"]
    assert "  test-coalition: steering (was partner)" in output


def test_grant_role_repeats_the_coalition_option(coalition, other_coalition):
    output = run("grant_role", "two", "partner", "--coalition", coalition.slug, "--coalition", other_coalition.slug)

    assert User.objects.get(username="two").seats.filter(role="partner").count() == 2
    assert "seats now: other-coalition: partner; test-coalition: partner" in output


def test_grant_role_without_password_leaves_a_new_user_unable_to_sign_in(coalition):
    output = run("grant_role", "nopass", "partner", "--coalition", coalition.slug)

    assert not User.objects.get(username="nopass").has_usable_password()
    assert "no password" in output


def test_grant_role_checks_the_password_with_the_validators(coalition):
    with pytest.raises(CommandError, match="too short"):
        call_command("grant_role", "weak", "partner", "--coalition", coalition.slug, "--password", "1")
    assert not User.objects.filter(username="weak").exists()


def test_grant_role_refuses_an_unknown_role(db):
    with pytest.raises(CommandError, match=r"Unknown role 'admin': use one of secretariat, member-editor"):
        call_command("grant_role", "x", "admin")
    assert not User.objects.filter(username="x").exists()


def test_grant_role_needs_a_coalition(db):
    with pytest.raises(CommandError, match="A role is held in a coalition"):
        call_command("grant_role", "x", "steering")
    assert not User.objects.filter(username="x").exists()


def test_grant_role_refuses_an_unknown_member(member_a, coalition):
    with pytest.raises(CommandError, match=r"No member with code 'ZZ' \(known: EE\)"):
        call_command("grant_role", "x", "member-editor", "--member", "ZZ", "--coalition", coalition.slug)
    assert not User.objects.filter(username="x").exists()


def test_grant_role_refuses_an_unknown_coalition(coalition):
    with pytest.raises(CommandError, match=r"No coalition with slug 'nope' \(known: test-coalition\)"):
        call_command("grant_role", "x", "steering", "--coalition", "nope")
    assert not User.objects.filter(username="x").exists()


def test_grant_role_refuses_a_member_editor_without_member(coalition):
    with pytest.raises(CommandError, match="needs the member"):
        call_command("grant_role", "x", "member-editor", "--coalition", coalition.slug)
    assert not User.objects.filter(username="x").exists()


def test_grant_role_refuses_a_member_that_does_not_sit_in_the_coalition(coalition, other_coalition, member_a):
    with pytest.raises(CommandError, match=r"Estonia \(EE\) is not a member of Other Coalition"):
        call_command("grant_role", "x", "member-editor", "--member", "EE", "--coalition", other_coalition.slug)
    assert not User.objects.filter(username="x").exists()


def test_revoke_role_takes_the_seat_in_one_coalition_away(coalition, other_coalition):
    run("grant_role", "sec-mix", "secretariat", "--coalition", coalition.slug)
    run("grant_role", "sec-mix", "steering", "--coalition", other_coalition.slug)

    output = run("revoke_role", "sec-mix", "--coalition", other_coalition.slug)

    assert dict(User.objects.get(username="sec-mix").seats.values_list("coalition__slug", "role")) == {
        "test-coalition": "secretariat"
    }
    assert "sec-mix is no longer steering in other-coalition." in output
    assert "seats now: test-coalition: secretariat" in output


def test_revoke_role_without_a_seat_says_there_was_nothing_to_do(coalition):
    run("grant_role", "solo", "partner", "--coalition", coalition.slug)
    run("revoke_role", "solo", "--coalition", coalition.slug)

    output = run("revoke_role", "solo", "--coalition", coalition.slug)

    assert "solo had no seat in test-coalition: nothing to do." in output
    assert "seats now: none" in output


def test_revoke_role_refuses_an_unknown_user_or_coalition(coalition):
    with pytest.raises(CommandError, match="No user 'ghost'"):
        call_command("revoke_role", "ghost", "--coalition", coalition.slug)
    run("grant_role", "solo", "partner", "--coalition", coalition.slug)
    with pytest.raises(CommandError, match="No coalition with slug 'nope'"):
        call_command("revoke_role", "solo", "--coalition", "nope")
    with pytest.raises(CommandError, match="Give --coalition"):
        call_command("revoke_role", "solo")


def test_create_api_key_prints_the_key_once_as_its_last_line(partner):
    output = run("create_api_key", partner.username, "--name", "dashboard sync")

    raw_key = output.strip().splitlines()[-1]
    api_key = APIKey.objects.get(owner=partner)
    assert api_key.name == "dashboard sync"
    assert api_key.digest == hash_key(raw_key)
    assert raw_key.startswith(api_key.prefix)
    assert raw_key not in {api_key.digest, api_key.prefix}, "only the digest is stored"
    user, authenticated_key = APIKeyAuthentication().authenticate_credentials(raw_key)
    assert (user, authenticated_key) == (partner, api_key)


def test_create_api_key_issues_a_new_key_each_time(partner):
    first = run("create_api_key", partner.username).strip().splitlines()[-1]
    second = run("create_api_key", partner.username).strip().splitlines()[-1]

    assert first != second
    assert APIKey.objects.filter(owner=partner).count() == 2


def test_create_api_key_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user 'ghost'"):
        call_command("create_api_key", "ghost")
    assert APIKey.objects.count() == 0


def test_create_api_key_refuses_an_inactive_user(partner):
    partner.is_active = False
    partner.save(update_fields=["is_active"])

    with pytest.raises(CommandError, match="inactive"):
        call_command("create_api_key", partner.username)
    assert APIKey.objects.count() == 0
