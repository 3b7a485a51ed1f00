"""The dashboard's figures and the summary endpoint's body, cached in Django's cache (Redis when
``REDIS_URL`` is set, so every web replica shares them; local memory otherwise) under a fingerprint
computed before anything is summed or drawn: the coalition's change stamp (moved in the transaction
of every write that changes its figures), the coalition row itself, the reader's visibility version,
the language and the filters. A write moves the stamp, so the next read misses and recomputes; old
entries are never read again and expire."""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language

from coalition import permissions, stamps

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
