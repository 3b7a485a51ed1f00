"""Writes to coalitions, members, memberships, users' roles and API keys."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coalition import permissions
from coalition.api.authentication import KEY_PREFIX_LENGTH, generate_key, hash_key
from coalition.models import APIKey, Coalition, Member, Membership, Profile


@transaction.atomic
def coalition_create(*, acting_user, name, slug, description="", target_eur=None):
    """Create a coalition (superusers and the system only)."""
    permissions.ensure(permissions.actor(acting_user).is_superuser, _("Only an administrator may create coalitions."))
    coalition = Coalition(name=name, slug=slug, description=description, target_eur=target_eur)
    coalition.full_clean()
    coalition.save()
    return coalition


@transaction.atomic
def coalition_update(*, acting_user, coalition, **changes):
    """Change a coalition's name, description or target (administrators and its secretariat)."""
    unknown = set(changes) - {"name", "description", "target_eur"}
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})
    permissions.ensure_can_manage(acting_user, coalition)
    coalition = Coalition.objects.select_for_update().get(pk=coalition.pk)
    changed = {field for field, value in changes.items() if getattr(coalition, field) != value}
    for field in changed:
        setattr(coalition, field, changes[field])
    if changed:
        coalition.full_clean()
        coalition.save(update_fields=[*changed, "updated_at"])
    return coalition


@transaction.atomic
def member_create(*, acting_user, code, name, kind=Member.Kind.COUNTRY):
    """Register a country or organisation (any secretariat user may, as members are shared)."""
    a = permissions.actor(acting_user)
    permissions.ensure(a.has(permissions.SECRETARIAT), _("Only the secretariat may register members."))
    member = Member(code=(code or "").strip().upper(), name=name, kind=kind)
    member.full_clean()
    member.save()
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
    return membership


@transaction.atomic
def member_update(*, acting_user, member, name=None, kind=None):
    """Rename a member or correct its kind (its code is referenced everywhere and stays)."""
    permissions.ensure(
        permissions.actor(acting_user).has(permissions.SECRETARIAT), _("Only the secretariat may do this.")
    )
    member = Member.objects.select_for_update().get(pk=member.pk)
    member.name = member.name if name is None else name
    member.kind = member.kind if kind is None else kind
    member.full_clean()
    member.save(update_fields=["name", "kind"])
    return member


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


@transaction.atomic
def role_grant(*, username, role, member=None, coalitions=(), password=None, email=None):
    """Create the user if missing and give them ``role``, their member and coalitions.

    Returns ``(user, created)``. Used by the grant_role command and the test personas.
    """
    if role not in permissions.ROLES:
        raise ValidationError(
            {
                "role": _("Unknown role %(role)s: use one of %(roles)s.")
                % {"role": role, "roles": ", ".join(permissions.ROLES)}
            }
        )
    if role == permissions.MEMBER_EDITOR and member is None:
        raise ValidationError({"member": _("A member editor needs a member (--member CODE).")})
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"email": email or ""})
    if password:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    if email:
        user.email = email
    user.save()
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    profile, _created = Profile.objects.get_or_create(user=user)
    if member is not None:
        profile.member = member
        profile.save(update_fields=["member"])
    if coalitions:
        profile.coalitions.add(*coalitions)
    permissions.forget(user)
    return user, created


@transaction.atomic
def api_key_create(*, owner, name="default"):
    """Issue an API key for ``owner``; returns ``(api_key, raw_key)``. The raw key is never stored."""
    raw = generate_key()
    api_key = APIKey.objects.create(owner=owner, name=name, prefix=raw[:KEY_PREFIX_LENGTH], digest=hash_key(raw))
    return api_key, raw


@transaction.atomic
def api_key_revoke(*, acting_user, api_key):
    """Revoke a key: its owner or an administrator may."""
    a = permissions.actor(acting_user)
    permissions.ensure(a.is_superuser or api_key.owner_id == getattr(acting_user, "pk", None))
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key
