"""``Authorization: Token <key>`` authentication against hashed API keys."""

import hashlib
import secrets

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from coalition.models import APIKey

KEY_PREFIX_LENGTH = 8


def hash_key(raw_key):
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_key():
    """A new random key; its first characters are stored as a prefix to help people tell keys apart."""
    return secrets.token_urlsafe(32)


class APIKeyAuthentication(authentication.TokenAuthentication):
    """Looks the key up by its digest; revoked keys and inactive owners are refused."""

    keyword = "Token"

    def authenticate_credentials(self, key):
        api_key = APIKey.objects.select_related("owner").filter(digest=hash_key(key)).first()
        if api_key is None or api_key.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        if not api_key.owner.is_active:
            raise exceptions.AuthenticationFailed(_("The key's owner is inactive."))
        now = timezone.now()
        # Touch last_used_at at most once a minute: a busy key should not write on every request.
        if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
            APIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now
        return api_key.owner, api_key
