"""Sign-in required for every page, decided in one place; no NUL character in a page's address; and
the request id of every request (coalition.requestid)."""

import logging
import time

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.http import HttpResponseBadRequest
from django.utils.translation import gettext as _

from coalition import requestid

request_logger = logging.getLogger("config.requests")

#: Paths with their own answer for anonymous clients: the API authenticates by key (or session) and
#: answers 401 JSON, never a login redirect; the health check is for load balancers and monitors.
EXEMPT_PREFIXES = ("/api/", "/health/")


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware (views opt out with @login_not_required), plus URL prefixes
    that are exempt whatever view serves them."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(EXEMPT_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class RefuseNulCharactersMiddleware:
    """A NUL character is in no value the portal takes, and PostgreSQL refuses it in a query: a page
    asked with one in its query string is a 400, never a 500 (the API answers its own JSON 400)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(EXEMPT_PREFIXES) and _has_nul(request.GET):
            return HttpResponseBadRequest(_("Null characters are not allowed in the address."))
        return self.get_response(request)


def _has_nul(query):
    return any("\x00" in name or any("\x00" in value for value in values) for name, values in query.lists())


class RequestIdMiddleware:
    """Makes the request's id current (X-Request-ID when sane, else a new one) for its log lines and
    the tasks it queues, echoes it in the response, and with LOG_REQUESTS logs one line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = requestid.from_header(request.headers.get("X-Request-ID"))
        token = requestid.current.set(request.request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.request_id
            if settings.LOG_REQUESTS:
                request_logger.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    },
                )
            return response
        finally:
            requestid.current.reset(token)
