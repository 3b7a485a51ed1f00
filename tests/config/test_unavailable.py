"""When the database (or Redis) cannot be reached — a full PostgreSQL, a restart, a pooler down —
the portal answers 503 with Retry-After: JSON on the API, a page elsewhere; never Django's HTML 500."""

import pytest
from django.db import OperationalError

from coalition import permissions

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_gone(monkeypatch):
    def refuse(self):
        raise OperationalError("connection failed: FATAL:  sorry, too many clients already")

    monkeypatch.setattr(permissions.Actor, "seats", property(refuse))


def test_the_api_answers_503_json_with_retry_after(client, steering, database_gone):
    from coalition.services import api_key_create

    key = api_key_create(owner=steering, name="probe")[1]
    client.raise_request_exception = False

    response = client.get("/api/v1/pledges/", HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {"detail": "The portal cannot reach its database right now. Try again in a few seconds."}


def test_a_page_answers_503_with_a_page_and_retry_after(client, steering, database_gone):
    client.force_login(steering)
    client.raise_request_exception = False

    response = client.get("/pledges/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"Try again in a moment" in response.content


def test_any_other_error_is_still_a_500(client, steering, monkeypatch):
    def broken(self):
        raise RuntimeError("a bug")

    monkeypatch.setattr(permissions.Actor, "seats", property(broken))
    client.force_login(steering)
    client.raise_request_exception = False

    response = client.get("/pledges/")

    assert response.status_code == 500
    assert b"Something went wrong" in response.content
