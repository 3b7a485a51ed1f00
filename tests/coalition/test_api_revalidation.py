"""A repeated conditional GET of an API list answered from the cache (coalition.api.conditional's
RevalidationMiddleware): no query when nothing was written since, and never a 304 after a write, a
revoked key or a removed seat."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from coalition import services as coalition_services
from coalition.api import conditional
from coalition.models import APIKey
from contributions import services
from tests import factories
from tests.api_mixins import APITestBase

pytestmark = pytest.mark.django_db
PLEDGES = reverse("api:pledge-list")


@pytest.fixture
def pledge(coalition, member_a, rates):
    return factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal(1000))


class TestRevalidation(APITestBase):
    @pytest.fixture(autouse=True)
    def _on(self, settings):
        settings.API_REVALIDATION_TIMEOUT = 3600

    def conditional(self, client, etag, **headers):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(PLEDGES, {"page_size": 2}, HTTP_IF_NONE_MATCH=etag, **headers)
        return response, len(queries)

    def test_a_repeated_conditional_get_is_a_304_without_a_query_and_with_the_views_headers(self, api, pledge):
        client = api("partner")
        first = client.get(PLEDGES, {"page_size": 2})
        assert first.status_code == 200
        with override_settings(API_REVALIDATION_TIMEOUT=0):
            from_view, view_queries = self.conditional(client, first["ETag"])
        assert from_view.status_code == 304 and view_queries == 3
        shortcut, queries = self.conditional(client, first["ETag"])
        assert shortcut.status_code == 304 and queries == 0
        for header in ("ETag", "Vary", "Cache-Control", "Content-Language"):
            assert shortcut.get(header) == from_view.get(header), header
        stale, queries = self.conditional(client, '"stale"')
        assert stale.status_code == 200 and queries > 0

    def test_a_write_a_revoked_key_and_a_removed_seat_go_through_the_view(self, api, keys, pledge, coalition, partner):
        client = api("partner")
        etag = client.get(PLEDGES, {"page_size": 2})["ETag"]
        assert self.conditional(client, etag)[1] == 0
        services.pledge_update(acting_user=None, pledge=pledge, version=pledge.version, title="Renamed")
        changed, _queries = self.conditional(client, etag)
        assert changed.status_code == 200 and changed["ETag"] != etag
        etag = changed["ETag"]
        assert self.conditional(client, etag)[1] == 0

        coalition_services.seat_remove(acting_user=None, user=partner, coalition=coalition)
        assert self.conditional(client, etag)[0].status_code == 403

        other = api("steering")
        etag = other.get(PLEDGES, {"page_size": 2})["ETag"]
        assert self.conditional(other, etag)[1] == 0
        key = APIKey.objects.get(owner__username="steering")
        coalition_services.api_key_revoke(acting_user=None, api_key=key)
        assert self.conditional(other, etag)[0].status_code == 401

    def test_another_language_a_cookie_and_a_star_go_through_the_view(self, api, pledge, monkeypatch):
        # (The view itself may need no query now either: the key and the stamp are remembered too.)
        views = []
        fingerprint = conditional.list_fingerprint
        monkeypatch.setattr(conditional, "list_fingerprint", lambda *a: views.append(1) or fingerprint(*a))
        client = api("partner")
        etag = client.get(PLEDGES, {"page_size": 2})["ETag"]
        assert self.conditional(client, etag)[0].status_code == 304 and len(views) == 1
        ukrainian, _queries = self.conditional(client, etag, HTTP_ACCEPT_LANGUAGE="uk")
        assert len(views) == 2 and ukrainian.status_code == 200  # another language, another ETag
        assert self.conditional(client, "*")[0].status_code == 304 and len(views) == 3
        client.cookies["sessionid"] = "x"
        self.conditional(client, etag)
        assert len(views) == 4

    def test_off_by_default_without_a_shared_cache(self, api, pledge):
        with override_settings(API_REVALIDATION_TIMEOUT=0):
            client = api("partner")
            etag = client.get(PLEDGES, {"page_size": 2})["ETag"]
            response, queries = self.conditional(client, etag)
        assert response.status_code == 304 and queries == 3


class TestRepeatedAnswer(APITestBase):
    """From the third identical GET in a generation, the 200 comes from the cache: the same body and
    headers as the view's, no query, counted by the key's rate limit; a write, the end of FRESH_FOR,
    a page asked for once and a body too large go through the view."""

    @pytest.fixture(autouse=True)
    def _on(self, settings):
        settings.API_REVALIDATION_TIMEOUT = 3600

    def get(self, client, **params):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(PLEDGES, {"page_size": 2, **params})
        return response, len(queries)

    def test_the_third_request_is_the_views_answer_without_a_query(self, api, pledge):
        client = api("partner")
        first, _queries = self.get(client)
        second, second_queries = self.get(client)
        third, queries = self.get(client)
        assert second_queries == 1 and queries == 0  # the page query; then nothing
        assert third.status_code == 200 and third.content == first.content == second.content
        assert int(third["Content-Length"]) == len(third.content)
        for header in ("ETag", "Content-Type", "Vary", "Cache-Control", "Content-Language", "Allow"):
            assert third.get(header) == second.get(header) and third.get(header), header
        assert third.json()["results"][0]["id"] == pledge.pk

    def test_a_write_goes_through_the_view_and_a_page_asked_once_keeps_no_body(
        self, api, pledge, coalition, member_a, monkeypatch
    ):
        client = api("partner")
        for _ in range(3):
            self.get(client)
        services.pledge_update(acting_user=None, pledge=pledge, version=pledge.version, title="Renamed")
        changed, queries = self.get(client)
        assert queries > 0 and changed.json()["results"][0]["title"] == "Renamed"
        kept = []
        keep = conditional.keep
        monkeypatch.setattr(conditional, "keep", lambda *args: kept.append(args[2]) or keep(*args))
        factories.make_pledge(coalition=coalition, member=member_a)
        self.get(client)  # the first answer of this generation: its ETag kept, not its body
        self.get(client)
        assert [entry["body"] is None for entry in kept if "etag" in entry] == [True, False]

    def test_the_view_answers_again_once_fresh_for_has_passed(self, api, pledge, partner):
        from datetime import timedelta
        from unittest import mock

        from django.utils import timezone

        client = api("partner")
        for _ in range(3):
            self.get(client)
        used = APIKey.objects.get(owner=partner).last_used_at
        later = timezone.now() + timedelta(seconds=conditional.FRESH_FOR + 1)
        with mock.patch("django.utils.timezone.now", return_value=later):
            response, queries = self.get(client)
            assert response.status_code == 200 and queries > 0
            assert self.get(client)[1] == 0  # kept again for the next FRESH_FOR
        assert APIKey.objects.get(owner=partner).last_used_at == later != used

    def test_an_answer_from_the_cache_is_counted_by_the_rate_limit(self, api, pledge, monkeypatch):
        from rest_framework.throttling import SimpleRateThrottle

        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "key", "4/minute")
        client = api("partner")
        answers = [self.get(client) for _ in range(5)]
        assert [response.status_code for response, _queries in answers] == [200, 200, 200, 200, 429]
        assert answers[2][1] == answers[3][1] == 0  # the third and fourth from the cache, yet counted
        assert int(answers[4][0]["Retry-After"]) > 0

    def test_one_cache_read_for_the_entry_the_key_and_the_stamp(self, api, pledge, monkeypatch):
        client = api("partner")
        self.get(client)  # the key and the stamp remembered
        reads = []
        get_many = conditional.shared.get_many
        monkeypatch.setattr(conditional.shared, "get_many", lambda keys: reads.append(sorted(keys)) or get_many(keys))
        response, queries = self.get(client, page_size=3)  # a request not asked before: through the view
        assert response.status_code == 200 and queries == 1  # only its page
        (keys,) = reads
        assert conditional.GENERATION_KEY in keys
        assert any(key.startswith("api-key:") for key in keys)
        assert "api-revalidation:stamp:contributions.pledge" in keys

    def test_a_body_too_large_is_not_kept(self, api, pledge, monkeypatch):
        monkeypatch.setattr(conditional, "MAX_KEPT_BODY", 10)
        client = api("partner")
        for _ in range(2):
            self.get(client)
        assert self.get(client)[1] == 1


@pytest.mark.django_db(transaction=True)
def test_a_write_replaces_the_generation_now_and_at_its_commit(coalition, member_a, rates):
    from django.core.cache import cache
    from django.db import transaction

    generations = [cache.get(conditional.GENERATION_KEY)]
    with transaction.atomic():
        factories.make_pledge(coalition=coalition, member=member_a)
        generations.append(cache.get(conditional.GENERATION_KEY))
        factories.make_pledge(coalition=coalition, member=member_a)
        generations.append(cache.get(conditional.GENERATION_KEY))
        registered = [c for _sids, c, _robust in connection.run_on_commit if c is conditional.new_generation]
    generations.append(cache.get(conditional.GENERATION_KEY))
    assert len(set(generations)) == 4  # each write, then the commit
    assert len(registered) == 1


class TestRememberedKey(APITestBase):
    """A key found valid is remembered with its owner's fields and seats under the cache generation
    (coalition.api.authentication): the next request reads neither, and any key, user or seat written
    makes the next one read them again."""

    @pytest.fixture(autouse=True)
    def _on(self, settings):
        settings.API_REVALIDATION_TIMEOUT = 3600

    def listing(self, client, **params):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(PLEDGES, params)
        return response, [q["sql"] for q in queries.captured_queries]

    def test_the_next_request_reads_no_key_seats_or_stamp_and_sees_the_same(self, api, pledge, coalition, member_a):
        draft = factories.make_pledge(coalition=coalition, member=member_a, status="draft")
        client = api("partner")
        first, first_sql = self.listing(client)
        again, sql = self.listing(client)
        assert any("coalition_apikey" in q for q in first_sql) and any("coalition_seat" in q for q in first_sql)
        assert not any("coalition_apikey" in q or "coalition_seat" in q or "MAX(" in q for q in sql), sql
        assert len(sql) == 1 and len(first_sql) == 5  # the key, its last use, the seats, the stamp: none
        assert again.json() == first.json() and again["ETag"] == first["ETag"]
        assert str(draft.pk) not in {str(row["id"]) for row in again.json()["results"]}  # still a partner

    def test_the_remembered_owner_is_the_owner(self, api, pledge, partner):
        from coalition.api.authentication import APIKeyAuthentication
        from coalition.models import APIKey as Key

        client = api("partner")
        client.get(PLEDGES)
        raw = client._credentials["HTTP_AUTHORIZATION"].split()[1]
        user, key = APIKeyAuthentication().authenticate_credentials(raw)
        for field in ("pk", "username", "email", "is_active", "is_staff", "is_superuser"):
            assert getattr(user, field) == getattr(partner, field), field
        assert key.pk == Key.objects.get(owner=partner).pk and key.revoked_at is None
        from django.core.cache import cache

        _generation, entry = cache.get(f"api-key:{key.digest}")
        assert "password" not in entry["owner"] and entry["seats"]

    def test_a_revoked_key_a_deactivated_owner_and_a_new_seat_are_read_again(
        self, api, pledge, coalition, member_a, partner, steering
    ):
        draft = factories.make_pledge(coalition=coalition, member=member_a, status="draft")
        client = api("partner")
        self.listing(client)
        coalition_services.seat_set(
            acting_user=None, user=partner, coalition=coalition, role="member-editor", member=member_a
        )
        response, sql = self.listing(client)
        assert any("coalition_seat" in q for q in sql)
        assert str(draft.pk) in {str(row["id"]) for row in response.json()["results"]}  # an editor now
        other = api("steering")
        self.listing(other)
        steering.is_active = False
        steering.save()
        assert self.listing(other)[0].status_code == 401
        coalition_services.api_key_revoke(acting_user=None, api_key=APIKey.objects.get(owner=partner))
        assert self.listing(client)[0].status_code == 401

    def test_a_remembered_key_still_records_its_use_once_a_minute(self, api, pledge, partner):
        from datetime import timedelta
        from unittest import mock

        from django.utils import timezone

        client = api("partner")
        client.get(PLEDGES)
        key = APIKey.objects.get(owner=partner)
        first = key.last_used_at
        client.get(PLEDGES)
        key.refresh_from_db()
        assert key.last_used_at == first
        later = timezone.now() + timedelta(minutes=2)
        with mock.patch("coalition.api.authentication.timezone.now", return_value=later):
            client.get(PLEDGES)
        key.refresh_from_db()
        assert key.last_used_at == later


class _Unreachable:
    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        return fail


class TestCacheDown(APITestBase):
    """The revalidation cache is a shortcut: with it down (Redis stopped), writes go on and lists are
    answered by their views (the fault drill confirms a pledge with Redis down)."""

    def test_writes_and_lists_go_on_without_the_cache(self, api, pledge, settings, monkeypatch, coalition, member_a):
        settings.API_REVALIDATION_TIMEOUT = 3600
        client = api("partner")
        etag = client.get(PLEDGES)["ETag"]
        monkeypatch.setattr(conditional, "cache", _Unreachable())
        services.pledge_update(acting_user=None, pledge=pledge, version=pledge.version, title="Renamed")
        factories.make_pledge(coalition=coalition, member=member_a)
        response = client.get(PLEDGES, HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 200 and response["ETag"] != etag
        assert client.get(PLEDGES, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
