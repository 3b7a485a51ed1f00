"""Query counts pinned for every list endpoint, with 1 row and with 50: a page costs the same number
of queries however many rows it has (the NetBox query_counts.json way). A count that changes is a
decision to make in this file, not an accident."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contributions import services as contribution_services
from contributions.models import ExchangeRate
from meetings import services as meeting_services
from tests import factories
from tests.api_mixins import APITestBase

pytestmark = pytest.mark.django_db

#: Every list page (a keyset page, no total): the key (1), the user's seats (1: the roles, groups,
#: profile and coalitions were three queries before seats), the list's change stamp for its ETag (1,
#: the lists in FINGERPRINTED: it replaced the COUNT every page paid before issue 14) and the page
#: (1); then what each resource prefetches. ``count=true`` adds the COUNT (1).
PINNED = {
    "coalition": 4,
    "member": 4,  # + the visible memberships; no stamp (its ETag hashes the body)
    "pledge": 4,
    "disbursement": 4,
    "priority": 4,  # coverage is a subquery of the page query
    "allocation": 4,
    "meeting": 5,  # + attendance with members, + agenda items; no stamp
    "decision": 5,  # + the visible pledges, + the priorities; no stamp
    "action-item": 4,
    "exchange-rate": 3,  # no stamp
}
#: The lists whose ETag comes from the change stamp, before the page is read.
FINGERPRINTED = {"coalition", "pledge", "disbursement", "priority", "allocation", "action-item"}


def build(basename, n, *, coalition, member_a, member_b, secretariat):
    """``n`` records of the resource, made through the services."""
    members = [member_a, member_b]
    meeting_at = datetime(2024, 2, 2, 8, tzinfo=UTC)
    if basename == "coalition":
        for i in range(n - 1):
            factories.seat(secretariat, factories.CoalitionFactory(slug=f"coalition-{i}"), "secretariat")
    elif basename == "member":
        for i in range(n - 2):
            factories.MembershipFactory(member=factories.MemberFactory(code=f"ORG{i}"), coalition=coalition)
    elif basename == "pledge":
        for i in range(n):
            factories.make_pledge(coalition=coalition, member=members[i % 2], currency=("EUR", "USD", "GBP")[i % 3])
    elif basename == "disbursement":
        pledge = factories.make_pledge(coalition=coalition, member=member_a, status="confirmed", amount=Decimal(10_000))
        for i in range(n):
            contribution_services.disbursement_record(
                acting_user=None, pledge=pledge, amount=Decimal("10.00"), date=date(2024, 3, 1) + timedelta(days=i)
            )
    elif basename in ("priority", "allocation"):
        pledge = factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal(10_000))
        for i in range(n):
            priority = contribution_services.priority_create(
                acting_user=None, coalition=coalition, title=f"Priority {i}", estimated_cost_eur=Decimal(1000)
            )
            contribution_services.allocation_set(
                acting_user=None, pledge=pledge, priority=priority, amount_eur=Decimal("10.00")
            )
    elif basename in ("meeting", "decision", "action-item"):
        pledge = factories.make_pledge(coalition=coalition, member=member_b)
        priority = contribution_services.priority_create(
            acting_user=None, coalition=coalition, title="Laptops", estimated_cost_eur=Decimal(1000)
        )
        for i in range(n):
            meeting = meeting_services.meeting_create(
                acting_user=None, coalition=coalition, title=f"Meeting {i}", starts_at=meeting_at + timedelta(days=i)
            )
            if basename == "meeting":
                for member in members:
                    meeting_services.attendance_set(acting_user=None, meeting=meeting, member=member, delegates="X")
                meeting_services.agenda_item_add(acting_user=None, meeting=meeting, title="Priorities")
            elif basename == "decision":
                decision = meeting_services.decision_record(acting_user=None, meeting=meeting, text=f"Decision {i}")
                contribution_services.decision_link(
                    acting_user=None, decision=decision, pledges=[pledge], priorities=[priority]
                )
            else:
                meeting_services.action_item_add(acting_user=None, meeting=meeting, text=f"Step {i}", owner=member_a)
    elif basename == "exchange-rate":
        ExchangeRate.objects.bulk_create(
            ExchangeRate(currency="USD", date=date(2020, 1, 1) + timedelta(days=i), rate=Decimal("1.1"))
            for i in range(n)
        )


class TestQueryCounts(APITestBase):
    @pytest.fixture(autouse=True)
    def _from_the_database(self, settings):
        # What a request costs reading its key, seats and stamp (a remembered key reads none of them
        # while nothing is written: tests/coalition/test_api_revalidation.py).
        settings.API_REVALIDATION_TIMEOUT = 0

    @pytest.mark.parametrize("basename", list(PINNED))
    @pytest.mark.parametrize("rows", [1, 50])
    def test_a_list_page_costs_the_same_with_1_row_and_with_50(
        self, api, basename, rows, coalition, member_a, member_b, secretariat, rates
    ):
        build(basename, rows, coalition=coalition, member_a=member_a, member_b=member_b, secretariat=secretariat)
        client = api("secretariat")
        url = reverse(f"api:{basename}-list")
        client.get(url)  # the key's last use is written once a minute: not part of the page's cost
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, {"page_size": 100, "count": "true"})
        assert response.status_code == 200
        assert response.json()["count"] >= rows
        assert len(response.json()["results"]) >= rows
        assert len(queries) == PINNED[basename] + 1, "\n".join(q["sql"][:200] for q in queries.captured_queries)
        # Without the total, and the next page the same again.
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, {"page_size": max(rows // 2, 1)})
        assert "count" not in response.json()
        assert len(queries) == PINNED[basename], "\n".join(q["sql"][:200] for q in queries.captured_queries)
        if rows > 1:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(response.json()["next"]).status_code == 200
            assert len(queries) == PINNED[basename]

    @pytest.mark.parametrize("basename", sorted(FINGERPRINTED))
    def test_a_304_costs_the_key_the_seats_and_the_stamp(
        self, api, basename, coalition, member_a, member_b, secretariat, rates, settings
    ):
        # The view's own 304 (a repeat answered from the cache costs none: test_api_revalidation.py).
        settings.API_REVALIDATION_TIMEOUT = 0
        build(basename, 3, coalition=coalition, member_a=member_a, member_b=member_b, secretariat=secretariat)
        client = api("secretariat")
        url = reverse(f"api:{basename}-list")
        first = client.get(url, {"page_size": 2})
        with CaptureQueriesContext(connection) as queries:
            again = client.get(url, {"page_size": 2}, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304 and again["ETag"] == first["ETag"]
        assert len(queries) == 3, "\n".join(q["sql"][:200] for q in queries.captured_queries)

    def test_the_detail_of_a_pledge_costs_a_fixed_number_of_queries(self, api, pledge_a):
        client = api("partner")
        url = reverse("api:pledge-detail", args=[pledge_a.pk])
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert len(queries) == 3  # key, seats, the pledge

    def test_the_summary_costs_a_fixed_number_of_queries(self, api, coalition, member_a, rates):
        for i in range(20):
            factories.make_pledge(coalition=coalition, member=member_a, title=f"P{i}")
        client = api("partner")
        url = reverse("api:summary")
        client.get(url, {"coalition": coalition.slug})
        with CaptureQueriesContext(connection) as cached:
            client.get(url, {"coalition": coalition.slug})
        factories.make_pledge(coalition=coalition, member=member_a, title="P21")  # a write: the next read misses
        with CaptureQueriesContext(connection) as few:
            client.get(url, {"coalition": coalition.slug})
        for i in range(20):
            factories.make_pledge(coalition=coalition, member=member_a, title=f"Q{i}", announced_on=date(2024, 5, 31))
        with CaptureQueriesContext(connection) as many:
            client.get(url, {"coalition": coalition.slug})
        # key, seats, coalition, change stamp, then the totals: statuses, members, months, priorities.
        assert len(few) == len(many) == 8
        assert len(cached) == 4  # the figures come from the cache under an unchanged stamp
