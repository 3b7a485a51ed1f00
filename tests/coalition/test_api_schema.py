"""The OpenAPI document: valid OpenAPI 3, every operation documenting its errors and the Token scheme,
the docs served from installed packages (no CDN), and schemathesis driving every operation of the
app's own schema: no 5xx, and every response conforming to what the schema says."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from coalition.services import api_key_create
from config.wsgi import application
from contributions import services as contribution_services
from meetings import services as meeting_services
from tests import factories
from tests.api_mixins import PLEDGE_CONTRACT

pytestmark = pytest.mark.django_db

SCHEMA_URL = "/api/schema/?format=json"
LIST_PATHS = [
    "/api/v1/coalitions/",
    "/api/v1/members/",
    "/api/v1/pledges/",
    "/api/v1/disbursements/",
    "/api/v1/priorities/",
    "/api/v1/allocations/",
    "/api/v1/meetings/",
    "/api/v1/decisions/",
    "/api/v1/action-items/",
    "/api/v1/exchange-rates/",
]


@pytest.fixture
def spec(db):
    cache.clear()
    response = Client().get(SCHEMA_URL)
    assert response.status_code == 200
    return response.json()


def operations(spec):
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def test_the_schema_is_valid_openapi_3(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Coalition Contributions Portal API"


def test_every_resource_of_the_issue_is_documented(spec):
    for path in [*LIST_PATHS, "/api/v1/summary/"]:
        assert "get" in spec["paths"][path], path


def test_every_operation_has_a_summary_and_documents_its_errors(spec):
    for path, method, operation in operations(spec):
        responses = operation["responses"]
        assert operation.get("summary"), (method, path)
        for status in ("401", "403", "404", "429"):
            assert status in responses, (method, path, status)
            assert responses[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        if method != "get":
            assert "400" in responses, (method, path)
        if method in {"put", "patch"} and "version" in str(operation.get("requestBody")):
            assert responses["409"]["content"]["application/json"]["schema"]["$ref"].endswith("ConflictError")
        if method == "get":
            assert "304" in responses and any(p["name"] == "If-None-Match" for p in operation["parameters"])


def test_the_token_scheme_is_documented(spec):
    scheme = spec["components"]["securitySchemes"]["TokenAuth"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "Authorization"}
    assert "Token <key>" in scheme["description"]
    pledges = spec["paths"]["/api/v1/pledges/"]["get"]
    assert {"TokenAuth": []} in pledges["security"]


def test_every_list_offers_csv(spec):
    for path in LIST_PATHS:
        operation = spec["paths"][path]["get"]
        format_parameter = next(p for p in operation["parameters"] if p["name"] == "format")
        assert sorted(format_parameter["schema"]["enum"]) == ["csv", "json"], path
        assert operation["responses"]["200"]["content"]["text/csv"]["schema"] == {"type": "string"}, path


def test_the_pledge_contract(spec):
    pledge = spec["components"]["schemas"]["Pledge"]["properties"]
    assert list(pledge) == PLEDGE_CONTRACT
    assert pledge["amount"]["type"] == "string" and pledge["amount"]["format"] == "decimal"
    for read_only in ("amount_eur", "exchange_rate_date", "disbursed_amount", "created_at", "updated_at", "version"):
        assert pledge[read_only]["readOnly"] is True, read_only
    request = spec["components"]["schemas"]["PledgeRequest"]
    assert {"exchange_rate", "exchange_rate_source"}.isdisjoint(request["required"])


def test_the_schema_says_what_the_server_requires(spec):
    schemas = spec["components"]["schemas"]
    # PATCH is refused without the version read: the schema says so
    assert "version" in schemas["PatchedPledgeUpdateRequest"]["required"]
    assert schemas["PledgeRequest"]["properties"]["amount"]["pattern"] == r"^-?\d{1,16}(?:\.\d{1,2})?$"
    pledges = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/pledges/"]["get"]["parameters"]}
    assert pledges["page_size"] == {"type": "integer", "minimum": 1, "maximum": 200}
    assert pledges["confirmed_at_meeting"]["minimum"] == 1
    meeting = schemas["MeetingRequest"]["properties"]["minutes"]
    assert "nullable" not in meeting and schemas["Meeting"]["properties"]["minutes"]["nullable"] is True


def test_the_schema_has_an_etag(db):
    cache.clear()
    client = Client()
    first = client.get(SCHEMA_URL)
    assert first["ETag"]
    assert client.get(SCHEMA_URL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_the_docs_are_served_from_installed_packages(db):
    cache.clear()
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    # the initializer is a script of its own (no inline script under the CSP), and it loads the schema
    script_url = re.search(r'<script src="(/api/docs/\?[^"]+)"', html).group(1)
    assert "/api/schema/" in Client().get(script_url.replace("&amp;", "&")).content.decode()
    for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs", "googleapis"):
        assert cdn not in html


# --- schemathesis ---------------------------------------------------------------------------------


@pytest.fixture
def api_data(coalition, member_a, member_b, secretariat, rates):
    """A little of everything, so detail operations have records to find."""
    meeting = meeting_services.meeting_create(
        acting_user=None, coalition=coalition, title="Steering group", starts_at=datetime(2024, 2, 2, 8, tzinfo=UTC)
    )
    meeting_services.attendance_set(acting_user=None, meeting=meeting, member=member_a, delegates="Jane Doe")
    meeting_services.decision_record(acting_user=None, meeting=meeting, text="Priorities set.")
    meeting_services.action_item_add(acting_user=None, meeting=meeting, text="Roadmap", owner=member_a)
    confirmed = factories.make_pledge(coalition=coalition, member=member_a, status="confirmed", amount=Decimal("10.00"))
    factories.make_pledge(coalition=coalition, member=member_b, status="draft", currency="USD")
    contribution_services.disbursement_record(
        acting_user=None, pledge=confirmed, amount=Decimal("1.00"), date=date(2024, 3, 1)
    )
    priority = contribution_services.priority_create(
        acting_user=None, coalition=coalition, title="Laptops", estimated_cost_eur=Decimal("100.00")
    )
    contribution_services.allocation_set(acting_user=None, pledge=confirmed, priority=priority, amount_eur=Decimal("5"))
    return api_key_create(owner=secretariat, name="schemathesis")[1]


@pytest.fixture
def wsgi_app(monkeypatch):
    """The app as schemathesis calls it: directly through WSGI, not through Django's test client."""
    # Django closes "old" connections when a request starts and ends; the test client stops that, and
    # so must we, or the test's connection (and the transaction holding its data) would be closed.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "key", "1000000/hour")
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "1000000/hour")
    cache.clear()
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


#: What "conforms" means here: no server error, and every status, content type, header and body as
#: documented. (Not whether the API accepts every body the schema allows: the services refuse valid-
#: looking data for business reasons, e.g. a pledge of a member outside the coalition, with a 400.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# Loaded when this module is collected, from the running app itself (schemathesis' lazy
# from_fixture loader does not work with pytest 9: it writes Node._nodeid, which pytest 9 removed).
schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, application)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_conforms_with_a_secretariat_key(case, api_data, wsgi_app):
    case.call_and_validate(headers={"Authorization": f"Token {api_data}"}, checks=CHECKS)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_conforms_without_a_key(case, wsgi_app):
    case.call_and_validate(checks=CHECKS)
