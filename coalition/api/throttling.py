"""Throttling per API key (or per user for session clients)."""

from rest_framework.throttling import SimpleRateThrottle


class KeyRateThrottle(SimpleRateThrottle):
    """Rate-limit each API key on its own, so one partner's script cannot starve another."""

    scope = "key"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        key = getattr(request, "auth", None)
        ident = f"key-{key.pk}" if getattr(key, "pk", None) else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
