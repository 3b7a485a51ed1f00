"""Conditional GET for every API view: an ``ETag``, ``Last-Modified`` where the view knows it, and
``304 Not Modified`` for a matching ``If-None-Match``.

A list that declares ``fingerprint_models`` gets its ETag before anything is read or rendered: a hash
of the request (path, filters, ordering, cursor, format, language), the caller's visibility key
(``coalition.permissions.viewer_key``: who they are and their seats) and one small query, the
newest change of each model the list shows — ``MAX(history_id)`` of its history table (every create,
update and delete writes a history row, bulk imports included) and ``MAX(updated_at)`` (both read
from the top of an index; a table without history, such as the coalitions, adds its ``COUNT(*)`` and
``MAX(id)``). A 304 is then three small queries (the key, the seats, that one) and no page. The stamp is
global rather than per coalition: a change anywhere gives every caller a new ETag (a 200 where a 304
would have done), never an old one for data that changed.

**Revalidation without the view.** A partner polling a list mostly asks again for what it holds.
``RevalidationMiddleware``, near the top of the stack, answers such a request itself when an earlier
answer to the same request (the same key, address, ``Accept`` and ``Accept-Language``, the same day)
left its fingerprint ETag in the cache and nothing has been written since: a 304 from one cache read,
before sessions, authentication, permissions or any query. A request asked for a second time in a
generation also leaves its body (up to ``MAX_KEPT_BODY``), and from the third on a GET without a
matching ``If-None-Match`` is given that 200 from the cache, counted by the key's rate limit as the
view would count it (a refusal goes through the view, which answers the 429); a walk through every
page asks each once and keeps no body. "Nothing written since" is a generation in the cache, replaced
on the commit of every write that can change a list or who reads it (every change-feed row, every
seat, API key and user saved or deleted): an entry is good only for the generation it was stored
under, so a write, a revoked key or a removed seat sends the next request through the view again. An
entry is used for at most ``FRESH_FOR`` seconds after the view last answered, so the view still sees
a polling key about once a minute (its "last used" moves). A request with a cookie, or
``If-None-Match: *``, always goes through the view. 304s from the cache are not counted by the key's
rate limit. The same generation lets ``coalition.api.authentication`` remember a key found valid
(with its owner's seats) and ``_stamp`` read a list's stamp once per generation: a request through
the view then runs only its page query.

Every other answer (a detail, the CSV, the browsable pages, a list without ``fingerprint_models``)
hashes its rendered body, which is right by construction. The ETag alone decides a 304:
``Last-Modified`` (the newest ``updated_at`` shown) is information, not a validator, because a
deletion, an allocation or an attendance changes what a page shows without moving it, and a client
revalidating with ``If-Modified-Since`` only would be told nothing changed.
"""

import contextvars
import functools
import hashlib
import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections, router, transaction
from django.db import connection as default_connection
from django.http import HttpResponse, HttpResponseNotModified
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date, parse_etags, quote_etag
from django.utils.translation import get_language

from coalition import permissions


@functools.cache
def _history_model(model):
    # Once per model: simple-history's ``model.history`` builds a new manager class at every access.
    history = getattr(model, "history", None)
    return None if history is None else history.model


def change_stamp(models):
    """The newest change of each of ``models``, in one query (a tuple of values). The SQL is built from
    the models' own table and column names, quoted; no request text reaches it."""
    models = list(models)
    connection = connections[router.db_for_read(models[0])]
    quote = connection.ops.quote_name
    parts = []
    for model in models:
        table = quote(model._meta.db_table)
        history_model = _history_model(model)
        if history_model is not None:
            column = quote(history_model._meta.pk.column)
            parts.append(f"(SELECT MAX({column}) FROM {quote(history_model._meta.db_table)})")  # noqa: S608
        else:
            pk = quote(model._meta.pk.column)
            parts.append(f"(SELECT COUNT(*) FROM {table})")  # noqa: S608
            parts.append(f"(SELECT MAX({pk}) FROM {table})")  # noqa: S608
        if any(field.name == "updated_at" for field in model._meta.concrete_fields):
            parts.append(f"(SELECT MAX({quote('updated_at')}) FROM {table})")  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        return tuple(cursor.fetchone())


def list_fingerprint(request, models):
    """The ETag of a list answer, from what decides it rather than from the answer."""
    key = "\n".join(
        str(part)
        for part in (
            request.build_absolute_uri(),
            request.accepted_renderer.format,
            get_language(),
            timezone.localdate(),  # a day's change in what "overdue" or "upcoming" means
            permissions.viewer_key(request.user),
            *_stamp(models),
        )
    )
    return quote_etag(hashlib.blake2b(key.encode(), digest_size=16).hexdigest())


def _stamp(models):
    """``change_stamp(models)``; with revalidation on, read from the database once per cache
    generation (every write that moves a stamp writes a change-feed row, which replaces the
    generation), so a list answer needs no query before its page."""
    if not settings.API_REVALIDATION_TIMEOUT:
        return change_stamp(models)
    key = _stamp_key(models)
    stamp, generation = current(key)
    if stamp is None:
        stamp = change_stamp(models)
        keep(key, generation, stamp)
    return stamp


def _stamp_key(models):
    return "api-revalidation:stamp:" + ",".join(model._meta.label_lower for model in models)


def _matches(request, etag):
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or etag.removeprefix("W/") in {tag.removeprefix("W/") for tag in tags}


class ConditionalGetMixin:
    # For DRF views (no docstring: drf-spectacular would show it as every operation's description).
    # A handler sets ``self.last_modified`` (an aware datetime) to send it.

    last_modified = None
    #: The models a list shows; its ETag then comes from their change stamp (above), not its body.
    fingerprint_models = None
    etag = None

    def fingerprint_not_modified(self, request):
        """For a list: sets ``self.etag`` from the fingerprint and returns a 304 when the client holds
        it; None otherwise (and for answers that hash their body)."""
        if not self.fingerprint_models or request.method not in ("GET", "HEAD"):
            return None
        if getattr(request.accepted_renderer, "format", None) != "json":
            return None
        self.etag = list_fingerprint(request, self.fingerprint_models)
        getattr(request, "_request", request).fingerprint_etag = self.etag
        if _matches(request, self.etag):
            return HttpResponseNotModified()
        return None

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Every answer depends on who asks: caches may keep it only per client, and must revalidate.
        patch_vary_headers(response, ("Authorization", "Cookie"))
        if response.status_code == 304 and self.etag is not None:
            response["ETag"] = self.etag
            patch_cache_control(response, private=True, no_cache=True)
            return response
        if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.streaming:
            return response
        etag = self.etag
        if etag is None:
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            etag = quote_etag(hashlib.blake2b(response.content, digest_size=16).hexdigest())
        response["ETag"] = etag
        patch_cache_control(response, private=True, no_cache=True)
        if self.last_modified is not None:
            response["Last-Modified"] = http_date(self.last_modified.timestamp())
        return get_conditional_response(request, etag=etag, response=response)


# --- Revalidation without the view ----------------------------------------------------------------

GENERATION_KEY = "api-revalidation:generation"
logger = logging.getLogger(__name__)


class _Tolerant:
    """The cache, for what is only a shortcut: a cache that does not answer (Redis down) is a miss
    and a write that is not kept, never an error — a pledge is confirmed with Redis down, and a list
    is then answered by its view. (A generation not replaced because Redis was unreachable from the
    writer only is the one case an entry could outlive a write: until it expires.)"""

    def get_many(self, keys):
        try:
            return cache.get_many(keys)
        except Exception as exc:  # noqa: BLE001 - any cache failure: the shortcut is skipped
            logger.warning("Cache unreachable, shortcut skipped: %s", exc)
            return {}

    def set(self, key, value, timeout):
        try:
            cache.set(key, value, timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - as above
            logger.warning("Cache unreachable, shortcut skipped: %s", exc)

    def add(self, key, value, timeout):
        try:
            cache.add(key, value, timeout=timeout)
            return cache.get(key)
        except Exception as exc:  # noqa: BLE001 - as above
            logger.warning("Cache unreachable, shortcut skipped: %s", exc)
            return None


shared = _Tolerant()
_REPLAYED_HEADERS = {"etag", "vary", "cache-control", "content-language"}


#: What RevalidationMiddleware read at the start of the request: ``(keys asked, values found)``.
_read_ahead = contextvars.ContextVar("api_revalidation_read_ahead", default=None)
#: Callables ``(request) -> cache keys`` the request will ask ``current()`` for (the remembered key,
#: the list's stamp): the middleware reads them with its own entry, one round trip instead of three.
_read_ahead_keys = []


def read_ahead(function):
    """Register ``function(request)``, the keys of entries a request will read (a decorator)."""
    _read_ahead_keys.append(function)
    return function


def current(key, generation_key=GENERATION_KEY):
    """``(value, generation)``: what is kept under ``key`` if it was kept in the current generation
    (else None), and that generation (None if the cache has none or does not answer), in one read,
    or none if the middleware read it ahead (with the generation of the request's start, read before
    anything the value could be made from: older, never newer). ``generation_key`` names another
    generation than the API's (reports.figures.settled's)."""
    ahead = _read_ahead.get()
    if ahead is not None and key in ahead[0] and generation_key == GENERATION_KEY:
        found = ahead[1]
    else:
        found = shared.get_many([key, generation_key])
    generation, entry = found.get(generation_key), found.get(key)
    if generation is not None and not replayed(generation):
        return None, None  # nothing read now is to be kept: the replica may not hold the writes yet
    if generation is None or entry is None or entry[0] != generation:
        return None, generation
    return entry[1], generation


def keep(key, generation, value, timeout=None):
    """Keep ``value`` under ``key`` for ``generation`` (read before what ``value`` was made from), for
    ``timeout`` seconds (the API's revalidation timeout by default)."""
    if generation is not None:
        shared.set(key, (generation, value), timeout=timeout or settings.API_REVALIDATION_TIMEOUT)


# --- With a read replica ---------------------------------------------------------------------------
#
# A request may read a replica that has not yet replayed the write that replaced the generation: what
# it read then is older than the generation says, and kept under it an entry would be served until
# the next write (a 304 for a stale ETag, a kept 200, a stamp). So with a replica configured, a
# generation written after a commit carries the primary's WAL position then (``uuid@position``), and
# it is usable (``current()`` gives it to be kept under) only once the replica has replayed that far,
# checked before anything is read: one query to the replica per generation and process, none when it
# was seen to have caught up.

#: config.db_router.REPLICA (the layers keep coalition from importing config).
_REPLICA = "replica"
_seen_replayed = [None]


def _generation():
    """A new generation value; after a commit, with a replica, the primary's WAL position with it."""
    value = uuid.uuid4().hex
    if _REPLICA in settings.DATABASES and default_connection.vendor == "postgresql":
        try:
            with default_connection.cursor() as cursor:
                cursor.execute("SELECT pg_current_wal_lsn()::text")
                value += "@" + cursor.fetchone()[0]
        except DatabaseError as exc:  # no position: entries are then kept only without a replica lag check
            logger.warning("WAL position unreadable for the revalidation generation: %s", exc)
    return value


def replayed(generation):
    """Whether reads now include every write before ``generation``: always without a replica or
    without a position; with them, once the replica has replayed up to the position."""
    _uuid, _at, position = generation.partition("@")
    if not position or _REPLICA not in settings.DATABASES or _seen_replayed[0] == generation:
        return True
    try:
        with connections[_REPLICA].cursor() as cursor:
            # NULL when the "replica" is not in recovery (a primary itself): nothing to wait for.
            cursor.execute("SELECT COALESCE(pg_last_wal_replay_lsn() >= %s::pg_lsn, true)", [position])
            done = cursor.fetchone()[0]
    except DatabaseError as exc:
        logger.warning("Replica position unreadable, nothing kept: %s", exc)
        return False
    if done:
        _seen_replayed[0] = generation
    return done


def new_generation(after_commit=True):
    """Every entry stored so far stops matching (on the commit of a write: see ``writes_changed``)."""
    shared.set(GENERATION_KEY, _generation() if after_commit else uuid.uuid4().hex, timeout=None)


def writes_changed(**kwargs):
    """Signal receiver: replace the generation now, and again once the writer's transaction commits
    (registered once per transaction). Now, so that no entry stored before the write matches; at the
    commit, so that none stored meanwhile from a read of the data as it was before the commit does.
    (Inside a transaction the first needs no WAL position: until the commit, a replica's data is the
    data as it still is.)"""
    connection = default_connection
    new_generation(after_commit=not connection.in_atomic_block)
    if connection.in_atomic_block and not any(
        callback is new_generation for _sids, callback, _robust in connection.run_on_commit
    ):
        transaction.on_commit(new_generation)


@read_ahead
def _stamp_of_the_list(request):
    """The stamp entry of the list the request names (its view's ``fingerprint_models``), if any."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return ()
    models = getattr(getattr(match.func, "cls", None), "fingerprint_models", None)
    return (_stamp_key(models),) if models else ()


def _entry_key(request):
    meta = request.META
    parts = (
        meta.get("HTTP_AUTHORIZATION", ""),
        request.get_host(),
        request.get_full_path(),
        meta.get("HTTP_ACCEPT", ""),
        meta.get("HTTP_ACCEPT_LANGUAGE", ""),
        timezone.localdate().isoformat(),
    )
    digest = hashlib.blake2b("\n".join(parts).encode(), digest_size=20).hexdigest()
    return f"api-revalidation:answer:{digest}"


def _eligible(request):
    meta = request.META
    return (
        request.method in ("GET", "HEAD")
        and request.path_info.startswith("/api/")
        and meta.get("HTTP_AUTHORIZATION", "").startswith("Token ")
        and not meta.get("HTTP_COOKIE")
    )


#: How long a kept answer is given without the view: at most this long after the view last answered
#: the same request (so a key polling from the cache still has its "last used" moved about once a
#: minute, coalition.api.authentication). Past it the entry still counts as seen, and the view
#: renews it.
FRESH_FOR = 60
#: The largest body kept for repeating (a page of 200 pledges is about 130 KB).
MAX_KEPT_BODY = 512 * 1024
_NOT_KEPT_HEADERS = {"content-length", "set-cookie"}


def _repeat(entry, request):
    """The kept 200 of ``entry`` for ``request``, counted by the throttles that counted the first;
    None if a throttle refuses it (the view then answers the 429) or the cache does not answer."""
    try:
        for throttle_class, key in entry["throttled_by"]:
            throttle = throttle_class()
            if throttle.rate is not None and not throttle.allow_key(key):
                return None
    except Exception as exc:  # noqa: BLE001 - a cache failure: the view answers, as without the shortcut
        logger.warning("Cache unreachable, shortcut skipped: %s", exc)
        return None
    response = HttpResponse(entry["body"], status=200)
    for name, value in entry["headers"]:
        response[name] = value
    response["Content-Length"] = str(len(entry["body"]))
    return response


class RevalidationMiddleware:
    """Answers a repeated GET of an API list from the cache when nothing was written since the view
    gave the same answer: a 304 for a matching ``If-None-Match``, else (from the third request on)
    the kept 200 (see the module's docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.API_REVALIDATION_TIMEOUT or not _eligible(request):
            return self.get_response(request)
        key = _entry_key(request)
        keys = {key, GENERATION_KEY, *(name for function in _read_ahead_keys for name in function(request))}
        found = shared.get_many(list(keys))
        token = _read_ahead.set((keys, found))
        try:
            return self._answer(request, key, found)
        finally:
            _read_ahead.reset(token)

    def _answer(self, request, key, found):
        entry, generation = current(key)
        tags = {tag.removeprefix("W/") for tag in parse_etags(request.META.get("HTTP_IF_NONE_MATCH", ""))}
        if entry is not None and entry["until"] > timezone.now().timestamp() and "*" not in tags:
            if entry["etag"] in tags:
                response = HttpResponseNotModified()
                for name, value in entry["headers"]:
                    if name.lower() in _REPLAYED_HEADERS:
                        response[name] = value
                return response
            if entry["body"] is not None and request.method == "GET":
                response = _repeat(entry, request)
                if response is not None:
                    return response
        if generation is None:
            # The first request since the cache was emptied: any generation will do, taken before the
            # view reads anything (a write committing meanwhile replaces it, so no entry of ours lives).
            generation = found[GENERATION_KEY] = shared.add(GENERATION_KEY, _generation(), timeout=None)
            if generation is not None and not replayed(generation):
                generation = None
        response = self.get_response(request)
        etag = getattr(request, "fingerprint_etag", None)
        if etag is not None and response.get("ETag") == etag and response.status_code in (200, 304):
            keep(key, generation, _entry(request, response, etag, entry))
        return response


def _entry(request, response, etag, seen):
    """What is kept of the view's answer: its ETag and headers; its body too (and the throttles that
    counted it) when the same request was answered before in this generation, so that an answer
    asked for once, as a walk through every page asks, keeps no body."""
    if response.status_code == 200:
        headers = [(name, value) for name, value in response.items() if name.lower() not in _NOT_KEPT_HEADERS]
        body = None
        if seen is not None and request.method == "GET" and not response.cookies:
            body = response.content if len(response.content) <= MAX_KEPT_BODY else None
    elif seen is not None and seen["etag"] == etag:  # a 304 from the view: the answer kept still holds
        headers, body = seen["headers"], seen["body"]
    else:
        headers, body = list(response.items()), None
    return {
        "etag": etag,
        "headers": headers,
        "body": body,
        "throttled_by": getattr(request, "throttled_by", ()),
        "until": timezone.now().timestamp() + FRESH_FOR,
    }
