"""The portal's answer when something it depends on is out of reach: a full PostgreSQL (too many
connections), a database restarting, a pooler or Redis down. That is not the request's fault nor a
bug: 503 with Retry-After, JSON on the API and a page elsewhere, instead of the HTML 500 a client
could only give up on. Rendered without the database (no session, no user: it is what failed).
"""

import sys

from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from coalition.errors import CONNECTION_ERRORS

#: Seconds a client is asked to wait before trying again.
RETRY_AFTER = 5
UNAVAILABLE = (*CONNECTION_ERRORS, RedisConnectionError, RedisTimeoutError)


def unavailable(request):
    """503: the portal is up but cannot reach its database or broker right now."""
    message = _("The portal cannot reach its database right now. Try again in a few seconds.")
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(loader.get_template("503.html").render({"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    return response


@requires_csrf_token
def server_error(request, template_name="500.html"):
    """handler500: a 503 when the error is an unreachable database or broker, Django's 500 otherwise."""
    if isinstance(sys.exc_info()[1], UNAVAILABLE):
        return unavailable(request)
    return HttpResponseServerError(loader.get_template(template_name).render())
