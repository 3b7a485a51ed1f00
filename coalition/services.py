"""Writes to coalitions, members, memberships, seats (people's roles) and API keys."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coalition import changes, permissions, security, stamps
from coalition.api.authentication import KEY_PREFIX_LENGTH, generate_key, hash_key
from coalition.concurrency import lock_current
from coalition.models import APIKey, Coalition, Member, Membership, Profile, Seat, SecurityEvent
from coalition.signals import seat_changed


def _unknown_fields(changes, allowed):
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})


@transaction.atomic
def coalition_create(*, acting_user, name, slug, description="", target_eur=None):
    """Create a coalition (superusers and the system only)."""
    permissions.ensure(permissions.actor(acting_user).is_superuser, _("Only an administrator may create coalitions."))
    coalition = Coalition(name=name, slug=slug, description=description, target_eur=target_eur)
    coalition.full_clean()
    coalition.save()
    return coalition


@transaction.atomic
def coalition_update(*, acting_user, coalition, version=None, **changes):
    """Change a coalition's name, description, target or whether its public page is on
    (administrators and its secretariat). ``version`` is the one the client read: a stale one is
    refused (None skips the check: the admin and the system)."""
    _unknown_fields(changes, Coalition.editable_fields)
    permissions.ensure_can_manage(acting_user, coalition)
    coalition = lock_current(coalition, version)
    changed = {field for field, value in changes.items() if getattr(coalition, field) != value}
    for field in changed:
        setattr(coalition, field, changes[field])
    if changed:
        coalition.version += 1
        coalition.full_clean()
        coalition.save(update_fields=[*changed, "version", "updated_at"])
        stamps.bump([coalition.pk])
    return coalition


def _code(code):
    return (code or "").strip().upper()


@transaction.atomic
def member_create(*, acting_user, code, name, kind=Member.Kind.COUNTRY, iati_identifier=""):
    """Register a country or organisation not yet seated anywhere (administrators and the system; a
    coalition's secretariat registers members into their coalition with member_register)."""
    permissions.ensure(
        permissions.actor(acting_user).is_superuser,
        _("Only an administrator may register members outside a coalition."),
    )
    member = Member(code=_code(code), name=name, kind=kind, iati_identifier=(iati_identifier or "").strip())
    member.full_clean()
    member.save()
    return member


@transaction.atomic
def member_register(
    *, acting_user, coalition, code, name, kind=Member.Kind.COUNTRY, role=None, since=None, iati_identifier=""
):
    """Seat a country or organisation in ``coalition`` (its secretariat), registering it if new.

    Members are shared by the coalitions they sit in. A code already registered is attached when it
    names the same member: one the user already sees in another of their coalitions, a country (its
    ISO code is its identity), or an organisation of that kind and name. Otherwise the code is
    refused without saying whose it is: a member of coalitions the user does not serve stays unseen.
    """
    permissions.ensure_can_manage(acting_user, coalition)
    role = role or Membership.Role.MEMBER
    code = _code(code)
    existing = Member.objects.filter(code=code).first()
    if existing is None:
        member = Member(code=code, name=name, kind=kind, iati_identifier=(iati_identifier or "").strip())
        member.full_clean()
        member.save()
    elif Membership.objects.filter(member=existing, coalition=coalition).exists():
        raise ValidationError({"code": _("%(code)s is already a member of this coalition.") % {"code": code}})
    elif _same_member(acting_user, existing, name=name, kind=kind):
        member = existing
    else:
        raise ValidationError({"code": _("This code is used by another member: choose another code.")})
    membership_set(acting_user=acting_user, coalition=coalition, member=member, role=role, since=since)
    return member


def _same_member(user, member, *, name, kind):
    if permissions.can_view(user, member):
        return True
    if kind != member.kind:
        return False
    return kind == Member.Kind.COUNTRY or (name or "").strip().casefold() == member.name.casefold()


@transaction.atomic
def member_update(*, acting_user, member, **changes):
    """Rename a member or correct its kind (its code is referenced everywhere and stays): superusers,
    or a secretariat serving every coalition the member sits in."""
    _unknown_fields(changes, Member.editable_fields)
    member = Member.objects.select_for_update().get(pk=member.pk)
    coalition_ids = member.memberships.values_list("coalition_id", flat=True)
    permissions.ensure(
        permissions.can_edit_member(acting_user, coalition_ids),
        _("%(member)s also sits in coalitions you do not serve: ask their secretariat or an administrator.")
        % {"member": member},
    )
    changed = {field for field, value in changes.items() if value is not None and getattr(member, field) != value}
    for field in changed:
        setattr(member, field, changes[field])
    if changed:
        member.full_clean()
        member.save(update_fields=sorted(changed))
        stamps.bump(coalition_ids)
    return member


@transaction.atomic
def membership_set(*, acting_user, coalition, member, role=Membership.Role.MEMBER, since=None):
    """Seat a member in a coalition, or change its role there."""
    permissions.ensure_can_manage(acting_user, coalition)
    membership = Membership.objects.select_for_update().filter(coalition=coalition, member=member).first()
    if membership is None:
        membership = Membership(coalition=coalition, member=member, role=role, since=since)
        membership.full_clean()
        membership.save()
    elif (membership.role, membership.since) != (role, since or membership.since):
        membership.role, membership.since = role, since or membership.since
        membership.full_clean()
        membership.save(update_fields=["role", "since"])
    else:
        return membership
    stamps.bump([coalition.pk])
    return membership


@transaction.atomic
def membership_remove(*, acting_user, membership):
    """Take a member's seat away; refused while it has pledges in the coalition (they must stay)."""
    permissions.ensure_can_manage(acting_user, membership.coalition_id)
    if membership.member.pledges.filter(coalition_id=membership.coalition_id).exists():
        raise ValidationError(
            _("%(member)s has pledges in this coalition: its membership cannot be removed.")
            % {"member": membership.member}
        )
    membership.delete()
    stamps.bump([membership.coalition_id])


# --- People ----------------------------------------------------------------------------------------


def _ensure_administrator(acting_user):
    permissions.ensure(
        permissions.actor(acting_user).is_superuser, _("Only an administrator may give people their seats.")
    )


@transaction.atomic
def seat_set(*, acting_user, user, coalition, role, member=None):
    """Give ``user`` ``role`` in ``coalition`` (replacing the role they had there); returns
    ``(seat, previous_role)``. A member editor's seat names the member they speak for, which must sit
    in the coalition."""
    _ensure_administrator(acting_user)
    if role not in permissions.ROLES:
        raise ValidationError(
            {
                "role": _("Unknown role %(role)s: use one of %(roles)s.")
                % {"role": role, "roles": ", ".join(permissions.ROLES)}
            }
        )
    if role == permissions.MEMBER_EDITOR:
        if member is None:
            raise ValidationError({"member": _("A member editor needs the member they speak for.")})
        if not Membership.objects.filter(coalition=coalition, member=member).exists():
            raise ValidationError(
                {
                    "member": _("%(member)s is not a member of %(coalition)s.")
                    % {"member": member, "coalition": coalition}
                }
            )
    else:
        member = None
    changes.lock_for_seat_change(coalition.pk)
    seat = Seat.objects.select_for_update().filter(user=user, coalition=coalition).first()
    previous = seat.role if seat else None
    if seat is None:
        seat = Seat(user=user, coalition=coalition)
    elif (seat.role, seat.member_id) == (role, getattr(member, "pk", None)):
        return seat, previous
    seat.role, seat.member = role, member
    seat._history_user = acting_user
    seat.full_clean()
    seat.save()
    permissions.forget(user)
    seat_changed.send(
        sender=Seat, seat=seat, user=user, coalition=coalition, previous_role=previous, acting_user=acting_user
    )
    return seat, previous


@transaction.atomic
def seat_remove(*, acting_user, user, coalition):
    """Take away ``user``'s seat in ``coalition``; returns the role they had there (None: no seat)."""
    _ensure_administrator(acting_user)
    changes.lock_for_seat_change(coalition.pk)
    seat = Seat.objects.select_for_update().filter(user=user, coalition=coalition).first()
    if seat is None:
        return None
    previous = seat.role
    seat._history_user = acting_user
    seat.delete()
    permissions.forget(user)
    seat_changed.send(
        sender=Seat, seat=None, user=user, coalition=coalition, previous_role=previous, acting_user=acting_user
    )
    return previous


@transaction.atomic
def role_grant(*, username, role, coalitions, member=None, password=None, email=None, acting_user=None):
    """Create the user if missing and give them ``role`` in each of ``coalitions`` (a seat each).

    Returns ``(user, created, changes)`` with ``changes`` a list of ``(coalition, previous_role)``.
    A password is checked by the portal's password validators. Used by the grant_role command and the
    test personas.
    """
    if not coalitions:
        raise ValidationError({"coalition": _("A role is held in a coalition: name at least one.")})
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"email": email or ""})
    if password:
        validate_password(password, user)
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    if email:
        user.email = email
    user.save()
    Profile.objects.get_or_create(user=user)
    changes = []
    for coalition in coalitions:
        _seat, previous = seat_set(acting_user=acting_user, user=user, coalition=coalition, role=role, member=member)
        changes.append((coalition, previous))
    return user, created, changes


@transaction.atomic
def api_key_create(*, owner, name="default", acting_user=None):
    """Issue an API key for ``owner``; returns ``(api_key, raw_key)``. The raw key is never stored."""
    raw = generate_key()
    api_key = APIKey.objects.create(owner=owner, name=name, prefix=raw[:KEY_PREFIX_LENGTH], digest=hash_key(raw))
    security_event_record(
        kind=SecurityEvent.Kind.API_KEY_CREATED, user=owner, acting_user=acting_user, key=api_key.prefix, name=name
    )
    return api_key, raw


@transaction.atomic
def api_key_revoke(*, acting_user, api_key):
    """Revoke a key: its owner or an administrator may."""
    a = permissions.actor(acting_user)
    permissions.ensure(a.is_superuser or api_key.owner_id == getattr(acting_user, "pk", None))
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        security_event_record(
            kind=SecurityEvent.Kind.API_KEY_REVOKED, user=api_key.owner, acting_user=acting_user, key=api_key.prefix
        )
    return api_key


# --- The security log ---------------------------------------------------------------------------


def security_event_record(*, kind, user=None, username="", acting_user=None, request=None, **detail):
    """Write one security event: who (``user``, or the name given), done by whom, when, from where
    (the request's client address, or the current request's)."""
    request = request if request is not None else security.current_request.get()
    if user is not None and not getattr(user, "pk", None):
        user = None
    actor = acting_user if getattr(acting_user, "pk", None) else None
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        username=(username or getattr(user, "username", "") or "")[:150],
        actor=actor,
        ip_address=security.client_address(request),
        user_agent=security.user_agent(request),
        detail={key: str(value) for key, value in detail.items() if value is not None},
    )


def security_log_purge(*, now=None):
    """Delete the events older than SECURITY_LOG_RETENTION_DAYS; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.SECURITY_LOG_RETENTION_DAYS)
    deleted, _counts = SecurityEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def signin_unlock(*, acting_user, user):
    """Lift the failed-attempt limit on ``user``'s account (the secretariat's unlock), and log it."""
    from allauth.core.internal import ratelimit

    a = permissions.actor(acting_user)
    permissions.ensure(
        a.is_system or a.is_superuser or permissions.can_manage_any_coalition(acting_user),
        _("Only the secretariat and administrators unlock sign-ins."),
    )
    # allauth's own clear() needs a request for its per-address part; only the account's is lifted.
    key = signin_limit_key(user.get_username())
    where = {"app": "allauth.account", "action": "login_failed"}
    for rate in ratelimit.get_rates(**where):
        if rate.per == "key":
            cache.delete(ratelimit.get_cache_key(None, **where, rate=rate, key=key))
    security_event_record(kind=SecurityEvent.Kind.UNLOCKED, user=user, acting_user=acting_user)


def signin_limit_key(username):
    """The failed-attempt limit's key for an account: its user name, whatever host it was asked on."""
    return f"signin:{username.strip().lower()}"
