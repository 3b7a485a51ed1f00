"""The lists' ETags come from a fingerprint read before the page (coalition/api/conditional.py): every
change a reader could see gives a new ETag, the same data and request the same one, and a 304 reads
no page."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from coalition import services as coalition_services
from contributions import services
from tests import factories
from tests.api_mixins import APITestBase

pytestmark = pytest.mark.django_db
PLEDGES = reverse("api:pledge-list")


@pytest.fixture
def pledges(coalition, member_a, member_b, rates):
    return [
        factories.make_pledge(coalition=coalition, member=member, amount=Decimal(1000 + i))
        for i, member in enumerate((member_a, member_b, member_a))
    ]


class TestFingerprint(APITestBase):
    def test_same_data_same_etag_and_a_304(self, api, pledges):
        client = api("partner")
        first = client.get(PLEDGES)
        assert first.status_code == 200
        assert client.get(PLEDGES)["ETag"] == first["ETag"]
        again = client.get(PLEDGES, HTTP_IF_NONE_MATCH=f'"other", {first["ETag"]}')
        assert again.status_code == 304 and again.content == b""
        assert "private" in again["Cache-Control"] and "no-cache" in again["Cache-Control"]
        assert client.get(PLEDGES, HTTP_IF_NONE_MATCH="*").status_code == 304

    def test_every_change_gives_a_new_etag(self, api, pledges, coalition, member_a):
        client = api("partner")
        seen = [client.get(PLEDGES)["ETag"]]

        def changed():
            response = client.get(PLEDGES, HTTP_IF_NONE_MATCH=seen[-1])
            assert response.status_code == 200
            assert response["ETag"] not in seen
            seen.append(response["ETag"])

        pledge = pledges[0]
        services.pledge_update(acting_user=None, pledge=pledge, version=pledge.version, title="Renamed")
        changed()
        services.pledge_delete(acting_user=None, pledge=pledges[1])
        changed()
        factories.make_pledge(coalition=coalition, member=member_a, status="draft")  # a draft the partner cannot see
        changed()  # (conservative: the stamp is global)
        pledge.refresh_from_db()
        services.pledge_confirm(acting_user=None, pledge=pledge, version=pledge.version, on_date=date(2024, 3, 1))
        changed()

    def test_the_request_and_the_reader_are_part_of_it(self, api, pledges, coalition, other_coalition, partner):
        client = api("partner")
        etags = {
            client.get(PLEDGES)["ETag"],
            client.get(PLEDGES, {"ordering": "id"})["ETag"],
            client.get(PLEDGES, {"status": "announced"})["ETag"],
            client.get(PLEDGES, {"page_size": 1})["ETag"],
            api("steering").get(PLEDGES)["ETag"],
            api("secretariat").get(PLEDGES)["ETag"],
        }
        assert len(etags) == 6
        before = client.get(PLEDGES)["ETag"]
        coalition_services.seat_set(acting_user=None, user=partner, coalition=other_coalition, role="partner")
        assert client.get(PLEDGES, HTTP_IF_NONE_MATCH=before).status_code == 200

    def test_a_304_reads_no_page_and_a_bad_filter_is_still_400(self, api, pledges, django_assert_max_num_queries):
        client = api("partner")
        etag = client.get(PLEDGES)["ETag"]
        assert client.get(PLEDGES, {"status": "maybe"}, HTTP_IF_NONE_MATCH=etag).status_code == 400
        with django_assert_max_num_queries(3) as captured:
            assert client.get(PLEDGES, HTTP_IF_NONE_MATCH=etag).status_code == 304
        assert not any("contributions_pledge" in q["sql"] and "LIMIT" in q["sql"] for q in captured.captured_queries)

    def test_csv_and_details_still_hash_their_body(self, api, pledges):
        client = api("partner")
        csv = client.get(PLEDGES, {"format": "csv"})
        assert csv["ETag"] != client.get(PLEDGES)["ETag"]
        assert client.get(PLEDGES, {"format": "csv"}, HTTP_IF_NONE_MATCH=csv["ETag"]).status_code == 304
