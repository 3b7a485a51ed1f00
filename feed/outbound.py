"""Sending a webhook: only to public addresses (or those ``WEBHOOKS_ALLOWED_NETWORKS`` lists), to the
address that was checked, without following redirects, within ``WEBHOOKS_TIMEOUT``.

The host is resolved once and every address it resolves to is checked; the request then connects to
a checked address (with the host name kept for TLS and the ``Host`` header), so a name that resolves
differently a moment later (DNS rebinding) cannot point the request somewhere private.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.utils.translation import gettext as _

#: What a receiver's answer is read up to (the ledger keeps the code and the start of an error).
MAX_ANSWER = 4096


class Refused(ValueError):
    """The URL may not receive webhooks; the message says why."""


def _allowed(address):
    if any(address in network for network in settings.WEBHOOKS_ALLOWED_NETWORKS):
        return True
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return _allowed(mapped)
    return address.is_global and not address.is_multicast


def check(url):
    """``(scheme, host, port, path, addresses)`` of a URL that may receive webhooks, or ``Refused``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(_("Give an http:// or https:// address."))
    if parts.username or parts.password:
        raise Refused(_("Put no user name or password in the address."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise Refused(_("The port of this address is not a number from 1 to 65535.")) from exc
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(_("The host name %(host)s does not resolve.") % {"host": parts.hostname}) from exc
    addresses = sorted({info[4][0].split("%", 1)[0] for info in infos})
    for text in addresses:
        if not _allowed(ipaddress.ip_address(text)):
            raise Refused(
                _(
                    "%(host)s resolves to %(address)s, a private, loopback or link-local address: webhooks go "
                    "only to public addresses."
                )
                % {"host": parts.hostname, "address": text}
            )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, path, addresses


def post(url, body, headers):
    """POST ``body`` to ``url``; returns ``(status_code or None, error text)``. Never raises for the
    receiver's sake: a refusal, a timeout, a refused connection or a redirect is an error."""
    try:
        scheme, host, port, path, addresses = check(url)
    except Refused as exc:
        return None, str(exc)
    timeout = urllib3.Timeout(connect=settings.WEBHOOKS_TIMEOUT, read=settings.WEBHOOKS_TIMEOUT)
    options = {"timeout": timeout, "retries": False, "maxsize": 1}
    if scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            addresses[0], port, server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED", **options
        )
    else:
        pool = urllib3.HTTPConnectionPool(addresses[0], port, **options)
    default_port = 443 if scheme == "https" else 80
    headers = {**headers, "Host": host if port == default_port else f"{host}:{port}"}
    try:
        response = pool.urlopen(
            "POST", path, body=body, headers=headers, redirect=False, retries=False, preload_content=False
        )
        answer = response.read(MAX_ANSWER, decode_content=False)
        response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:1000]
    finally:
        pool.close()
    if 200 <= response.status < 300:
        return response.status, ""
    if 300 <= response.status < 400:
        return response.status, _("Redirects are not followed (to %(location)s).") % {
            "location": response.headers.get("Location", "?")
        }
    return response.status, answer.decode("utf-8", "replace")[:1000]
