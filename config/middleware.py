"""Sign-in required for every page, decided in one place."""

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware

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
