"""Signing in: failed-attempt limits and their unlock, the second factor (TOTP, recovery codes) and who
must enrol, session lifetime, and the security log every step writes."""

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from coalition import services
from coalition.models import SecurityEvent
from tests import factories

pytestmark = pytest.mark.django_db
K = SecurityEvent.Kind
LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


def sign_in(client, username, password=factories.PASSWORD, **extra):
    return client.post(LOGIN, {"login": username, "password": password}, **extra)


def form_errors(response):
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


def totp_code(secret):
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def kinds(user=None):
    events = SecurityEvent.objects.order_by("pk")
    if user is not None:
        events = events.filter(username=user.username)
    return [event.kind for event in events]


# --- Failed attempts ------------------------------------------------------------------------------


def test_the_sixth_wrong_password_locks_the_account_with_a_message(client, secretariat):
    for _attempt in range(5):
        assert "not correct" in form_errors(sign_in(client, "secretariat", "wrong"))
    assert "Too many failed login attempts" in form_errors(sign_in(client, "secretariat", "wrong"))
    # and the right password, too, until the window passes or someone unlocks it
    response = sign_in(client, "secretariat")
    assert response.status_code == 200
    assert "Too many failed login attempts" in form_errors(response)
    assert "_auth_user_id" not in client.session
    assert kinds(secretariat) == [K.SEAT_CHANGED] + [K.SIGNIN_FAILED] * 5 + [K.LOCKED_OUT] * 2


@pytest.mark.translations
def test_the_lockout_message_is_translated(client, secretariat):
    client.cookies["django_language"] = "uk"
    for _attempt in range(6):
        response = sign_in(client, "secretariat", "wrong", HTTP_ACCEPT_LANGUAGE="uk")
    assert "Занадто багато невдалих спроб входу" in form_errors(response)


def test_the_limit_is_per_account_whatever_host_name_is_asked(client, secretariat, settings):
    settings.ALLOWED_HOSTS = ["a.example", "b.example", "testserver"]
    for host in ("a.example", "b.example", "testserver", "a.example", "b.example"):
        sign_in(client, "secretariat", "wrong", HTTP_HOST=host)
    assert "Too many" in form_errors(sign_in(client, "secretariat", "wrong", HTTP_HOST="b.example"))


def test_the_limit_per_address_covers_many_accounts(client, coalition, settings):
    users = [factories.persona(f"user{i}", "steering", coalitions=[coalition]) for i in range(3)]
    from allauth.account import app_settings

    rates = {"login_failed": "4/900s/ip,5/900s/key"}
    settings.ACCOUNT_RATE_LIMITS = rates
    assert app_settings.RATE_LIMITS["login_failed"] == rates["login_failed"]
    for i in range(4):
        sign_in(client, users[i % 3].username, "wrong")
    assert "Too many" in form_errors(sign_in(client, users[2].username, "wrong"))
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert "not correct" in form_errors(sign_in(other, users[2].username, "wrong"))


def test_the_unlock_command_lets_the_account_in_again_and_is_logged(client, secretariat, capsys):
    for _attempt in range(6):
        sign_in(client, "secretariat", "wrong")
    call_command("unlock_signin", "secretariat")
    assert "may sign in again" in capsys.readouterr().out
    assert sign_in(client, "secretariat").status_code == 302
    assert kinds(secretariat)[-2:] == [K.UNLOCKED, K.SIGNIN]


def test_the_admin_unlocks_with_a_user_action(client, admin_user, secretariat):
    for _attempt in range(6):
        sign_in(Client(), "secretariat", "wrong")
    admin = Client()
    admin.force_login(admin_user)
    response = admin.post(
        "/admin/auth/user/", {"action": "unlock_signin", "_selected_action": [secretariat.pk]}, follow=True
    )
    assert "Sign-in unlocked for 1 accounts" in response.content.decode()
    assert sign_in(client, "secretariat").status_code == 302
    unlocked = SecurityEvent.objects.get(kind=K.UNLOCKED)
    assert (unlocked.user, unlocked.actor) == (secretariat, admin_user)


def test_a_reader_may_not_unlock(steering, secretariat):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.signin_unlock(acting_user=steering, user=secretariat)


def test_the_admin_sign_in_goes_through_the_portal_sign_in(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- The second factor ----------------------------------------------------------------------------


def enrol_totp(client):
    """Enrol TOTP through the pages as a person would; returns the secret."""
    page = client.get("/accounts/2fa/totp/activate/")
    if page.status_code == 302 and page["Location"].startswith("/accounts/reauthenticate/"):
        # allauth asks for the password again before a second factor is added
        client.post(page["Location"], {"password": factories.PASSWORD})
        page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200, page.get("Location")
    secret = client.session["mfa.totp.secret"]
    response = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    return secret


def test_totp_enrolment_then_sign_in_asks_for_the_code(client, secretariat, django_capture_on_commit_callbacks):
    assert sign_in(client, "secretariat").status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        secret = enrol_totp(client)
    client.post("/accounts/logout/")
    response = sign_in(client, "secretariat")
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    right = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(secretariat.pk)
    assert {K.MFA_ADDED, K.MFA_FAILED, K.SIGNIN} <= set(kinds(secretariat))


def test_a_recovery_code_signs_in_once(client, secretariat):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    sign_in(client, "secretariat")
    enrol_totp(client)
    codes = RecoveryCodes(Authenticator.objects.get(user=secretariat, type="recovery_codes")).get_unused_codes()
    assert len(codes) == 10
    client.post("/accounts/logout/")
    sign_in(client, "secretariat")
    assert client.post("/accounts/2fa/authenticate/", {"code": codes[0]}).status_code == 302
    client.post("/accounts/logout/")
    sign_in(client, "secretariat")
    assert client.post("/accounts/2fa/authenticate/", {"code": codes[0]}).status_code == 200
    assert "_auth_user_id" not in client.session


def test_recovery_codes_download_once_per_set(client, secretariat):
    sign_in(client, "secretariat")
    enrol_totp(client)
    first = client.get("/accounts/2fa/recovery-codes/download/")
    assert first.status_code == 200 and len(first.content.decode().split()) == 10
    again = client.get("/accounts/2fa/recovery-codes/download/")
    assert again.status_code == 302 and again["Location"] == "/accounts/2fa/recovery-codes/generate/"


def test_privileged_people_must_enrol_when_the_setting_is_on(client, secretariat, steering, admin_user, settings):
    settings.MFA_REQUIRED_FOR_PRIVILEGED = True
    for person in (secretariat, admin_user):
        c = Client()
        c.force_login(person)
        assert c.get("/pledges/")["Location"] == "/accounts/2fa/"
        assert c.get("/api/v1/pledges/").status_code == 403
        assert c.get("/accounts/2fa/").status_code == 200
    reader = Client()
    reader.force_login(steering)
    assert reader.get("/pledges/").status_code == 200


def test_api_keys_are_unaffected_by_the_second_factor(secretariat, settings):
    settings.MFA_REQUIRED_FOR_PRIVILEGED = True
    _key, raw = services.api_key_create(owner=secretariat, name="sync")
    assert Client().get("/api/v1/pledges/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 200


def test_once_enrolled_the_portal_opens(client, secretariat, settings):
    settings.MFA_REQUIRED_FOR_PRIVILEGED = True
    sign_in(client, "secretariat")
    enrol_totp(client)
    assert client.get("/pledges/").status_code == 200


# --- Sessions -------------------------------------------------------------------------------------


def test_an_idle_session_ends(client, secretariat, settings):
    client.force_login(secretariat)
    session = client.session
    session["_portal_seen_at"] = int(time.time()) - settings.SESSION_IDLE_MINUTES * 60 - 1
    session.save()
    assert client.get("/pledges/")["Location"].startswith("/accounts/login/")


def test_a_session_ends_after_its_lifetime_however_busy(client, secretariat, settings):
    client.force_login(secretariat)
    session = client.session
    session["_portal_signed_in_at"] = int(time.time()) - settings.SESSION_MAX_HOURS * 3600 - 1
    session.save()
    assert client.get("/pledges/")["Location"].startswith("/accounts/login/")


def test_a_fresh_session_is_not_written_by_reading_pages(client, secretariat, django_assert_num_queries):
    client.force_login(secretariat)
    client.get("/pledges/")
    before = client.session["_portal_seen_at"]
    client.get("/pledges/")
    assert client.session["_portal_seen_at"] == before


# --- The security log -----------------------------------------------------------------------------


def test_key_and_seat_changes_are_logged_with_who(secretariat, admin_user, coalition):
    api_key, _raw = services.api_key_create(owner=secretariat, name="sync", acting_user=admin_user)
    services.api_key_revoke(acting_user=admin_user, api_key=api_key)
    services.seat_set(acting_user=admin_user, user=secretariat, coalition=coalition, role="steering")
    events = list(SecurityEvent.objects.order_by("pk").values_list("kind", "actor__username", "detail"))
    assert events[-3:] == [
        (K.API_KEY_CREATED, "admin", {"key": api_key.prefix, "name": "sync"}),
        (K.API_KEY_REVOKED, "admin", {"key": api_key.prefix}),
        (K.SEAT_CHANGED, "admin", {"coalition": "test-coalition", "before": "secretariat", "after": "steering"}),
    ]


def test_the_address_is_the_client_unless_a_proxy_is_configured(secretariat, settings):
    spoofed = {"HTTP_X_FORWARDED_FOR": "203.0.113.7", "REMOTE_ADDR": "10.1.1.1"}
    sign_in(Client(), "secretariat", "wrong", **spoofed)
    assert SecurityEvent.objects.filter(kind=K.SIGNIN_FAILED).latest("pk").ip_address == "10.1.1.1"
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    sign_in(Client(), "secretariat", "wrong", **{**spoofed, "HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.7"})
    assert SecurityEvent.objects.filter(kind=K.SIGNIN_FAILED).latest("pk").ip_address == "203.0.113.7"


def test_the_log_is_kept_for_the_retention_setting(secretariat, settings):
    from coalition.tasks import security_log_purge

    settings.SECURITY_LOG_RETENTION_DAYS = 30
    old = services.security_event_record(kind=K.SIGNIN, user=secretariat)
    SecurityEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    kept = services.security_event_record(kind=K.SIGNIN, user=secretariat)
    assert security_log_purge() == 1
    assert list(SecurityEvent.objects.filter(kind=K.SIGNIN)) == [kept]
    assert settings.CELERY_BEAT_SCHEDULE["coalition-security-log-purge"]["task"] == "coalition.tasks.security_log_purge"


def test_the_log_is_read_only_in_the_admin_and_only_for_administrators(client, admin_user, secretariat):
    event = services.security_event_record(kind=K.SIGNIN, user=secretariat)
    client.force_login(admin_user)
    listing = client.get("/admin/coalition/securityevent/")
    assert listing.status_code == 200 and "secretariat" in listing.content.decode()
    assert client.get(f"/admin/coalition/securityevent/{event.pk}/change/").status_code == 200
    assert client.post(f"/admin/coalition/securityevent/{event.pk}/delete/").status_code == 403
    assert client.get("/admin/coalition/securityevent/add/").status_code == 403


def test_grant_role_refuses_a_weak_password(coalition):
    from django.core.management.base import CommandError

    with pytest.raises((CommandError, Exception), match="too short|too common|entirely numeric"):
        call_command("grant_role", "alice", "secretariat", "--coalition", coalition.slug, "--password", "1")
