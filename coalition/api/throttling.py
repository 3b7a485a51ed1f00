"""Throttling per API key (or per user for session clients), and per address without a key.

DRF's throttles read a list of timestamps from the cache and write it back: concurrent requests each
read the same list and the last write wins, so a burst overshoots the allowance (2,152 answered
against 2000/hour). Here each window is one counter, created with ``cache.add`` (SET NX) and counted
with ``cache.incr`` (INCR): both atomic in Redis, so exactly the allowance is answered per window,
however many requests arrive at once and in however many processes.
"""

import time

from django.core.cache.backends.redis import RedisCacheClient
from rest_framework import throttling


class AtomicWindowMixin:
    """A fixed window of ``duration`` seconds per client, counted atomically in the cache."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        # What counted this request, so that an answer repeated from the cache (RevalidationMiddleware)
        # is counted in the same window.
        django_request = getattr(request, "_request", request)
        django_request.throttled_by = [*getattr(django_request, "throttled_by", ()), (type(self), self.key)]
        return self.allow_key(self.key)

    def allow_key(self, key):
        """Count one request in ``key``'s current window; False once the allowance is spent."""
        self.now = time.time()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        counter = f"{key}:{window}"
        if isinstance(getattr(self.cache, "_cache", None), RedisCacheClient):  # Django's Redis backend
            return _count_in_redis(self.cache, counter, self.duration + 1) <= self.num_requests
        for _attempt in range(3):
            self.cache.add(counter, 0, timeout=self.duration + 1)
            try:
                count = self.cache.incr(counter)
            except ValueError:  # expired between add and incr: start it again
                continue
            return count <= self.num_requests
        return False

    def wait(self):
        return max(self.window_ends - self.now, 1)


def _count_in_redis(cache, counter, timeout):
    """``add`` and ``incr`` of the counter in one round trip (Django's ``incr`` alone is two: EXISTS,
    then INCRBY): SET NX EX and INCR in a MULTI/EXEC, atomic as the two cache calls are. The value is
    the plain integer Django's Redis serializer stores for an int, so ``cache.get`` reads it."""
    name = cache.make_and_validate_key(counter)
    pipeline = cache._cache.get_client(name, write=True).pipeline(transaction=True)
    pipeline.set(name, 0, ex=timeout, nx=True)
    pipeline.incr(name)
    return pipeline.execute()[1]


class KeyRateThrottle(AtomicWindowMixin, throttling.SimpleRateThrottle):
    """Rate-limit each API key on its own, so one partner's script cannot starve another."""

    scope = "key"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        key = getattr(request, "auth", None)
        ident = f"key-{key.pk}" if getattr(key, "pk", None) else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonRateThrottle(AtomicWindowMixin, throttling.AnonRateThrottle):
    """Clients without a key, per address (REMOTE_ADDR, or the configured proxy's X-Forwarded-For)."""
