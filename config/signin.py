"""Signing in, the portal's side of django-allauth: no sign-up (seats are given with grant_role or in
the admin), failed-attempt limits per account whatever host name was used, the second factor required
of the secretariat and staff, and sessions that end when idle and after a fixed lifetime."""

import time

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from coalition import permissions, security
from coalition.models import SecurityEvent
from coalition.services import security_event_record, signin_limit_key


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return False

    def _get_login_attempts_cache_key(self, request, **credentials):
        # allauth keys the limit by host name too: asking on another allowed host would get new tries.
        return signin_limit_key(credentials.get("username", credentials.get("email", "")) or "")

    def pre_authenticate(self, request, **credentials):
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            security_event_record(
                kind=SecurityEvent.Kind.LOCKED_OUT, username=str(credentials.get("username", "")), request=request
            )
            raise


def must_enrol(user):
    """Whether ``user`` must have a second factor before using the portal (MFA_REQUIRED_FOR_PRIVILEGED):
    staff, and anyone with a secretariat seat in any coalition."""
    if not settings.MFA_REQUIRED_FOR_PRIVILEGED or not user.is_authenticated:
        return False
    return bool(user.is_staff or user.is_superuser or permissions.can_manage_any_coalition(user))


#: What a person who must enrol may still open: the second factor's pages, signing out, the language
#: switch, static files, and the health check.
ENROLMENT_PATHS = ("/accounts/", "/i18n/", "/static/", "/health/")
_ENROLLED = "_portal_mfa_enrolled"


class SecondFactorRequiredMiddleware:
    """Sends a person who must enrol (``must_enrol``) and has no authenticator to the second factor's
    page; the API answers such a session 403. API keys are not sessions and are unaffected."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not request.path_info.startswith(ENROLMENT_PATHS)
            and not request.session.get(_ENROLLED)
            and must_enrol(user)
        ):
            if is_mfa_enabled(user):
                request.session[_ENROLLED] = True
            elif request.path_info.startswith("/api/"):
                return JsonResponse({"detail": _("Set up a second factor before using the portal.")}, status=403)
            else:
                return redirect("mfa_index")
        return self.get_response(request)


@receiver(user_logged_in, dispatch_uid="portal_session_start")
def _session_start(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session["_portal_signed_in_at"] = now
        request.session["_portal_seen_at"] = now


class SessionLifetimeMiddleware:
    """Ends a session SESSION_IDLE_MINUTES after its last request and SESSION_MAX_HOURS after sign-in.
    The last request is written at most once a minute, so reading pages does not write sessions. Also
    makes the request known to the security log (coalition.security.current_request)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = security.current_request.set(request)
        try:
            if request.user.is_authenticated:
                expired = self._check(request)
                if expired:
                    logout(request)
            return self.get_response(request)
        finally:
            security.current_request.reset(token)

    def _check(self, request):
        session = request.session
        now = int(time.time())
        signed_in = session.get("_portal_signed_in_at")
        seen = session.get("_portal_seen_at")
        if signed_in is None or seen is None:
            session["_portal_signed_in_at"] = signed_in = signed_in or now
            session["_portal_seen_at"] = seen = now
        if now - seen > settings.SESSION_IDLE_MINUTES * 60 or now - signed_in > settings.SESSION_MAX_HOURS * 3600:
            return True
        if now - seen > 60:
            session["_portal_seen_at"] = now
        return False


def download_recovery_codes_once(request, *args, **kwargs):
    """django-allauth's download of the recovery codes, once per set: a second download of the same
    codes is refused (generating new ones gives a new set, downloadable once again)."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.recovery_codes.views import download_recovery_codes

    authenticator = None
    if request.user.is_authenticated:
        authenticator = Authenticator.objects.filter(
            user_id=request.user.pk, type=Authenticator.Type.RECOVERY_CODES
        ).first()
    if authenticator is not None and authenticator.data.get("portal_downloaded"):
        messages.error(
            request, _("These recovery codes were downloaded once already: generate new ones to download them.")
        )
        return redirect("mfa_generate_recovery_codes")
    response = download_recovery_codes(request, *args, **kwargs)
    if authenticator is not None and response.status_code == 200:
        authenticator.data["portal_downloaded"] = True
        authenticator.save(update_fields=["data"])
    return response
