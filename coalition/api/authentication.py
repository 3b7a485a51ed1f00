"""``Authorization: Token <key>`` authentication against hashed API keys."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from coalition import permissions
from coalition.api import conditional
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
        digest = hash_key(key)
        remembered = _remembered(digest)
        if remembered.api_key is not None:
            api_key = remembered.api_key
        else:
            api_key = APIKey.objects.select_related("owner").filter(digest=digest).first()
            if api_key is None or api_key.revoked_at is not None:
                raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
            if not api_key.owner.is_active:
                raise exceptions.AuthenticationFailed(_("The key's owner is inactive."))
        now = timezone.now()
        # Touch last_used_at at most once a minute: a busy key should not write on every request (and
        # an answer repeated from the cache goes through here again after as long).
        touched = api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > conditional.FRESH_FOR
        if touched:
            APIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now
        if remembered.generation is not None and (touched or remembered.api_key is None):
            _remember(digest, remembered.generation, api_key)
        return api_key.owner, api_key


# --- A valid key remembered -------------------------------------------------------------------------
#
# With API_REVALIDATION_TIMEOUT on (a shared cache), a key found valid is kept in the cache with its
# owner's fields and seats under the cache generation of coalition.api.conditional, which every seat,
# API key and user written replaces (at the write and at its commit): a revoked key, a deactivated
# owner or a changed seat is read from the database again on the next request. Nothing secret is kept
# (the key's digest names the entry; the owner's password hash is left out).

_OWNER_FIELDS = ("id", "username", "email", "first_name", "last_name", "is_active", "is_staff", "is_superuser")


class _Remembered:
    __slots__ = ("api_key", "generation")

    def __init__(self, api_key=None, generation=None):
        self.api_key, self.generation = api_key, generation


def _entry_key(digest):
    return f"api-key:{digest}"


@conditional.read_ahead
def _key_of_the_request(request):
    """The remembered entry of the request's key, read ahead by RevalidationMiddleware (the header
    split as DRF's TokenAuthentication splits it)."""
    parts = authentication.get_authorization_header(request).split()
    if len(parts) != 2 or parts[0].lower() != APIKeyAuthentication.keyword.lower().encode():
        return ()
    try:
        return (_entry_key(hash_key(parts[1].decode())),)
    except UnicodeError:
        return ()


def _remembered(digest):
    """The key remembered for ``digest`` (its owner's seats already known) if its entry is of the
    current generation; and the generation, to store under if not."""
    if not settings.API_REVALIDATION_TIMEOUT:
        return _Remembered()
    entry, generation = conditional.current(_entry_key(digest))
    if entry is None:
        return _Remembered(generation=generation)
    owner = _from_db(get_user_model(), entry["owner"])
    api_key = _from_db(APIKey, entry["key"])
    api_key.owner = owner
    permissions.remember_seats(owner, entry["seats"])
    return _Remembered(api_key, generation)


def _from_db(model, values):
    """An instance of ``model`` as if loaded with only ``values`` (by attname): the other fields are
    deferred, read from the database if ever asked for. ``from_db`` takes the values in the order of
    the model's fields."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname in values]
    return model.from_db(DEFAULT_DB_ALIAS, names, [values[name] for name in names])


def _remember(digest, generation, api_key):
    owner = api_key.owner
    entry = {
        "key": {field.attname: getattr(api_key, field.attname) for field in APIKey._meta.concrete_fields},
        "owner": {field: getattr(owner, field) for field in _OWNER_FIELDS},
        "seats": permissions.seat_rows(owner),
    }
    conditional.keep(_entry_key(digest), generation, entry)
