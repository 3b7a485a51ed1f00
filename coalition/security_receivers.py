"""The security log's writers: Django's sign-in signals, django-allauth's second-factor and password
signals, and the seat services' ``seat_changed``. API keys are logged by their services."""

from allauth.account.signals import password_changed, password_reset, password_set
from allauth.mfa.signals import authentication_failed, authenticator_added, authenticator_removed, authenticator_reset
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from coalition.models import SecurityEvent
from coalition.services import security_event_record
from coalition.signals import seat_changed

K = SecurityEvent.Kind


@receiver(user_logged_in, dispatch_uid="security_log_signin")
def _signed_in(sender, request, user, **kwargs):
    security_event_record(kind=K.SIGNIN, user=user, request=request)


@receiver(user_logged_out, dispatch_uid="security_log_signout")
def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        security_event_record(kind=K.SIGNOUT, user=user, request=request)


@receiver(user_login_failed, dispatch_uid="security_log_signin_failed")
def _signin_failed(sender, credentials, request=None, **kwargs):
    # Django hands over the credentials with the password already masked; only the name is kept.
    username = credentials.get("username") or credentials.get("login") or credentials.get("email") or ""
    security_event_record(kind=K.SIGNIN_FAILED, username=str(username), request=request)


@receiver(authentication_failed, dispatch_uid="security_log_mfa_failed")
def _mfa_failed(sender, request, user, authenticator=None, **kwargs):
    security_event_record(kind=K.MFA_FAILED, user=user, request=request, type=getattr(authenticator, "type", None))


def _authenticator_event(kind):
    def handler(sender, request, user, authenticator, **kwargs):
        security_event_record(kind=kind, user=user, acting_user=user, request=request, type=authenticator.type)

    return handler


_added = _authenticator_event(K.MFA_ADDED)
_removed = _authenticator_event(K.MFA_REMOVED)
_reset = _authenticator_event(K.MFA_RESET)
authenticator_added.connect(_added, dispatch_uid="security_log_mfa_added")
authenticator_removed.connect(_removed, dispatch_uid="security_log_mfa_removed")
authenticator_reset.connect(_reset, dispatch_uid="security_log_mfa_reset")


def _password_event(sender, request, user, **kwargs):
    security_event_record(kind=K.PASSWORD_CHANGED, user=user, request=request)


for _signal, _uid in ((password_changed, "changed"), (password_set, "set"), (password_reset, "reset")):
    _signal.connect(_password_event, dispatch_uid=f"security_log_password_{_uid}")


@receiver(seat_changed, dispatch_uid="security_log_seat_changed")
def _seat_changed(sender, seat, user, coalition, previous_role, acting_user=None, **kwargs):
    security_event_record(
        kind=K.SEAT_CHANGED,
        user=user,
        acting_user=acting_user,
        coalition=coalition.slug,
        before=previous_role or "-",
        after=seat.role if seat is not None else "-",
    )
