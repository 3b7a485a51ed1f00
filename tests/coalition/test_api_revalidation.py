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

    def test_another_language_a_cookie_and_a_star_go_through_the_view(self, api, pledge):
        client = api("partner")
        etag = client.get(PLEDGES, {"page_size": 2})["ETag"]
        assert self.conditional(client, etag)[1] == 0
        ukrainian, queries = self.conditional(client, etag, HTTP_ACCEPT_LANGUAGE="uk")
        assert queries > 0 and ukrainian.status_code == 200  # another language, another ETag
        assert self.conditional(client, "*")[1] > 0
        client.cookies["sessionid"] = "x"
        assert self.conditional(client, etag)[1] > 0

    def test_off_by_default_without_a_shared_cache(self, api, pledge):
        with override_settings(API_REVALIDATION_TIMEOUT=0):
            client = api("partner")
            etag = client.get(PLEDGES, {"page_size": 2})["ETag"]
            response, queries = self.conditional(client, etag)
        assert response.status_code == 304 and queries == 3


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
