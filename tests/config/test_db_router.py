"""The database router and its middleware: which reads may go to the replica, and the pin that sends a
client who just wrote to the primary."""

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory
from django.urls import resolve

from coalition.models import APIKey
from config import db_router
from contributions.models import Pledge

router = db_router.PrimaryReplicaRouter()


@pytest.fixture
def replica(monkeypatch, settings):
    """The middleware as installed with DATABASE_REPLICA_URL set (the router reads a context variable:
    no replica database is needed to see its choice). The cache stands for the shared Redis."""
    monkeypatch.setattr(db_router, "replica_configured", lambda: True)
    settings.DATABASE_REPLICA_PIN_SECONDS = 60
    from django.core.cache import cache

    cache.clear()
    seen = []

    def view(request):
        seen.append(router.db_for_read(Pledge))
        if request.path.endswith(".csv"):

            def rows():
                yield router.db_for_read(Pledge).encode()

            return StreamingHttpResponse(rows())
        return HttpResponse("ok")

    middleware = db_router.ReplicaReadMiddleware(view)

    def ask(method, path, **headers):
        request = getattr(RequestFactory(), method.lower())(path, **headers)
        request.resolver_match = resolve(path.split("?")[0])

        def get_response(req):
            middleware.process_view(req, None, (), {})
            return view(req)

        middleware.get_response = get_response
        response = middleware(request)
        if response.streaming:
            return b"".join(response.streaming_content).decode()
        return seen[-1]

    return ask


def test_outside_a_request_every_read_and_write_uses_the_primary():
    assert router.db_for_read(Pledge) == "default"
    assert router.db_for_write(Pledge) == "default"


def test_migrations_never_target_the_replica():
    assert router.allow_migrate("default", "contributions", "pledge") is True
    assert router.allow_migrate("replica", "contributions", "pledge") is False


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_and_for_who_the_client_is_reads_stay_on_the_primary():
    token = db_router._read_replica.set(True)
    try:
        assert router.db_for_read(Pledge) == "replica"
        assert router.db_for_read(APIKey) == "default"
        assert router.db_for_read(get_user_model()) == "default"
        with transaction.atomic():
            assert router.db_for_read(Pledge) == "default"
    finally:
        db_router._read_replica.reset(token)


def test_without_a_replica_the_middleware_is_not_installed():
    from django.core.exceptions import MiddlewareNotUsed

    with pytest.raises(MiddlewareNotUsed):
        db_router.ReplicaReadMiddleware(lambda request: HttpResponse())


@pytest.mark.parametrize(
    "path",
    ["/api/v1/pledges/", "/api/v1/summary/?coalition=x", "/coalitions/x/", "/coalitions/x/export/pledges.csv"],
)
def test_lists_the_summary_dashboards_and_exports_read_from_the_replica(replica, path):
    assert replica("GET", path, HTTP_AUTHORIZATION="Token partner").endswith("replica")


@pytest.mark.parametrize("path", ["/api/v1/pledges/1/", "/pledges/1/", "/accounts/profile/"])
def test_other_pages_read_from_the_primary(replica, path):
    assert replica("GET", path, HTTP_AUTHORIZATION="Token partner") == "default"


def test_an_export_streamed_after_the_view_returned_still_reads_from_the_replica(replica):
    assert replica("GET", "/pledges/export.csv", HTTP_AUTHORIZATION="Token partner") == "replica"


def test_a_client_who_wrote_reads_from_the_primary_for_the_pin_window_and_others_do_not(replica, settings):
    replica("POST", "/api/v1/pledges/", HTTP_AUTHORIZATION="Token writer")
    assert replica("GET", "/api/v1/pledges/", HTTP_AUTHORIZATION="Token writer") == "default"
    assert replica("GET", "/api/v1/pledges/", HTTP_AUTHORIZATION="Token reader") == "replica"
    session = {"HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}=abc"}
    replica("POST", "/pledges/new/", **session)
    assert replica("GET", "/coalitions/x/", **session) == "default"
    assert replica("GET", "/coalitions/x/", HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}=other") == "replica"


def test_the_pin_lapses(replica, settings):
    settings.DATABASE_REPLICA_PIN_SECONDS = 1
    replica("POST", "/api/v1/pledges/", HTTP_AUTHORIZATION="Token writer")
    assert replica("GET", "/api/v1/pledges/", HTTP_AUTHORIZATION="Token writer") == "default"
    import time

    time.sleep(1.2)
    assert replica("GET", "/api/v1/pledges/", HTTP_AUTHORIZATION="Token writer") == "replica"
