"""grant_role and create_api_key: the commands that make the first users and the partners' keys."""

import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from coalition.api.authentication import APIKeyAuthentication, hash_key
from coalition.models import APIKey, Profile
from tests import factories

User = get_user_model()


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_grant_role_creates_the_user_with_role_member_coalitions_and_password(coalition, other_coalition, member_a):
    output = run(
        "grant_role",
        "kadri",
        "member-editor",
        "--member",
        "ee",
        "--coalition",
        coalition.slug,
        "--coalition",
        other_coalition.slug,
        "--password",
        factories.PASSWORD,
        "--email",
        "kadri@example.org",
    )

    user = User.objects.get(username="kadri")
    assert user.email == "kadri@example.org"
    assert list(user.groups.values_list("name", flat=True)) == ["member-editor"]
    profile = Profile.objects.get(user=user)
    assert profile.member == member_a
    assert set(profile.coalitions.all()) == {coalition, other_coalition}
    assert authenticate(username="kadri", password=factories.PASSWORD) == user
    assert "Created user kadri: password set." in output
    assert "granted role: member-editor" in output
    assert "member: Estonia (EE)" in output
    assert "coalitions: other-coalition, test-coalition" in output


def test_grant_role_on_an_existing_user_adds_to_what_they_have(coalition, other_coalition):
    run("grant_role", "sofia", "steering", "--coalition", coalition.slug, "--password", factories.PASSWORD)

    output = run("grant_role", "sofia", "partner", "--coalition", other_coalition.slug)

    assert User.objects.filter(username="sofia").count() == 1
    assert "Updated existing user sofia: password unchanged." in output
    assert "roles now: partner, steering" in output
    assert "coalitions: other-coalition, test-coalition" in output
    assert authenticate(username="sofia", password=factories.PASSWORD) is not None


def test_grant_role_without_password_leaves_a_new_user_unable_to_sign_in(coalition):
    output = run("grant_role", "nopass", "partner", "--coalition", coalition.slug)

    assert not User.objects.get(username="nopass").has_usable_password()
    assert "no password" in output


def test_grant_role_refuses_an_unknown_role(db):
    with pytest.raises(CommandError, match=r"Unknown role 'admin': use one of secretariat, member-editor"):
        call_command("grant_role", "x", "admin")
    assert not User.objects.filter(username="x").exists()


def test_grant_role_refuses_an_unknown_member(member_a):
    with pytest.raises(CommandError, match=r"No member with code 'ZZ' \(known: EE\)"):
        call_command("grant_role", "x", "member-editor", "--member", "ZZ")
    assert not User.objects.filter(username="x").exists()


def test_grant_role_refuses_an_unknown_coalition(coalition):
    with pytest.raises(CommandError, match=r"No coalition with slug 'nope' \(known: test-coalition\)"):
        call_command("grant_role", "x", "steering", "--coalition", "nope")
    assert not User.objects.filter(username="x").exists()


def test_grant_role_refuses_a_member_editor_without_member(coalition):
    with pytest.raises(CommandError, match="needs a member"):
        call_command("grant_role", "x", "member-editor", "--coalition", coalition.slug)
    assert not User.objects.filter(username="x").exists()


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
