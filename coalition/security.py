"""The security log's plumbing: where a request came from, and the request being served (so a service
called from a view, the admin or a command records from where, without every caller passing it)."""

from contextvars import ContextVar

#: The request being served in this thread or task, set by config.signin.RequestContextMiddleware.
current_request = ContextVar("current_request", default=None)


def client_address(request):
    """The client's IP address: REMOTE_ADDR, or behind a configured proxy (BEHIND_PROXY) the address it
    appended to X-Forwarded-For; never a header a client could set itself. django-allauth's rule,
    so its failed-attempt limits and the log count the same address."""
    if request is None:
        return None
    from allauth.account.adapter import get_adapter

    try:
        return get_adapter().get_client_ip(request)
    except Exception:  # noqa: BLE001 - a malformed forwarded header names no address
        return None


def user_agent(request):
    if request is None:
        return ""
    return request.META.get("HTTP_USER_AGENT", "")[:300]
