"""The API's coalitions and members: every role through the generic mixins, and who may create them."""

from decimal import Decimal

import pytest
from django.urls import reverse

from coalition.models import Coalition, Member, Membership
from tests import factories
from tests.api_mixins import (
    APITestBase,
    CreateTests,
    ResourceTests,
    UpdateTests,
    client_with_key,
    pytest_generate_tests,  # noqa: F401 - parametrizes reader / writer / forbidden
)

pytestmark = pytest.mark.django_db


class TestCoalitions(ResourceTests, UpdateTests):
    basename = "coalition"
    lookup = "slug"
    model = Coalition
    versioned = True
    history = False
    csv_columns = ("slug", "name", "target_eur")

    @pytest.fixture
    def record(self, coalition):
        return coalition

    @pytest.fixture
    def update_body(self):
        return {"description": "Information technology for Ukraine's armed forces.", "target_eur": "58000000.00"}

    def test_the_secretariat_sees_only_its_coalitions(self, api, coalition, other_coalition):
        response = api("secretariat").get(self.list_url())
        assert [row["slug"] for row in response.json()["results"]] == ["test-coalition"]
        assert api("secretariat").get(self.detail_url(other_coalition)).status_code == 404

    def test_only_an_administrator_creates_coalitions(self, api, admin_user):
        body = {"slug": "demining", "name": "Demining Coalition", "target_eur": "1000000.00"}
        assert api("secretariat").post(self.list_url(), body, format="json").status_code == 403
        from coalition.services import api_key_create

        admin = client_with_key(api_key_create(owner=admin_user)[1])
        response = admin.post(self.list_url(), body, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["target_eur"] == "1000000.00"
        assert Coalition.objects.get(slug="demining").target_eur == Decimal("1000000.00")
        again = admin.post(self.list_url(), body, format="json")
        assert again.status_code == 400
        assert "slug" in again.json()

    def test_the_slug_stays(self, api, coalition):
        response = api("secretariat").patch(
            self.detail_url(coalition), {"slug": "renamed", "version": 1}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["slug"] == "test-coalition"

    def test_a_negative_target_is_refused(self, api, coalition):
        response = api("secretariat").patch(
            self.detail_url(coalition), {"target_eur": "-1.00", "version": 1}, format="json"
        )
        assert response.status_code == 400
        # The model's check constraint speaks for the record as a whole.
        assert response.json() == {"non_field_errors": ["The target must be greater than zero."]}

    def test_the_secretariat_turns_the_public_page_on_with_the_version_it_read(self, api, coalition):
        url = self.detail_url(coalition)
        response = api("secretariat").patch(url, {"public": True, "version": 1}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["public"] is True
        assert response.json()["version"] == 2
        stale = api("secretariat").patch(url, {"public": False, "version": 1}, format="json")
        assert stale.status_code == 409
        coalition.refresh_from_db()
        assert coalition.public is True

    def test_a_partner_cannot_turn_the_public_page_on(self, api, coalition):
        response = api("partner").patch(self.detail_url(coalition), {"public": True, "version": 1}, format="json")
        assert response.status_code == 403
        coalition.refresh_from_db()
        assert coalition.public is False


class TestMembers(ResourceTests, CreateTests, UpdateTests):
    basename = "member"
    lookup = "code"
    model = Member
    versioned = False
    history = False
    csv_columns = ("code", "name", "kind", "coalitions")

    @pytest.fixture
    def record(self, member_a):
        return member_a

    @pytest.fixture
    def create_body(self, coalition):
        return {"code": "lv", "name": "Latvia", "kind": "country", "coalition": "test-coalition", "role": "member"}

    @pytest.fixture
    def update_body(self):
        return {"name": "Republic of Estonia"}

    def created(self, response):
        return Member.objects.get(code=response.json()["code"])

    def test_new_member_is_seated_in_the_coalition(self, api, create_body):
        response = api("secretariat").post(self.list_url(), create_body, format="json")
        assert response.json() == {
            "code": "LV",
            "name": "Latvia",
            "kind": "country",
            "iati_identifier": "",
            "coalitions": [{"coalition": "test-coalition", "role": "member", "since": None}],
        }
        assert Membership.objects.filter(member__code="LV", coalition__slug="test-coalition").exists()

    def test_an_iati_identifier_is_kept_and_a_malformed_one_refused(self, api, create_body):
        good = api("secretariat").post(
            self.list_url(), {**create_body, "iati_identifier": "XM-DAC-41114"}, format="json"
        )
        assert good.status_code == 201, good.content
        assert Member.objects.get(code="LV").iati_identifier == "XM-DAC-41114"
        bad = api("secretariat").post(
            self.list_url(), {**create_body, "code": "LT", "iati_identifier": "not an id"}, format="json"
        )
        assert bad.status_code == 400
        assert "iati_identifier" in bad.json()
        assert not Member.objects.filter(code="LT").exists()

    def test_a_malformed_code_is_refused_and_nothing_is_kept(self, api, create_body):
        response = api("secretariat").post(self.list_url(), {**create_body, "code": "LATVIA"}, format="json")
        assert response.status_code == 400
        assert "ISO 3166-1" in response.json()["non_field_errors"][0]
        assert not Member.objects.filter(name="Latvia").exists()

    def test_seating_in_a_coalition_one_does_not_serve_is_refused_whole(self, api, create_body, other_coalition):
        response = api("secretariat").post(
            self.list_url(), {**create_body, "coalition": "other-coalition"}, format="json"
        )
        assert response.status_code == 400
        assert not Member.objects.filter(code="LV").exists()

    def test_members_of_other_coalitions_are_404(self, api, other_coalition):
        factories.MembershipFactory(member=factories.MemberFactory(code="PL", name="Poland"), coalition=other_coalition)
        assert api("partner").get(reverse("api:member-detail", args=["PL"])).status_code == 404

    def test_lower_case_code_in_the_url(self, api, record):
        assert api("partner").get(reverse("api:member-detail", args=["ee"])).json()["code"] == "EE"

    def test_partner_sees_only_seats_in_its_coalitions(self, api, record, other_coalition):
        factories.MembershipFactory(member=record, coalition=other_coalition)
        data = api("partner").get(self.detail_url(record)).json()
        assert [seat["coalition"] for seat in data["coalitions"]] == ["test-coalition"]

    def test_filter_by_kind_and_search(self, api, record, member_b):
        factories.MembershipFactory(
            member=factories.MemberFactory(code="NATO", name="NATO", kind="organisation"),
            coalition=record.memberships.first().coalition,
        )
        response = api("partner").get(self.list_url(), {"kind": "organisation"})
        assert [row["code"] for row in response.json()["results"]] == ["NATO"]
        response = api("partner").get(self.list_url(), {"q": "lux"})
        assert [row["code"] for row in response.json()["results"]] == ["LU"]


class TestRoot(APITestBase):
    def test_the_v1_root_lists_every_resource(self, api):
        response = api("partner").get("/api/v1/")
        assert response.status_code == 200
        assert set(response.json()) == {
            "coalitions",
            "members",
            "pledges",
            "disbursements",
            "priorities",
            "allocations",
            "meetings",
            "decisions",
            "action-items",
            "exchange-rates",
            "webhooks",
        }
