"""The dashboard's figures and the summary endpoint's body, cached in Django's cache (Redis when
``REDIS_URL`` is set, so every web replica shares them; local memory otherwise) under a fingerprint
computed before anything is summed or drawn: the coalition's change stamp (moved in the transaction
of every write that changes its figures), the coalition row itself, the reader's visibility version,
the language and the filters. A write moves the stamp, so the next read misses and recomputes; old
entries are never read again and expire.

Figures of the history as it stood at an instant long past (``settled``) are kept apart: they do not
move with the stamp, and a write cannot change them."""

import hashlib
import uuid

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language

from coalition import permissions, stamps
from coalition.api import conditional

#: Marks a cached value that is legitimately empty apart from a miss.
_MISSING = object()


def fingerprint(surface, coalition, user, filters):
    """The cache key of ``surface`` ("dashboard", "summary") of ``coalition`` for ``user`` (one query:
    the change stamp). The coalition's creation time keeps a re-created coalition with a reused id,
    and its last change its target, from ever reading another's entry."""
    parts = (
        surface,
        coalition.pk,
        coalition.created_at.isoformat() if coalition.created_at else "",
        coalition.updated_at.isoformat() if coalition.updated_at else "",
        _stamp(coalition),
        permissions.visibility_version(user),
        get_language() or "",
        sorted((name, str(value)) for name, value in filters.items() if value),
    )
    return f"figures:{surface}:{hashlib.sha256(repr(parts).encode()).hexdigest()}"


def _stamp(coalition):
    """The change stamp, read once per request (kept on the coalition object the view loaded)."""
    if not hasattr(coalition, "_change_stamp"):
        coalition._change_stamp = stamps.stamp_of(coalition.pk)
    return coalition._change_stamp


def cached(key, compute):
    """The value under ``key``, computed and stored on a miss."""
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = compute()
        cache.set(key, value, settings.FIGURES_CACHE_TIMEOUT)
    return value


def settled(coalition, parts, compute):
    """``compute()`` of ``coalition``'s history as it stood at an instant long enough past that no
    write can still date a row before it (reports.selectors.members_as_of), kept for a day under the
    coalition and ``parts`` whatever writes follow. Only the demo loader dates rows in the past; it
    replaces the coalition's history generation (``history_rewritten``) and every such entry stops
    matching. A cache that does not answer (Redis down) is a miss: the figures are computed."""
    parts = (coalition.pk, coalition.created_at.isoformat() if coalition.created_at else "", parts)
    key = f"figures:settled:{hashlib.sha256(repr(parts).encode()).hexdigest()}"
    generation_key = _history_generation_key(coalition.pk)
    value, generation = conditional.current(key, generation_key)
    if value is None:
        if generation is None:
            # Taken before the history is read: a rewrite committing meanwhile replaces it.
            generation = conditional.shared.add(generation_key, uuid.uuid4().hex, timeout=None)
        value = compute()
        conditional.keep(key, generation, value, timeout=settings.FIGURES_CACHE_TIMEOUT)
    return value


def history_rewritten(coalition_id):
    """The coalition's history was dated in the past (the demo loader, on commit): no figure kept by
    ``settled`` from it before is read again."""
    conditional.shared.set(_history_generation_key(coalition_id), uuid.uuid4().hex, timeout=None)


def _history_generation_key(coalition_id):
    return f"figures:history-generation:{coalition_id}"
