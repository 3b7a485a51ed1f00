"""Who may do what: every permission decision of the portal is made here.

Roles are Django groups (ROLES); a user's member and coalitions come from their profile.
Services call the ``ensure_*`` functions with the acting user; views and the API fetch records
through the ``*_for_view`` / ``*_for_edit`` helpers and list through the ``visible_*`` querysets,
so no surface reaches a record it may not see. ``acting_user=None`` is the system itself
(management commands, the demo loader): it may do everything.
"""

from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

SECRETARIAT = "secretariat"
MEMBER_EDITOR = "member-editor"
STEERING = "steering"
PARTNER = "partner"
ROLES = (SECRETARIAT, MEMBER_EDITOR, STEERING, PARTNER)


class Actor:
    """A user's roles, member and coalitions, read once per request and cached on the user."""

    def __init__(self, user):
        self.user = user

    @property
    def is_system(self):
        return self.user is None

    @property
    def is_authenticated(self):
        return self.user is None or bool(self.user.is_authenticated)

    @property
    def is_superuser(self):
        return self.user is None or (self.user.is_authenticated and self.user.is_superuser)

    @cached_property
    def roles(self):
        if self.user is None or not self.user.is_authenticated:
            return frozenset()
        return frozenset(name for name in self.user.groups.values_list("name", flat=True) if name in ROLES)

    @cached_property
    def _profile(self):
        if self.user is None or not self.user.is_authenticated:
            return None
        from coalition.models import Profile

        return Profile.objects.filter(user=self.user).first()

    @cached_property
    def member_id(self):
        return self._profile.member_id if self._profile else None

    @cached_property
    def coalition_ids(self):
        if self._profile is None:
            return frozenset()
        return frozenset(self._profile.coalitions.values_list("pk", flat=True))

    def has(self, role):
        return self.is_superuser or role in self.roles

    def serves(self, coalition_id):
        """Whether the user works in this coalition (superusers and the system work in all)."""
        return self.is_superuser or coalition_id in self.coalition_ids

    def has_in(self, role, coalition_id):
        return self.is_superuser or (role in self.roles and coalition_id in self.coalition_ids)


def actor(user):
    """The Actor for ``user``, cached on the user object for the rest of the request."""
    if user is None:
        return Actor(None)
    cached = getattr(user, "_coalition_actor", None)
    if cached is None:
        cached = Actor(user)
        user._coalition_actor = cached
    return cached


def forget(user):
    """Drop the cached Actor after the user's groups or profile changed."""
    if user is not None and hasattr(user, "_coalition_actor"):
        del user._coalition_actor


def _coalition_id(obj):
    return obj if isinstance(obj, int) else obj.pk


# --- Questions -----------------------------------------------------------------------------------


def can_read_coalition(user, coalition):
    a = actor(user)
    return a.is_superuser or (bool(a.roles) and a.serves(_coalition_id(coalition)))


def can_read_internal(user, coalition):
    """Drafts aside, the internal record: history, delegates, meeting minutes in draft."""
    a = actor(user)
    cid = _coalition_id(coalition)
    return a.is_superuser or any(a.has_in(role, cid) for role in (SECRETARIAT, MEMBER_EDITOR, STEERING))


def can_manage_coalition(user, coalition):
    """Members, meetings, priorities, allocations and every pledge: the secretariat's work."""
    return actor(user).has_in(SECRETARIAT, _coalition_id(coalition))


def can_write_pledge_for(user, coalition, member):
    """Create a pledge (or a disbursement) for ``member`` in ``coalition``."""
    a = actor(user)
    cid = _coalition_id(coalition)
    if a.has_in(SECRETARIAT, cid):
        return True
    member_id = member if isinstance(member, int) else member.pk
    return a.has_in(MEMBER_EDITOR, cid) and a.member_id is not None and a.member_id == member_id


def can_edit_pledge(user, pledge):
    return can_write_pledge_for(user, pledge.coalition_id, pledge.member_id)


def can_see_pledge(user, pledge):
    if not can_read_coalition(user, pledge.coalition_id):
        return False
    if pledge.status != "draft":
        return True
    return can_edit_pledge(user, pledge)


def can_see_delegates(user, coalition):
    return can_read_internal(user, coalition)


def can_export(user, coalition):
    return can_read_coalition(user, coalition)


def can_see_minutes(user, meeting):
    """Approved minutes are published; draft minutes stay internal."""
    return meeting.minutes_status == "approved" or can_read_internal(user, meeting.coalition_id)


def can_use_api(user):
    """Whether the REST API has anything for this user: a role in some coalition (partners read it)."""
    return can_read_any_coalition(user)


#: What a write through each part of the REST API needs before the service decides on the record.
API_WRITE_SCOPES = ("pledges", "manage", "admin")


def can_write_api(user, scope):
    """Whether the user may write somewhere in ``scope`` of the API: ``pledges`` (pledges and
    disbursements: the secretariat and member editors), ``manage`` (the secretariat's records) or
    ``admin`` (administrators). The service still decides on the record itself."""
    if scope == "pledges":
        return can_record_any_pledge(user)
    if scope == "manage":
        return can_manage_any_coalition(user)
    if scope == "admin":
        return actor(user).is_superuser
    raise ValueError(f"Unknown API write scope {scope!r}: use one of {API_WRITE_SCOPES}.")


#: The report emails (reports.models.Subscription.Report values) only the secretariat receives.
SECRETARIAT_REPORTS = frozenset({"notice"})


def can_receive_report(user, coalition, report):
    """Digest and meeting summary go to the coalition's internal readers (they show what partners may
    not see); the confirmation notice goes to its secretariat."""
    if report in SECRETARIAT_REPORTS:
        return can_manage_coalition(user, coalition)
    return can_read_internal(user, coalition)


def can_view_deliveries(user):
    """The delivery log (who was sent which report, and what failed) is the secretariat's."""
    return can_manage_any_coalition(user)


def can_read_any_coalition(user):
    """Whether the portal's coalition pages have anything for this user (a role in some coalition)."""
    a = actor(user)
    return a.is_superuser or (bool(a.roles) and bool(a.coalition_ids))


def can_manage_any_coalition(user):
    """Whether the user is the secretariat of at least one coalition (shows the "new" forms)."""
    a = actor(user)
    return a.is_superuser or (SECRETARIAT in a.roles and bool(a.coalition_ids))


def can_record_any_pledge(user):
    """Whether the user may record pledges somewhere: the secretariat, or an editor with a member."""
    a = actor(user)
    if a.is_superuser:
        return True
    editor = MEMBER_EDITOR in a.roles and a.member_id is not None
    return bool(a.coalition_ids) and (SECRETARIAT in a.roles or editor)


def can_record_pledges_in(user, coalition):
    """Whether the user may record pledges (for some member) in ``coalition``: imports, the pledge form."""
    a = actor(user)
    cid = _coalition_id(coalition)
    return a.has_in(SECRETARIAT, cid) or (a.has_in(MEMBER_EDITOR, cid) and a.member_id is not None)


def fixed_pledge_member_id(user):
    """The member a member editor's pledges are always for (None when the user may choose)."""
    a = actor(user)
    if a.is_superuser or SECRETARIAT in a.roles:
        return None
    return a.member_id if MEMBER_EDITOR in a.roles else None


# --- Enforcement (services) ----------------------------------------------------------------------


def ensure(allowed, message=None):
    if not allowed:
        raise PermissionDenied(message or _("You are not allowed to do this."))


def ensure_can_write_pledge_for(user, coalition, member):
    # The message is built only on refusal: imports ask this once per row.
    if not can_write_pledge_for(user, coalition, member):
        raise PermissionDenied(_("You may only record pledges of your own member in the coalitions you serve."))


def ensure_can_edit_pledge(user, pledge):
    ensure(can_edit_pledge(user, pledge), _("You may only change pledges of your own member."))


def ensure_can_manage(user, coalition):
    ensure(can_manage_coalition(user, coalition), _("Only the coalition's secretariat may do this."))


# --- Scoped querysets ----------------------------------------------------------------------------


def _scope_by_coalition(user, queryset, field):
    a = actor(user)
    if a.is_superuser:
        return queryset
    if not a.roles or not a.coalition_ids:
        return queryset.none()
    return queryset.filter(**{f"{field}__in": a.coalition_ids})


def visible_coalitions(user, queryset=None):
    from coalition.models import Coalition

    queryset = Coalition.objects.all() if queryset is None else queryset
    return _scope_by_coalition(user, queryset, "pk")


def visible_members(user, queryset=None):
    from coalition.models import Member

    queryset = Member.objects.all() if queryset is None else queryset
    a = actor(user)
    if a.is_superuser:
        return queryset
    if not a.roles:
        return queryset.none()
    return queryset.filter(memberships__coalition__in=a.coalition_ids).distinct()


def visible_pledges(user, queryset=None):
    """Pledges of the user's coalitions; drafts only to the secretariat and their member's editors."""
    from django.db.models import Q

    from contributions.models import Pledge

    queryset = Pledge.objects.all() if queryset is None else queryset
    a = actor(user)
    if a.is_superuser:
        return queryset
    queryset = _scope_by_coalition(user, queryset, "coalition")
    drafts_allowed = Q(status__in=[s for s in Pledge.Status.values if s != Pledge.Status.DRAFT])
    if SECRETARIAT in a.roles:
        drafts_allowed |= Q(coalition__in=a.coalition_ids)
    elif MEMBER_EDITOR in a.roles and a.member_id is not None:
        drafts_allowed |= Q(member_id=a.member_id)
    return queryset.filter(drafts_allowed)


def visible_by_coalition(user, queryset, field="coalition"):
    """Any coalition-owned queryset (meetings, priorities, ...) scoped to the user's coalitions."""
    return _scope_by_coalition(user, queryset, field)


def managed_coalitions(user, queryset=None):
    """The coalitions whose secretariat the user is (choices of the secretariat's forms)."""
    from coalition.models import Coalition

    queryset = Coalition.objects.all() if queryset is None else queryset
    a = actor(user)
    if a.is_superuser:
        return queryset
    if SECRETARIAT not in a.roles:
        return queryset.none()
    return queryset.filter(pk__in=a.coalition_ids)


def pledge_coalitions(user, queryset=None):
    """The coalitions where the user may record pledges (the choices of the pledge forms)."""
    from coalition.models import Coalition

    queryset = Coalition.objects.all() if queryset is None else queryset
    if not can_record_any_pledge(user):
        return queryset.none()
    return _scope_by_coalition(user, queryset, "pk")


def pledge_members(user, queryset=None):
    """The members the user may record pledges for: their own as an editor, the coalitions' as secretariat."""
    from coalition.models import Member

    queryset = Member.objects.all() if queryset is None else queryset
    if not can_record_any_pledge(user):
        return queryset.none()
    fixed = fixed_pledge_member_id(user)
    if fixed is not None:
        return queryset.filter(pk=fixed)
    return visible_members(user, queryset)


# --- Permission-checked fetches (views and API) --------------------------------------------------


def pledge_for_view(user, pk, queryset=None):
    """The pledge if the user may see it; 404 otherwise, so hidden records are not disclosed."""
    from contributions.models import Pledge

    try:
        return visible_pledges(user, queryset).get(pk=int(pk))
    except (Pledge.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("No such pledge.")) from exc


def record_for_view(user, queryset, pk, field="coalition", lookup="pk"):
    """A coalition-owned record (meeting, priority, ...) the user may read; 404 otherwise."""
    try:
        return visible_by_coalition(user, queryset, field).get(**{lookup: pk})
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("No such record.")) from exc


def record_for_manage(user, queryset, pk, field="coalition", lookup="pk"):
    """A coalition-owned record the user may read and manage: 404 if hidden, 403 if read-only."""
    record = record_for_view(user, queryset, pk, field, lookup)
    *path, last = field.split("__")
    owner = record
    for part in path:
        owner = getattr(owner, part)
    ensure_can_manage(user, getattr(owner, f"{last}_id"))
    return record


def member_for_view(user, code, queryset=None):
    """A member of one of the user's coalitions, by code; 404 otherwise."""
    from coalition.models import Member

    try:
        return visible_members(user, queryset).get(code=str(code).upper())
    except Member.DoesNotExist as exc:
        raise Http404(_("No such member.")) from exc


def pledge_for_edit(user, pk, queryset=None):
    pledge = pledge_for_view(user, pk, queryset)
    ensure_can_edit_pledge(user, pledge)
    return pledge
