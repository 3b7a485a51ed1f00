"""No 500 on any input: every API operation (read from the schema the app serves) and every HTML page and
form (read from the URL configuration) is driven with hostile values, as a secretariat user who may
reach every form. Each answer must be below 500; the API's must be JSON."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from coalition.services import api_key_create
from contributions import services as contribution_services
from meetings import services as meeting_services
from tests import factories

pytestmark = pytest.mark.django_db

#: The obvious bad values: nulls, wrong types, empty, huge numbers, NUL, control and surrogate-ish
#: text, very long text, SQL and markup, deep nesting.
HOSTILE = [
    None,
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202e\ud7ff\ufffd",
    "x" * 200_000,
    "'; DROP TABLE coalition_member; --",
    "<script>alert(1)</script>",
    -1,
    0,
    2**63,
    -(2**63) - 1,
    10**400,
    1e308,
    True,
    [],
    {},
    [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
    "2024-02-30",
    "-111",
    "NaN",
]
RAW_BODIES = [
    b"[" * 100_000,
    b'{"a": ' * 50_000,
    b"\xff\xfe\x00",
    b"null",
    b"0",
    b'"text"',
    b"{,}",
    b'{"title": NaN}',
]
QUERY_VALUES = ["", "\x00", "-1", "-111", "0", "9" * 30, "null", "2024-13-45", "a,b,,", "%", "x" * 5000]


@pytest.fixture
def world(coalition, member_a, member_b, secretariat, rates):
    meeting = meeting_services.meeting_create(
        acting_user=None, coalition=coalition, title="Steering group", starts_at=datetime(2024, 2, 2, 8, tzinfo=UTC)
    )
    meeting_services.attendance_set(acting_user=None, meeting=meeting, member=member_a, delegates="Jane Doe")
    meeting_services.decision_record(acting_user=None, meeting=meeting, text="Priorities set.")
    item = meeting_services.action_item_add(acting_user=None, meeting=meeting, text="Roadmap", owner=member_a)
    pledge = factories.make_pledge(coalition=coalition, member=member_a, status="confirmed", amount=Decimal("10.00"))
    contribution_services.disbursement_record(
        acting_user=None, pledge=pledge, amount=Decimal("1.00"), date=date(2024, 3, 1)
    )
    priority = contribution_services.priority_create(
        acting_user=None, coalition=coalition, title="Laptops", estimated_cost_eur=Decimal("100.00")
    )
    contribution_services.allocation_set(acting_user=None, pledge=pledge, priority=priority, amount_eur=Decimal("5"))
    cache.clear()
    return {
        "pk": pledge.pk,
        "meeting": meeting.pk,
        "priority": priority.pk,
        "item_pk": item.pk,
        "slug": coalition.slug,
        "code": member_a.code,
        "key": api_key_create(owner=secretariat, name="hostile")[1],
    }


def _fill(path, world):
    """A schema path with its parameters filled by existing records."""

    def value(match):
        name = match.group(1)
        return str({"slug": world["slug"], "code": world["code"]}.get(name, world["pk"]))

    return re.sub(r"\{(\w+)\}", value, path)


def _assert_json_below_500(response, what):
    assert response.status_code < 500, (what, response.status_code, response.content[:300])
    if response.status_code not in (204, 304):
        assert response["Content-Type"].startswith(("application/json", "text/csv")), (what, response["Content-Type"])


@pytest.fixture
def no_throttle(monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "key", "1000000/hour")
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "1000000/hour")


def test_every_api_operation_answers_hostile_input_with_a_json_4xx(world, no_throttle):
    import json

    client = Client(HTTP_AUTHORIZATION=f"Token {world['key']}")
    spec = client.get("/api/schema/?format=json").json()
    schemas = spec["components"]["schemas"]
    too_large = 0
    for path, methods in spec["paths"].items():
        url = _fill(path, world)
        for method, operation in methods.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "query":
                    continue
                for raw in QUERY_VALUES:
                    response = getattr(client, method)(f"{url}?{parameter['name']}={raw}")
                    _assert_json_below_500(response, (method, path, parameter["name"], raw))
            if method in {"get", "delete"}:
                continue
            ref = (
                operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            ).get("$ref")
            fields = list(schemas[ref.rsplit("/", 1)[1]].get("properties", {})) if ref else []
            for field in fields:
                for bad in HOSTILE:
                    body = json.dumps({field: bad, "version": 1})
                    response = getattr(client, method)(url, body, content_type="application/json")
                    _assert_json_below_500(response, (method, path, field, repr(bad)[:40]))
            for raw in RAW_BODIES:
                response = getattr(client, method)(url, raw, content_type="application/json")
                _assert_json_below_500(response, (method, path, raw[:20]))
            response = getattr(client, method)(
                url, b'{"title": "' + b"x" * 3_000_000 + b'"}', content_type="application/json"
            )
            # 413 wherever the body is read (a record that is not there, or a method not offered, first)
            assert response.status_code in (413, 403, 404, 405), (method, path, response.status_code)
            assert response.status_code != 413 or "larger than" in response.json()["detail"]
            too_large += response.status_code == 413
            response = getattr(client, method)(url, "title=x", content_type="text/plain")
            _assert_json_below_500(response, (method, path, "text/plain"))
    assert too_large > 10


def _page_patterns(resolver=None, prefix=""):
    """Every HTML route (not the admin, the API or Django's sign-in views) as (route, name)."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(("admin/", "api/", "accounts/login", "accounts/logout", "accounts/password", "health")):
            continue
        if isinstance(entry, URLResolver):
            yield from _page_patterns(entry, route)
        elif isinstance(entry, URLPattern):
            yield route


def _page_url(route, world):
    values = {"pk": world["pk"], "item_pk": world["item_pk"], "slug": world["slug"], "code": world["code"]}
    values.update({"fmt": "csv", "table": "members", "token": "x", "uidb64": "x"})
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values.get(m.group(1), "1")), route)
    return "/" + url.lstrip("^").rstrip("$").replace("\\", "")


FORM_VALUES = ["\x00", "x" * 200_000, "-1", "9" * 40, "2024-02-30", "<script>", "NaN", ""]


def test_every_page_and_form_answers_hostile_input_below_500(world, secretariat):
    client = Client()
    client.force_login(secretariat)
    routes = sorted(set(_page_patterns()))
    assert len(routes) > 20
    for route in routes:
        for pk in (world["pk"], world["meeting"], world["priority"]):
            url = _page_url(route, {**world, "pk": pk})
            for raw in QUERY_VALUES:
                response = client.get(url, {"q": raw, "page": raw, "coalition": raw, "status": raw, "ordering": raw})
                assert response.status_code < 500, (url, raw)
            page = client.get(url)
            assert page.status_code < 500, url
            form = (page.context or {}).get("form") if page.status_code == 200 else None
            names = list(form.fields) if form is not None else ["title", "amount", "version"]
            for bad in FORM_VALUES:
                response = client.post(url, dict.fromkeys(names, bad))
                assert response.status_code < 500, (url, repr(bad)[:30])
