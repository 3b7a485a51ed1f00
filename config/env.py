"""Reading configuration from the environment, failing fast on malformed values.

Kept apart from settings so the parsing rules can be unit-tested and the docker-compose contract
test can import the list of variables the settings read.
"""

import ipaddress
import os
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

#: Every environment variable the settings read: the contract docker-compose.yml must honour.
CONTRACT = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "TIME_ZONE",
    "EMAIL_URL",
)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use 1/0, true/false, yes/no or on/off.")


def env_int(name, default, minimum=0, maximum=None):
    """A whole number within [minimum, maximum]; anything else refuses to start, naming the variable."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}{upper}.")
    return value


def env_list(name, default=()):
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name):
    """Comma-separated CIDRs (``127.0.0.0/8,::1/128``) as ``ipaddress`` networks; a malformed one stops
    the start naming it."""
    networks = []
    for item in env_list(name):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {item!r} is not a network (write it as 10.0.0.0/8).") from exc
    return networks


def parse_email_url(url):
    """Turn ``smtp://user:pass@host:port?tls=1`` (or ``console:``, ``locmem:``) into EMAIL_* settings."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    backends = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "dummy": "django.core.mail.backends.dummy.EmailBackend",
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
        "smtps": "django.core.mail.backends.smtp.EmailBackend",
        "submission": "django.core.mail.backends.smtp.EmailBackend",
    }
    if scheme not in backends:
        raise ImproperlyConfigured(
            f"EMAIL_URL scheme {scheme!r} is not supported: use one of {', '.join(sorted(backends))}."
        )
    config = {"EMAIL_BACKEND": backends[scheme]}
    if scheme in {"smtp", "smtps", "submission"}:
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        try:
            port = parts.port
        except ValueError as exc:
            raise ImproperlyConfigured(f"EMAIL_URL has an invalid port: {exc}") from exc
        default_port = {"smtp": 25, "smtps": 465, "submission": 587}[scheme]
        use_ssl = scheme == "smtps" or query.get("ssl", "").lower() in _TRUE
        use_tls = scheme == "submission" or query.get("tls", "").lower() in _TRUE
        # Django refuses both only when the first email is sent; refusing here stops the process at start.
        if use_ssl and use_tls:
            raise ImproperlyConfigured(
                "EMAIL_URL asks for both SSL and STARTTLS: use smtps:// (or ?ssl=1) for SSL from the first byte, "
                "or submission:// (or ?tls=1) for STARTTLS, not both."
            )
        config.update(
            EMAIL_HOST=parts.hostname or "localhost",
            EMAIL_PORT=port or default_port,
            EMAIL_HOST_USER=unquote(parts.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
            EMAIL_USE_SSL=use_ssl,
            EMAIL_USE_TLS=use_tls,
            EMAIL_TIMEOUT=_email_timeout(query.get("timeout", "10")),
        )
    return config


def _email_timeout(raw):
    """EMAIL_URL's ``timeout``: a positive whole number of seconds, or a refusal naming EMAIL_URL."""
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"EMAIL_URL has timeout={raw!r}: it must be a whole number of seconds.") from None
    if value < 1:
        raise ImproperlyConfigured(f"EMAIL_URL has timeout={value}: it must be at least 1 second.")
    return value
