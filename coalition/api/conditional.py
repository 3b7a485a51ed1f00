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

Every other answer (a detail, the CSV, the browsable pages, a list without ``fingerprint_models``)
hashes its rendered body, which is right by construction. The ETag alone decides a 304:
``Last-Modified`` (the newest ``updated_at`` shown) is information, not a validator, because a
deletion, an allocation or an attendance changes what a page shows without moving it, and a client
revalidating with ``If-Modified-Since`` only would be told nothing changed.
"""

import hashlib

from django.db import connections, router
from django.http import HttpResponseNotModified
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date, parse_etags, quote_etag
from django.utils.translation import get_language

from coalition import permissions


def change_stamp(models):
    """The newest change of each of ``models``, in one query (a tuple of values). The SQL is built from
    the models' own table and column names, quoted; no request text reaches it."""
    models = list(models)
    connection = connections[router.db_for_read(models[0])]
    quote = connection.ops.quote_name
    parts = []
    for model in models:
        table = quote(model._meta.db_table)
        history = getattr(model, "history", None)
        if history is not None:
            history_model = history.model
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
            *change_stamp(models),
        )
    )
    return quote_etag(hashlib.blake2b(key.encode(), digest_size=16).hexdigest())


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
