"""``/api/v1/summary/?coalition=SLUG``: the dashboard's figures as JSON, from the dashboard's selector,
for every role of the coalition, and nothing for anyone else."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from contributions import services
from reports.api.serializers import jsonable
from reports.selectors import coalition_summary
from tests import factories
from tests.api_mixins import APITestBase
from tests.expectations import ROLES

pytestmark = pytest.mark.django_db

SUMMARY = reverse("api:summary")


@pytest.fixture
def figures(coalition, member_a, member_b, rates):
    """Pledges in every state that counts, one draft and one withdrawn (neither counts), a
    disbursement and a priority with an allocation."""
    coalition.refresh_from_db()  # the target as stored (100000000.00), as the API reads it
    usd = factories.make_pledge(
        coalition=coalition, member=member_a, amount=Decimal("1088300.00"), currency="USD", status="announced"
    )
    confirmed = factories.make_pledge(
        coalition=coalition,
        member=member_b,
        amount=Decimal("5000000.00"),
        status="confirmed",
        announced_on=date(2024, 3, 28),
    )
    services.disbursement_record(
        acting_user=None, pledge=confirmed, amount=Decimal("1250000.00"), date=date(2024, 5, 31)
    )
    factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal("999.00"), status="draft")
    withdrawn = factories.make_pledge(coalition=coalition, member=member_b, amount=Decimal("777.00"))
    services.pledge_withdraw(acting_user=None, pledge=withdrawn)
    priority = services.priority_create(
        acting_user=None, coalition=coalition, title="Data centre", estimated_cost_eur=Decimal("4000000.00")
    )
    services.allocation_set(acting_user=None, pledge=confirmed, priority=priority, amount_eur=Decimal("1000000.00"))
    return usd, confirmed


class TestSummary(APITestBase):
    @pytest.mark.parametrize("persona", ROLES)
    def test_every_role_gets_the_dashboards_figures(self, api, coalition, figures, persona):
        response = api(persona).get(SUMMARY, {"coalition": "test-coalition"})
        assert response.status_code == 200, response.content
        assert response.json() == jsonable(coalition_summary(coalition).as_dict())
        assert response["ETag"]

    def test_the_figures(self, api, figures):
        data = api("partner").get(SUMMARY, {"coalition": "test-coalition"}).json()
        assert data["coalition"] == "test-coalition"
        assert data["total_eur"] == "6000000.00"  # 1,088,300 USD at 1.0883 + 5,000,000 EUR; no draft, no withdrawn
        assert data["confirmed_eur"] == "5000000.00"
        assert data["announced_eur"] == "1000000.00"
        assert data["disbursed_eur"] == "1250000.00"
        assert data["target_eur"] == "100000000.00"
        assert data["gap_eur"] == "95000000.00"
        assert data["pledge_count"] == 2
        assert {row["status"]: row["count"] for row in data["by_status"]} == {
            "announced": 1,
            "confirmed": 0,
            "disbursing": 1,
            "fulfilled": 0,
            "withdrawn": 1,
        }
        assert [(row["code"], row["total_eur"], row["share"]) for row in data["by_member"]] == [
            ("LU", "5000000.00", "0.8333"),
            ("EE", "1000000.00", "0.1667"),
        ]
        assert data["by_month"][0]["month"] == "2024-02-01"
        assert data["priorities"] == [
            {
                "id": data["priorities"][0]["id"],
                "rank": 1,
                "title": "Data centre",
                "status": "proposed",
                "category": "",
                "estimated_cost_eur": "4000000.00",
                "allocated_eur": "1000000.00",
                "coverage": "0.2500",
                "gap_eur": "3000000.00",
            }
        ]

    def test_the_dashboard_shows_the_same_figures(self, client, api, coalition, steering, figures):
        client.force_login(steering)
        page = client.get(reverse("reports:dashboard", args=["test-coalition"]))
        assert page.status_code == 200
        api_figures = api("steering").get(SUMMARY, {"coalition": "test-coalition"}).json()
        assert api_figures == jsonable(page.context["summary"].as_dict())

    def test_the_dashboards_filters(self, api, coalition, figures):
        params = {"coalition": "test-coalition", "announced_after": "2024-03-01", "status": ["disbursing"]}
        data = api("partner").get(SUMMARY, params).json()
        assert data["total_eur"] == "5000000.00"
        expected = coalition_summary(coalition, date_from=date(2024, 3, 1), statuses=["disbursing"])
        assert data == jsonable(expected.as_dict())

    def test_a_period_ending_before_it_starts(self, api, figures):
        params = {"coalition": "test-coalition", "announced_after": "2024-05-01", "announced_before": "2024-01-01"}
        response = api("partner").get(SUMMARY, params)
        assert response.status_code == 400
        assert "announced_before" in response.json()

    def test_the_coalition_is_required(self, api, figures):
        response = api("partner").get(SUMMARY)
        assert response.status_code == 400
        assert "?coalition=SLUG" in response.json()["coalition"][0]

    def test_an_unknown_or_hidden_coalition_is_404(self, api, figures, other_coalition):
        assert api("partner").get(SUMMARY, {"coalition": "nowhere"}).status_code == 404
        assert api("partner").get(SUMMARY, {"coalition": "other-coalition"}).status_code == 404

    def test_anonymous_and_roleless(self, api, figures):
        assert api().get(SUMMARY, {"coalition": "test-coalition"}).status_code == 401
        assert api("outsider").get(SUMMARY, {"coalition": "test-coalition"}).status_code == 403

    def test_304_until_the_figures_change(self, api, figures, coalition, member_a):
        client = api("partner")
        first = client.get(SUMMARY, {"coalition": "test-coalition"})
        assert client.get(SUMMARY, {"coalition": "test-coalition"}, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
        factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal("1.00"))
        changed = client.get(SUMMARY, {"coalition": "test-coalition"}, HTTP_IF_NONE_MATCH=first["ETag"])
        assert changed.status_code == 200
        assert changed.json()["total_eur"] == "6000001.00"
