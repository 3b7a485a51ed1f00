"""Generic API tests, the NetBox ``utilities/testing/api.py`` way: a test class names its resource
(``basename``), provides ``record``, ``create_body`` and ``update_body`` fixtures, and inherits the
checks for anonymous clients (401), roles that may not (403), a member editor of another member (403,
or 404 for what they may not see), the permitted roles (2xx) and the history row written with the API
key's owner as its user.

Who may read and write each resource comes from tests/expectations.py, the table the page tests
(tests/view_mixins.py) read too. Test modules import ``pytest_generate_tests`` from here: it
parametrizes ``reader``, ``writer`` and ``forbidden`` from that table.
"""

import csv
import io

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from coalition.services import api_key_create
from tests import expectations

#: The pledge fields partners code against, in order (issue 3's contract): the API's responses and
#: the OpenAPI schema are both checked against this one list.
PLEDGE_CONTRACT = [
    "id",
    "coalition",
    "member",
    "title",
    "description",
    "kind",
    "channel",
    "amount",
    "currency",
    "status",
    "announced_on",
    "confirmed_on",
    "confirmed_at_meeting",
    "source",
    "external_ref",
    "exchange_rate",
    "exchange_rate_source",
    "amount_eur",
    "exchange_rate_date",
    "disbursed_amount",
    "created_at",
    "updated_at",
    "version",
]


def pytest_generate_tests(metafunc):
    cls = metafunc.cls
    if cls is None or getattr(cls, "basename", None) is None:
        return
    table = {
        "reader": sorted(expectations.allowed(cls.basename, "read")),
        "writer": sorted(expectations.allowed(cls.basename, "change")),
        "forbidden": list(expectations.refused(cls.basename, "change")),
    }
    for fixture, personas in table.items():
        if fixture in metafunc.fixturenames:
            metafunc.parametrize(fixture, personas)


def client_with_key(raw_key=None):
    client = APIClient()
    if raw_key:
        client.credentials(HTTP_AUTHORIZATION=f"Token {raw_key}")
    return client


def csv_rows(response):
    return list(csv.DictReader(io.StringIO(response.content.decode())))


class APITestBase:
    """Fixtures every API test uses: a key per persona and a client that sends it."""

    @pytest.fixture(autouse=True)
    def _fresh_throttle(self):
        # Throttle counters live in the cache (Redis under REDIS_URL): each test starts from zero.
        cache.clear()
        yield
        cache.clear()

    @pytest.fixture
    def keys(self, personas):
        return {name: api_key_create(owner=user, name="tests")[1] for name, user in personas.items()}

    @pytest.fixture
    def api(self, keys):
        """``api("partner")``: a client authenticated with the partner's key; ``api()``: anonymous."""

        def make(persona=None):
            return client_with_key(keys[persona] if persona else None)

        return make


class ResourceTests(APITestBase):
    """Read checks for a resource; subclasses set ``basename`` and provide the ``record`` fixture."""

    basename = None
    lookup = "pk"
    #: Columns a CSV of the list must have (names beside codes).
    csv_columns = ()

    def list_url(self):
        return reverse(f"api:{self.basename}-list")

    def detail_url(self, record):
        return reverse(f"api:{self.basename}-detail", args=[getattr(record, self.lookup)])

    def identify(self, record):
        """The value the API shows for the record's lookup field."""
        return getattr(record, self.lookup)

    def ids(self, response):
        key = "id" if self.lookup == "pk" else self.lookup
        return [row[key] for row in response.json()["results"]]

    def test_anonymous_gets_401_with_a_token_challenge(self, api, record):
        for url in (self.list_url(), self.detail_url(record)):
            response = api().get(url)
            assert response.status_code == 401, url
            assert response["WWW-Authenticate"] == "Token"
            assert "detail" in response.json()

    def test_user_without_a_role_gets_403(self, api, record):
        assert api("outsider").get(self.list_url()).status_code == 403

    def test_reader_lists_and_reads(self, api, record, reader):
        client = api(reader)
        response = client.get(self.list_url())
        assert response.status_code == 200, response.content
        assert set(response.json()) == {"next", "previous", "results"}  # keyset: the total only on request
        assert self.identify(record) in self.ids(response)
        assert client.get(self.list_url(), {"count": "true"}).json()["count"] >= 1
        detail = client.get(self.detail_url(record))
        assert detail.status_code == 200
        assert detail["ETag"]

    def test_matching_etag_gets_304(self, api, record):
        client = api("secretariat")
        for url in (self.list_url(), self.detail_url(record)):
            first = client.get(url)
            again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
            assert again.status_code == 304, url
            assert again.content == b""
            assert again["ETag"] == first["ETag"]
            assert client.get(url, HTTP_IF_NONE_MATCH='"stale"').status_code == 200

    def test_list_as_csv_has_names_beside_codes(self, api, record):
        response = api("secretariat").get(self.list_url(), {"format": "csv"})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        rows = csv_rows(response)
        assert rows, "the record is in the CSV"
        assert set(self.csv_columns) <= set(rows[0]), set(rows[0])
        assert response["X-Total-Count"] == str(len(rows))


class CreateTests:
    """``create_body`` fixture: a valid body; the table's writers may post it, the others get 403."""

    model = None
    history = True

    def created(self, response):
        return self.model.objects.get(pk=response.json()["id"])

    def test_anonymous_cannot_create(self, api, create_body):
        assert api().post(self.list_url(), create_body, format="json").status_code == 401

    def test_forbidden_role_cannot_create(self, api, create_body, forbidden):
        response = api(forbidden).post(self.list_url(), create_body, format="json")
        assert response.status_code == 403, response.content
        assert "detail" in response.json()

    def test_writer_creates_and_history_names_the_key_owner(self, api, personas, create_body, writer):
        response = api(writer).post(self.list_url(), create_body, format="json")
        assert response.status_code == 201, response.content
        record = self.created(response)
        if self.history:
            row = record.history.order_by("-history_id").first()
            assert row.history_type == "+"
            assert row.history_user == personas[writer]


class UpdateTests:
    """``update_body`` fixture: fields to PATCH (without ``version``). ``hidden_from``: forbidden
    roles that may not even see the record (404 rather than 403)."""

    versioned = True
    hidden_from = ()

    def versioned_body(self, record, body):
        return {**body, "version": record.version} if self.versioned else body

    def test_anonymous_cannot_update(self, api, record, update_body):
        url = self.detail_url(record)
        assert api().patch(url, self.versioned_body(record, update_body), format="json").status_code == 401

    def test_forbidden_role_cannot_update(self, api, record, update_body, forbidden):
        response = api(forbidden).patch(
            self.detail_url(record), self.versioned_body(record, update_body), format="json"
        )
        assert response.status_code == (404 if forbidden in self.hidden_from else 403), response.content

    def test_writer_updates_and_history_names_the_key_owner(self, api, personas, record, update_body, writer):
        response = api(writer).patch(self.detail_url(record), self.versioned_body(record, update_body), format="json")
        assert response.status_code == 200, response.content
        for field, value in update_body.items():
            assert response.json()[field] == value, field
        record.refresh_from_db()
        if self.versioned:
            assert response.json()["version"] == record.version > 1
        if self.history:
            row = record.history.order_by("-history_id").first()
            assert row.history_type == "~"
            assert row.history_user == personas[writer]


class VersionTests:
    """For records with a ``version``: an update must send the one it read, and a stale one is a 409."""

    def test_update_without_version_is_refused(self, api, record, update_body):
        response = api("secretariat").patch(self.detail_url(record), update_body, format="json")
        assert response.status_code == 400
        assert "required" in response.json()["version"][0]

    def test_stale_version_gets_409(self, api, record, update_body):
        client = api("secretariat")
        url = self.detail_url(record)
        assert client.patch(url, {**update_body, "version": record.version}, format="json").status_code == 200
        response = client.patch(url, {**update_body, "version": record.version}, format="json")
        assert response.status_code == 409
        assert response.json()["current_version"] == record.version + 1
        assert "changed by someone else" in response.json()["version"][0]


class DeleteTests:
    def test_forbidden_role_cannot_delete(self, api, record, forbidden):
        response = api(forbidden).delete(self.detail_url(record))
        assert response.status_code == (404 if forbidden in self.hidden_from else 403)
        assert self.model.objects.filter(pk=record.pk).exists()

    def test_writer_deletes_and_history_names_the_key_owner(self, api, personas, record, writer):
        response = api(writer).delete(self.detail_url(record))
        assert response.status_code == 204, response.content
        assert not self.model.objects.filter(pk=record.pk).exists()
        if self.history:
            row = self.model.history.filter(id=record.pk).order_by("-history_id").first()
            assert row.history_type == "-"
            assert row.history_user == personas[writer]
