"""The pledge list's queries at 100,000 pledges, read with EXPLAIN: every filter and ordering the API
offers walks an index (no Seq Scan on the pledges, no sort spilling to disk), on page 1 and on a page
reached by its cursor. The rows are made by one INSERT ... SELECT over generate_series (seconds), 10
coalitions, 50 members, a partner seated in every coalition (issue 14's case: the partner key)."""

import json
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coalition.api.pagination import CURSOR_SALT
from coalition.models import Coalition, Member, Membership
from coalition.services import api_key_create
from contributions.models import Pledge
from tests import factories
from tests.api_mixins import client_with_key

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db]

PLEDGES = 100_000
FILL = """
INSERT INTO contributions_pledge (
    coalition_id, member_id, title, description, kind, channel, amount, currency, status, announced_on,
    confirmed_on, source, external_ref, amount_eur, exchange_rate, exchange_rate_date, exchange_rate_source,
    disbursed_amount, disbursed_eur, version, created_at, updated_at, published_at)
SELECT c.ids[1 + mod(i, 10)], m.ids[1 + mod(i * 7, 50)], 'Pledge ' || i, '',
       CASE WHEN mod(i, 9) = 0 THEN 'in_kind' ELSE 'financial' END,
       (ARRAY['bilateral','trust_fund','procurement_agency','other'])[1 + mod(i, 4)],
       1000 + mod(i * 37, 5000000), (ARRAY['EUR','USD','GBP','PLN'])[1 + mod(i, 4)], s.status,
       DATE '2022-01-01' + (mod(i, 1095)), CASE WHEN s.status IN ('confirmed','disbursing','fulfilled')
       THEN DATE '2022-02-01' + (mod(i, 1095)) END, '', 'REF-' || i, 1000 + mod(i * 37, 5000000), 1, DATE '2022-01-01',
       'ECB', 0, 0, 1, TIMESTAMPTZ '2022-01-01' + i * INTERVAL '15 minutes',
       TIMESTAMPTZ '2022-01-01' + i * INTERVAL '15 minutes',
       CASE WHEN s.status <> 'draft' THEN TIMESTAMPTZ '2022-01-01' + i * INTERVAL '15 minutes' END
FROM generate_series(1, %s) AS i
CROSS JOIN LATERAL (
    SELECT (ARRAY['draft','announced','confirmed','confirmed','disbursing','fulfilled','withdrawn','announced'])
           [1 + mod(i * 13, 8)] AS status) AS s
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM coalition_coalition) AS c
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM coalition_member) AS m
"""

ORDERINGS = [None, "announced_on", "-amount_eur", "amount", "confirmed_on", "-confirmed_on", "status", "title"]
ORDERINGS += ["-updated_at", "id", "-announced_on,-id", "member"]
CURSOR_CHECKED = (None, "-amount_eur", "confirmed_on", "-confirmed_on", "status", "member")
FILTERS = [
    {},
    {"coalition": "c3"},
    {"status": "confirmed"},
    {"status": ["confirmed", "disbursing"]},
    {"coalition": "c3", "status": "confirmed"},
    {"member": "M07"},
    {"coalition": "c3", "member": "M07,M08"},
    {"kind": "in_kind"},
    {"channel": "trust_fund"},
    {"currency": "USD,GBP"},
    {"announced_after": "2023-06-01", "announced_before": "2023-07-01"},
    {"confirmed_after": "2024-01-01"},
    {"min_amount_eur": "4000000"},
    {"updated_since": "2024-06-01T00:00:00Z"},
    {"external_ref": "REF-4242"},
]


@pytest.fixture
def partner_client(db):
    coalitions = Coalition.objects.bulk_create(Coalition(name=f"Coalition {i}", slug=f"c{i}") for i in range(10))
    members = Member.objects.bulk_create(
        Member(code=f"M{i:02d}", name=f"Member {i}", kind="organisation") for i in range(50)
    )
    Membership.objects.bulk_create(Membership(coalition=c, member=m) for c in coalitions for m in members)
    partner = get_user_model().objects.create_user("partner-all", "partner@example.org")
    for coalition in coalitions:
        factories.seat(partner, coalition, "partner")
    started = datetime.now(UTC)
    with connection.cursor() as cursor:
        cursor.execute(FILL, [PLEDGES])
        cursor.execute("ANALYZE contributions_pledge")
        cursor.execute("ANALYZE coalition_member")
    print(f"{PLEDGES:,} pledges made in {(datetime.now(UTC) - started).total_seconds():.1f} s")
    _key, raw = api_key_create(acting_user=None, owner=partner, name="plans")
    return client_with_key(raw)


INDEXED = {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}


def page_queries(captured):
    """The queries that read pledges, but for the ETag's change stamp (``SELECT (SELECT MAX(...``)."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if 'FROM "contributions_pledge"' in q["sql"] and not q["sql"].startswith("SELECT (SELECT")
    ]


def plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def explain(sql):
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        (document,) = cursor.fetchone()
    document = json.loads(document) if isinstance(document, str) else document
    return list(plan_nodes(document[0]["Plan"]))


def check_page(client, params, problems, url=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url) if url else client.get(reverse("api:pledge-list"), params)
    assert response.status_code == 200, (params, response.content[:300])
    pages = page_queries(captured)
    assert pages, params
    for sql in pages:
        nodes = explain(sql)
        on_pledges = [node for node in nodes if node.get("Relation Name") == "contributions_pledge"]
        if any(node["Node Type"] == "Seq Scan" for node in on_pledges):
            problems.append(f"Seq Scan on pledges: {params}")
        if not any(node["Node Type"] in INDEXED for node in on_pledges):
            problems.append(f"no index scan: {params}")
        if any(node.get("Sort Space Type") == "Disk" for node in nodes):
            problems.append(f"sort spilled to disk: {params}")
    return response.json()


def test_every_filter_and_ordering_walks_an_index_at_any_depth(partner_client):
    """(One test: the 100,000 rows are made once.)"""
    problems = []
    started = datetime.now(UTC)
    for ordering in ORDERINGS:
        for filters in FILTERS if ordering in (None, "-amount_eur") else FILTERS[:3]:
            params = {**filters, **({"ordering": ordering} if ordering else {})}
            body = check_page(partner_client, params, problems)
            if body["next"] and ordering in CURSOR_CHECKED:  # the next page, by its cursor, walks the same index
                check_page(partner_client, params, problems, url=body["next"])
    assert not problems, "\n".join(problems)
    print(f"{len(ORDERINGS)} orderings x filters checked in {(datetime.now(UTC) - started).total_seconds():.1f} s")

    # A cursor 90,000 rows in (signed here as the API signs its own) reads a page, not what is before it.
    amount, pk = Pledge.objects.order_by("-amount_eur", "-id").values_list("amount_eur", "id")[90_000]
    cursor = signing.dumps(
        {"o": ["-amount_eur", "-id"], "p": [str(amount), pk], "r": False}, salt=CURSOR_SALT, compress=True
    )
    with CaptureQueriesContext(connection) as captured:
        response = partner_client.get(reverse("api:pledge-list"), {"ordering": "-amount_eur", "cursor": cursor})
    assert response.status_code == 200
    assert response.json()["results"][0]["id"] != pk
    assert len(response.json()["results"]) == 50
    (sql,) = page_queries(captured)
    assert "OFFSET" not in sql
    nodes = explain(sql)
    read = sum(node.get("Actual Rows", 0) for node in nodes if node.get("Relation Name") == "contributions_pledge")
    assert read <= 500, read
