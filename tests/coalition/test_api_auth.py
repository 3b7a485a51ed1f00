"""API keys in use: a key issued by the service (or the command) authenticates as its owner, a
revoked one gets 401, its last use is recorded; session sign-in works for the browser; each key and
anonymous clients are throttled."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from coalition.models import APIKey
from coalition.services import api_key_create, api_key_revoke
from contributions import services as contribution_services
from meetings import services as meeting_services
from tests.api_mixins import client_with_key

pytestmark = pytest.mark.django_db

PLEDGES = reverse("api:pledge-list")


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def test_a_key_from_the_service_authenticates_as_its_owner(partner, pledge_a):
    api_key, raw = api_key_create(owner=partner, name="ministry sync")
    response = client_with_key(raw).get(PLEDGES)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [pledge_a.pk]


def test_a_key_from_the_command_authenticates(partner, pledge_a):
    out = StringIO()
    call_command("create_api_key", partner.username, "--name", "cli", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    assert client_with_key(raw).get(PLEDGES).status_code == 200


def test_a_revoked_key_gets_401(partner, pledge_a):
    api_key, raw = api_key_create(owner=partner)
    client = client_with_key(raw)
    assert client.get(PLEDGES).status_code == 200
    api_key_revoke(acting_user=partner, api_key=api_key)
    response = client.get(PLEDGES)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked API key."}
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    "header", ["Token not-a-key", "Token", "Token two words", "Bearer abc", "Basic dXNlcjpwYXNz", "Token \x00"]
)
def test_malformed_or_unknown_credentials_get_401_or_are_ignored(partner, header):
    response = APIClient().get(PLEDGES, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert "detail" in response.json()


def test_a_key_of_an_inactive_user_gets_401(partner):
    _api_key, raw = api_key_create(owner=partner)
    partner.is_active = False
    partner.save(update_fields=["is_active"])
    assert client_with_key(raw).get(PLEDGES).status_code == 401


def test_last_used_at_is_recorded_at_most_once_a_minute(partner, settings):
    # The key read from the database each time (remembered keys: test_api_revalidation.py).
    settings.API_REVALIDATION_TIMEOUT = 0
    api_key, raw = api_key_create(owner=partner)
    assert api_key.last_used_at is None
    client = client_with_key(raw)
    client.get(PLEDGES)
    api_key.refresh_from_db()
    first = api_key.last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=30)
    client.get(PLEDGES)
    api_key.refresh_from_db()
    assert api_key.last_used_at == first, "no write for a request within the minute"
    APIKey.objects.filter(pk=api_key.pk).update(last_used_at=first - timedelta(minutes=5))
    client.get(PLEDGES)
    api_key.refresh_from_db()
    assert api_key.last_used_at > first


def test_only_the_digest_is_stored(partner):
    api_key, raw = api_key_create(owner=partner)
    stored = APIKey.objects.filter(pk=api_key.pk).values()[0]
    assert raw not in {str(value) for value in stored.values()}


def test_session_sign_in_works_for_the_browser(client, partner, pledge_a):
    client.force_login(partner)
    assert client.get(PLEDGES).status_code == 200
    html = client.get(PLEDGES, HTTP_ACCEPT="text/html")
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("persona", ["secretariat", "partner"])
def test_the_browsable_api_renders_every_resource(client, personas, persona, pledge_a, coalition, member_a):
    meeting = meeting_services.meeting_create(
        acting_user=None, coalition=coalition, title="Steering", starts_at=datetime(2024, 2, 2, tzinfo=UTC)
    )
    decision = meeting_services.decision_record(acting_user=None, meeting=meeting, text="Priorities set.")
    item = meeting_services.action_item_add(acting_user=None, meeting=meeting, text="Roadmap", owner=member_a)
    priority = contribution_services.priority_create(
        acting_user=None, coalition=coalition, title="Laptops", estimated_cost_eur=Decimal("5.00")
    )
    client.force_login(personas[persona])
    for url in [
        "/api/v1/",
        f"/api/v1/pledges/{pledge_a.pk}/",
        f"/api/v1/meetings/{meeting.pk}/",
        f"/api/v1/decisions/{decision.pk}/",
        f"/api/v1/action-items/{item.pk}/",
        f"/api/v1/priorities/{priority.pk}/",
        "/api/v1/members/EE/",
        "/api/v1/coalitions/test-coalition/",
        "/api/v1/summary/?coalition=test-coalition",
        *(reverse(f"api:{name}-list") for name in ("pledge", "disbursement", "allocation", "exchange-rate")),
    ]:
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html"), url


def test_session_writes_need_the_csrf_token(secretariat, coalition):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(secretariat)
    response = client.post(reverse("api:priority-list"), {"title": "x"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_each_key_is_throttled_on_its_own(monkeypatch, partner, steering):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "key", "3/minute")
    noisy = client_with_key(api_key_create(owner=partner)[1])
    quiet = client_with_key(api_key_create(owner=steering)[1])
    assert [noisy.get(PLEDGES).status_code for _ in range(3)] == [200, 200, 200]
    throttled = noisy.get(PLEDGES)
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert "throttled" in throttled.json()["detail"]
    assert quiet.get(PLEDGES).status_code == 200


def test_a_second_key_of_the_same_user_has_its_own_allowance(monkeypatch, partner):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "key", "1/minute")
    first = client_with_key(api_key_create(owner=partner, name="one")[1])
    second = client_with_key(api_key_create(owner=partner, name="two")[1])
    assert first.get(PLEDGES).status_code == 200
    assert first.get(PLEDGES).status_code == 429
    assert second.get(PLEDGES).status_code == 200


def test_anonymous_clients_are_throttled(monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "2/minute")
    client = APIClient()
    assert [client.get("/api/schema/").status_code for _ in range(2)] == [200, 200]
    assert client.get("/api/schema/").status_code == 429
