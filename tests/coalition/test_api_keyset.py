"""Keyset paging (coalition/api/pagination.py): walking ``next`` gives every row once, in the list's
order, for every ordering the pledge list offers (ties, NULLs, a joined column, both directions);
``previous`` walks back; a forged or foreign cursor is a 400 naming ``cursor``; ``page`` and ``count``
stay as options."""

from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from contributions import services
from tests import factories
from tests.api_mixins import APITestBase

pytestmark = pytest.mark.django_db
PLEDGES = reverse("api:pledge-list")


@pytest.fixture
def pledges(coalition, member_a, member_b, rates):
    """17 pledges with ties on every column (three amounts, four dates, both members) and NULL
    confirmation dates on the unconfirmed ones."""
    made = []
    for i in range(17):
        pledge = factories.make_pledge(
            coalition=coalition,
            member=(member_a, member_b)[i % 2],
            amount=Decimal((1000, 2500, 1000.5)[i % 3]),
            announced_on=date(2024, 1, 1) + timedelta(days=i % 4),
            title=f"Pledge {i % 5}",
        )
        if i % 3 == 0:
            on_date = date(2024, 3, 1) + timedelta(days=i % 2)
            pledge = services.pledge_confirm(acting_user=None, pledge=pledge, version=pledge.version, on_date=on_date)
        made.append(pledge)
    return made


def walk(client, params, *, size=4):
    rows, url, pages, links = [], PLEDGES, 0, []
    response = client.get(url, {**params, "page_size": size})
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        links.append(body)
        pages += 1
        assert pages < 50
        if not body["next"]:
            return rows, links
        response = client.get(body["next"])


def expected_order(client, params):
    """The same list in one page: the order the keyset pages must reproduce."""
    return [row["id"] for row in client.get(PLEDGES, {**params, "page_size": 200}).json()["results"]]


ORDERINGS = [
    None,
    "announced_on",
    "-amount_eur",
    "amount,announced_on",
    "confirmed_on",
    "-confirmed_on",
    "member,-id",
    "status,-amount_eur",
    "title,-announced_on",
    "-updated_at",
    "id",
]


class TestKeyset(APITestBase):
    def test_next_links_give_every_row_once_in_order(self, api, pledges):
        client = api("partner")
        for ordering in ORDERINGS:
            params = {"ordering": ordering} if ordering else {}
            rows, pages = walk(client, params)
            ids = [row["id"] for row in rows]
            assert len(ids) == len(set(ids)) == len(pledges), ordering
            assert ids == expected_order(client, params), ordering
            assert len(pages) == 5 and all("count" not in page for page in pages)

    def test_the_order_is_the_orderings(self, api, pledges):
        rows, _ = walk(api("partner"), {"ordering": "-confirmed_on,id"})
        confirmed = [row["confirmed_on"] for row in rows]
        # NULLs sort as the largest value, first when descending, on every database
        assert confirmed[:11] == [None] * 11
        assert confirmed[11:] == sorted(confirmed[11:], reverse=True)
        rows, _ = walk(api("partner"), {"ordering": "-amount_eur"})
        amounts = [Decimal(r["amount_eur"]) for r in rows]
        assert amounts == sorted(amounts, reverse=True)

    def test_previous_walks_back_page_by_page(self, api, pledges):
        client = api("partner")
        rows, pages = walk(client, {"ordering": "member,-amount_eur"})
        assert pages[0]["previous"] is None
        back = client.get(pages[-1]["previous"]).json()
        assert [r["id"] for r in back["results"]] == [r["id"] for r in pages[-2]["results"]]
        back = client.get(back["previous"]).json()
        assert [r["id"] for r in back["results"]] == [r["id"] for r in pages[-3]["results"]]
        forward = client.get(back["next"]).json()
        assert [r["id"] for r in forward["results"]] == [r["id"] for r in pages[-2]["results"]]

    def test_a_row_added_or_removed_meanwhile_shifts_nothing(self, api, pledges, coalition, member_a):
        client = api("partner")
        first = client.get(PLEDGES, {"ordering": "id", "page_size": 5}).json()
        services.pledge_delete(acting_user=None, pledge=pledges[2])
        factories.make_pledge(coalition=coalition, member=member_a, title="Late")
        second = client.get(first["next"]).json()
        assert [r["id"] for r in second["results"]] == [p.pk for p in pledges[5:10]]

    def test_count_on_request_and_with_page_numbers(self, api, pledges):
        client = api("partner")
        assert client.get(PLEDGES, {"count": "true", "page_size": 3}).json()["count"] == 17
        assert "count" not in client.get(PLEDGES, {"count": "false"}).json()
        numbered = client.get(PLEDGES, {"page": 2, "page_size": 5}).json()
        assert numbered["count"] == 17 and len(numbered["results"]) == 5
        assert "page=3" in numbered["next"] and "cursor" not in numbered["next"]
        assert [r["id"] for r in numbered["results"]] == expected_order(client, {})[5:10]

    @pytest.mark.parametrize(
        "params",
        [
            {"cursor": "abc"},
            {"cursor": ""},
            {"count": "maybe"},
            {"count": ["true", "false"]},
            {"cursor": "abc", "page": "2"},
        ],
    )
    def test_bad_paging_parameters_are_400_naming_them(self, api, pledges, params):
        response = api("partner").get(PLEDGES, params)
        assert response.status_code == 400
        assert set(response.json()) <= {"cursor", "count"} and response.json()

    def test_a_cursor_of_another_ordering_or_list_is_refused(self, api, pledges):
        client = api("partner")
        link = client.get(PLEDGES, {"ordering": "title", "page_size": 2}).json()["next"]
        token = parse_qs(urlsplit(link).query)["cursor"][0]
        other = client.get(PLEDGES, {"ordering": "-title", "cursor": token})
        assert other.status_code == 400 and "cursor" in other.json()
        assert client.get(PLEDGES, {"ordering": "title", "cursor": token}).status_code == 200
        meetings = client.get(reverse("api:meeting-list"), {"cursor": token})
        assert meetings.status_code == 400

    @pytest.mark.parametrize("basename", ["coalition", "member", "disbursement", "priority", "allocation", "meeting"])
    def test_every_list_pages_by_cursor(self, api, pledges, basename, secretariat, coalition, other_coalition):
        factories.seat(secretariat, other_coalition, "secretariat")
        client = api("secretariat")
        url = reverse(f"api:{basename}-list")
        everything = client.get(url, {"page_size": 200}).json()["results"]
        seen, response = [], client.get(url, {"page_size": 1})
        while True:
            body = response.json()
            seen += body["results"]
            if not body["next"]:
                break
            response = client.get(body["next"])
        assert seen == everything


class TestFormat(APITestBase):
    def test_an_empty_format_is_400_naming_it(self, api, coalition):
        response = api("partner").get(PLEDGES, {"format": ""})
        assert response.status_code == 400 and list(response.json()) == ["format"]
        assert api("partner").get(PLEDGES, {"format": "json"}).status_code == 200
