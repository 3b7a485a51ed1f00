"""A read replica (DATABASE_REPLICA_URL) for the reads that dominate: API lists, the summary, exports
and dashboards. Everything else — writes, reads inside a transaction, tasks, commands, migrations —
uses the primary.

Who reads from the replica is decided per request by ReplicaReadMiddleware: a safe request (GET,
HEAD) to one of DATABASE_REPLICA_VIEWS, from a client that has not written in the last
DATABASE_REPLICA_PIN_SECONDS. After any unsafe request the client (its session cookie, or its API
key's Authorization header, hashed) is pinned to the primary for that long, in the cache every web
replica shares, so a person who just wrote reads their own write even while the replica lags.
The decision is a context variable the router reads, so nothing outside a request (a Celery task, a
management command) ever reads from the replica.
"""

import contextvars
import hashlib
import logging
import re

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Who the client is comes from the primary: a key or a session made a moment ago may not have
#: reached the replica yet.
PRIMARY_ONLY_APPS = frozenset({"sessions", "auth", "account", "mfa"})
PRIMARY_ONLY_MODELS = frozenset({"coalition.APIKey"})

logger = logging.getLogger(__name__)
_read_replica = contextvars.ContextVar("read_replica", default=False)


def replica_configured():
    return REPLICA in settings.DATABASES


class PrimaryReplicaRouter:
    """Reads go to the replica only inside a request the middleware chose, and never inside a
    transaction on the primary (what a transaction reads must be what it writes against)."""

    def db_for_read(self, model, **hints):
        if (
            _read_replica.get()
            and model._meta.app_label not in PRIMARY_ONLY_APPS
            and model._meta.label not in PRIMARY_ONLY_MODELS
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the primary's rows: an object read there relates to one read here.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


def _pin_key(identity):
    return "replica-pin:" + hashlib.sha256(identity.encode()).hexdigest()


def _identities(request, response=None):
    """What names this client across requests: its API key header, its session cookie (and the new
    one a sign-in gives it)."""
    found = []
    if authorization := request.META.get("HTTP_AUTHORIZATION"):
        found.append("auth:" + authorization)
    if session := request.COOKIES.get(settings.SESSION_COOKIE_NAME):
        found.append("session:" + session)
    new = response.cookies.get(settings.SESSION_COOKIE_NAME) if response is not None else None
    if new is not None and new.value:
        found.append("session:" + new.value)
    return found


def pinned(request):
    """Whether this client wrote within the pin window (a cache that does not answer pins it)."""
    keys = [_pin_key(identity) for identity in _identities(request)]
    if not keys:
        return False
    try:
        return bool(cache.get_many(keys))
    except Exception:  # noqa: BLE001 - the cache down: read from the primary, which is always right
        logger.warning("The cache did not answer; reading from the primary", exc_info=True)
        return True


def pin(request, response):
    keys = [_pin_key(identity) for identity in _identities(request, response)]
    if not keys:
        return
    try:
        cache.set_many(dict.fromkeys(keys, 1), timeout=settings.DATABASE_REPLICA_PIN_SECONDS)
    except Exception:  # noqa: BLE001 - the write is done; its author may read a lagging replica
        logger.warning("Could not pin a writer to the primary", exc_info=True)


def _on_replica(content):
    """A streamed body (a CSV export) is produced after the view returns: it reads from the replica too."""
    token = _read_replica.set(True)
    try:
        yield from content
    finally:
        _read_replica.reset(token)


class ReplicaReadMiddleware:
    """Chooses the replica for a request's reads (see the module's docstring); not installed without
    DATABASE_REPLICA_URL."""

    def __init__(self, get_response):
        if not replica_configured():
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.views = [re.compile(pattern) for pattern in settings.DATABASE_REPLICA_VIEWS]

    def __call__(self, request):
        request.reads_from_replica = False
        try:
            response = self.get_response(request)
        finally:
            if getattr(request, "_replica_token", None) is not None:
                _read_replica.reset(request._replica_token)
        if request.method not in SAFE_METHODS:
            pin(request, response)
        elif request.reads_from_replica and response.streaming:
            response.streaming_content = _on_replica(response.streaming_content)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method not in SAFE_METHODS or request.resolver_match is None:
            return None
        name = request.resolver_match.view_name
        if any(pattern.match(name) for pattern in self.views) and not pinned(request):
            request.reads_from_replica = True
            request._replica_token = _read_replica.set(True)
        return None
