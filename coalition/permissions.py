"""Who may see and change what: the portal's one visibility layer.

A role is held in a coalition: a user's ``Seat`` there (secretariat, member editor for one member,
steering group, partner). Every model declares in an ``Access`` where its coalition is, which member
owns it, what makes it published and which roles read it at all; ``RestrictedQuerySet`` turns the
user's seats and that declaration into ``visible_to(user)``, ``editable_by(user)`` and
``published()``, and ``can_view`` / ``can_edit`` answer the same questions for one record. Pages, the
API, exports, calendars, report emails, history panels, dashboards and the admin all read through
them: no surface tests a status string or a role itself. (NetBox's ``RestrictedQuerySet.restrict``
is the model; here the rules are the roles table of DESIGN.md rather than stored permissions.)

The rules, for a record of coalition C:

* a superuser, and the system (``user=None``: commands, the demo), see and change everything;
* a record is read by anyone seated in C whose role is among the model's ``readers``; until it is
  published (``Access.published``) only C's secretariat and the editors of its own member read it;
* the secretariat of C changes every record of C; a member editor changes the records of the member
  they speak for in C where the model says owners edit (``Access.owner_edits``: pledges and their
  disbursements).

This module imports no model: the seats are read through ``user.seats``, so every app's models can
use it, the lowest one included.
"""

import dataclasses
import hashlib
import hmac
import ipaddress
from functools import cached_property

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from simple_history.manager import HistoricalQuerySet

SECRETARIAT = "secretariat"
MEMBER_EDITOR = "member-editor"
STEERING = "steering"
PARTNER = "partner"
ROLES = (SECRETARIAT, MEMBER_EDITOR, STEERING, PARTNER)
EVERY_ROLE = frozenset(ROLES)
#: Roles that read a coalition's internal record: history, delegates' names, draft minutes.
INTERNAL = frozenset({SECRETARIAT, MEMBER_EDITOR, STEERING})
#: Roles that record pledges somewhere (imports, the pledge form).
PLEDGE_WRITERS = frozenset({SECRETARIAT, MEMBER_EDITOR})
#: The report emails (reports.models.Report values) only the secretariat receives.
SECRETARIAT_REPORTS = frozenset({"notice"})


# --- Who the user is -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SeatView:
    role: str
    member_id: int | None


class Actor:
    """A user's seats, read once (one query) and cached on the user for the rest of the request."""

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
        return self.user is None or bool(self.user.is_authenticated and self.user.is_superuser)

    @cached_property
    def seats(self):
        """``{coalition_id: SeatView}``; empty for anonymous users (and irrelevant for superusers)."""
        if self.user is None or not self.user.is_authenticated:
            return {}
        rows = self.user.seats.values_list("coalition_id", "role", "member_id")
        return {coalition_id: SeatView(role, member_id) for coalition_id, role, member_id in rows}

    @property
    def coalition_ids(self):
        return frozenset(self.seats)

    def ids_with(self, roles):
        """The coalitions where the user's role is one of ``roles``."""
        return frozenset(cid for cid, seat in self.seats.items() if seat.role in roles)

    def role_in(self, coalition_id):
        seat = self.seats.get(coalition_id)
        return seat.role if seat else None

    def has_in(self, role, coalition_id):
        return self.is_superuser or self.role_in(coalition_id) == role

    def editor_pairs(self, within=None):
        """``(coalition_id, member_id)`` of the user's member-editor seats (in ``within``, if given)."""
        return frozenset(
            (cid, seat.member_id)
            for cid, seat in self.seats.items()
            if seat.role == MEMBER_EDITOR and seat.member_id is not None and (within is None or cid in within)
        )


def visibility_version(user):
    """A short digest of everything that decides which rows ``user`` reads: superuser or not and every
    seat (coalition, role, member). Equal for two readers who see the same; it changes with a seat.
    Part of the key of anything cached per reader (the dashboard's figures, the summary)."""
    a = actor(user)
    if a.is_superuser:
        return "all"
    if not a.is_authenticated:
        return "none"
    seats = sorted((coalition_id, seat.role, seat.member_id or 0) for coalition_id, seat in a.seats.items())
    return hashlib.sha256(repr(seats).encode()).hexdigest()[:16]


def seated_as(user, seats):
    """An Actor for ``user`` holding only ``seats`` (``{coalition_id: SeatView}``), whatever they hold
    now: how the change feed judges a row by a seat its reader has since left."""
    a = Actor(user)
    a.__dict__["seats"] = dict(seats)
    return a


def remember_seats(user, rows):
    """Make ``rows`` (``(coalition_id, role, member_id)`` triples the caller read for ``user``) their
    seats for the rest of the request, so the visibility layer does not read them again."""
    user._coalition_actor = seated_as(user, {cid: SeatView(role, member_id) for cid, role, member_id in rows})


def seat_rows(user):
    """The user's seats as ``(coalition_id, role, member_id)`` triples (what ``remember_seats`` takes)."""
    return sorted((cid, seat.role, seat.member_id) for cid, seat in actor(user).seats.items())


def actor(user):
    """The Actor for ``user``, cached on the user object for the rest of the request."""
    if user is None:
        return Actor(None)
    cached = getattr(user, "_coalition_actor", None)
    if cached is None:
        cached = Actor(user)
        user._coalition_actor = cached
    return cached


def viewer_key(user):
    """What decides which rows ``user`` reads, as a short string: who they are, whether they are a
    superuser and their seats (already read for the request). Two requests with the same key and the
    same data see the same rows (the conditional GETs' fingerprint, coalition/api/conditional.py)."""
    a = actor(user)
    if a.is_superuser:
        return f"super:{getattr(user, 'pk', None)}"
    if not a.is_authenticated:
        return "anonymous"
    seats = ",".join(f"{cid}:{seat.role}:{seat.member_id or ''}" for cid, seat in sorted(a.seats.items()))
    return f"user:{user.pk}:{seats}"


def forget(user):
    """Drop the cached Actor after the user's seats changed."""
    if user is not None and hasattr(user, "_coalition_actor"):
        del user._coalition_actor


# --- What each model declares ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Access:
    """How the visibility layer finds its way in one model's rows (every path is a queryset lookup).

    ``coalition``: the path to the coalition (``"pk"`` for Coalition itself; None for data that is not
    any coalition's, such as the ECB rates, read by anyone with a seat). ``member``: the path to the
    member that owns the record. ``published``: the path to the moment the record was published;
    before that it is read only by the coalition's secretariat and the owner's editors. ``readers``:
    the roles that read it at all. ``owner_edits``: the owner's member editors change it (otherwise
    only the secretariat does). ``creator``: the path to the user who created it, who reads it while
    they still record pledges there. ``many``: ``coalition`` crosses a to-many relation (a member's
    memberships), so rows are matched by subquery rather than joined (no duplicates). ``outward``:
    ``(lookup, value)`` pairs a published row must also match to be shown to the public, on the page
    of a coalition that opted in (``()``: every published row); None, the default, keeps every row of
    the model off the public surfaces (delegates, agenda notes, action items, seats, imports).
    """

    coalition: str | None = "coalition"
    member: str | None = None
    published: str | None = None
    readers: frozenset = EVERY_ROLE
    owner_edits: bool = False
    creator: str | None = None
    many: bool = False
    personal: str | None = None
    outward: tuple | None = None

    def through(self, relation, **changes):
        """This access seen from a model that points here through ``relation`` (a disbursement's
        pledge): the same rules, every path prefixed."""

        def prefixed(path):
            return None if path is None else f"{relation}__{path}"

        fields = {
            "coalition": prefixed(self.coalition),
            "member": prefixed(self.member),
            "published": prefixed(self.published),
            "creator": prefixed(self.creator),
        }
        return dataclasses.replace(self, **{**fields, **changes})

    def for_history(self):
        """History rows are the internal record: read by internal roles only, and a row written before
        its record was published only by those who could read the draft (the row's own copy of the
        ``published`` column says which)."""
        return dataclasses.replace(self, readers=self.readers & INTERNAL, creator=None)


def access_of(model):
    """The model's Access; a history model's is its record's, for history."""
    base = getattr(model, "instance_type", None)
    if base is not None and model is not base:
        return base.access.for_history()
    return model.access


def _in(path, ids):
    return Q(**{f"{path}__in": sorted(ids)})


def _editors(access, pairs):
    condition = Q(pk__in=[])
    for coalition_id, member_id in sorted(pairs):
        condition |= Q(**{access.coalition: coalition_id, access.member: member_id})
    return condition


def visible_condition(access, user):
    """``None`` (every row), ``False`` (no row) or the Q of the rows ``user`` may read."""
    return _visible_condition(access, actor(user))


def _visible_condition(access, a):
    if a.is_superuser:
        return None
    if access.personal is not None:
        return Q(**{access.personal: a.user.pk}) if a.is_authenticated else False
    if not a.is_authenticated or not a.seats:
        return False
    if access.coalition is None:
        return None
    readable = a.ids_with(access.readers)
    condition = _in(access.coalition, readable) if readable else Q(pk__in=[])
    if access.published is not None and readable:
        drafts = _in(access.coalition, a.ids_with({SECRETARIAT}) & readable)
        if access.member is not None:
            drafts |= _editors(access, a.editor_pairs(within=readable))
        condition &= Q(**{f"{access.published}__isnull": False}) | drafts
    if access.creator is not None:
        writes = a.ids_with(PLEDGE_WRITERS)
        if writes:
            condition |= Q(**{access.creator: a.user.pk}) & _in(access.coalition, writes)
    return condition if readable or access.creator is not None else False


def editable_condition(access, user):
    """``None`` (every row), ``False`` (no row) or the Q of the rows ``user`` may change."""
    a = actor(user)
    if a.is_superuser:
        return None
    if not a.seats or access.coalition is None:
        return False
    managed = a.ids_with({SECRETARIAT})
    condition = _in(access.coalition, managed) if managed else Q(pk__in=[])
    pairs = a.editor_pairs() if access.owner_edits and access.member is not None else frozenset()
    if pairs:
        condition |= _editors(access, pairs)
    return condition if managed or pairs else False


def _apply(queryset, condition, access):
    if condition is None:
        return queryset
    if condition is False:
        return queryset.none()
    if access.many:
        return queryset.filter(pk__in=queryset.model._base_manager.filter(condition).values("pk"))
    return queryset.filter(condition)


class RestrictionMixin:
    """``visible_to``, ``editable_by`` and ``published`` for any model that declares an ``access``."""

    def visible_to(self, user):
        """The rows ``user`` may read."""
        access = access_of(self.model)
        return _apply(self, visible_condition(access, user), access)

    def editable_by(self, user):
        """The rows ``user`` may change."""
        access = access_of(self.model)
        return _apply(self, editable_condition(access, user), access)

    def published(self):
        """The rows that are public in their coalition (every row, for models without publication)."""
        access = access_of(self.model)
        if access.published is None:
            return self
        return self.filter(**{f"{access.published}__isnull": False})

    def public(self):
        """The rows anyone may read without signing in: published (``published()``), matching the
        model's ``outward`` conditions, in a coalition whose secretariat switched its public page on.
        A model that declares no ``outward`` has no public rows."""
        access = access_of(self.model)
        if access.outward is None or access.coalition is None or getattr(self.model, "instance_type", None):
            return self.none()
        flag = "public" if access.coalition == "pk" else f"{access.coalition}__public"
        if access.many:
            opted_in = self.model._base_manager.filter(**{flag: True}).values("pk")
            return self.published().filter(pk__in=opted_in, **dict(access.outward))
        return self.published().filter(**{flag: True}, **dict(access.outward))

    def in_coalitions_where(self, user, roles):
        """Rows of the coalitions where ``user``'s role is one of ``roles`` (every row for a
        superuser): the choices of a role's forms, such as the coalitions one records pledges in."""
        a = actor(user)
        if a.is_superuser:
            return self
        ids = a.ids_with(roles)
        access = access_of(self.model)
        return _apply(self, _in(access.coalition, ids) if ids else False, access)


class RestrictedQuerySet(RestrictionMixin, models.QuerySet):
    pass


class RestrictedHistoricalQuerySet(RestrictionMixin, HistoricalQuerySet):
    """History rows restricted as their records' history (``HistoricalRecords(historical_queryset=...)``)."""


# --- One record ------------------------------------------------------------------------------------


def _resolve(obj, path):
    """The value at ``path`` (a lookup) on an instance: ids for relations, without loading the last one."""
    *relations, last = path.split("__")
    for name in relations:
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    if last == "pk":
        return obj.pk
    field = obj._meta.get_field(last)
    return getattr(obj, field.attname)


def _matches(obj, condition, access):
    if condition is None or condition is False:
        return condition is None
    if access.many:
        return type(obj)._base_manager.filter(condition, pk=obj.pk).exists()
    return _check(obj, condition)


def _check(obj, condition):
    """Evaluate a Q built above on an instance (AND/OR of ``path``, ``path__in`` and ``path__isnull``)."""
    results = []
    for child in condition.children:
        if isinstance(child, Q):
            results.append(_check(obj, child))
            continue
        lookup, expected = child
        if lookup.endswith("__in"):
            results.append(_resolve(obj, lookup.removesuffix("__in")) in expected)
        elif lookup.endswith("__isnull"):
            results.append((_resolve(obj, lookup.removesuffix("__isnull")) is None) == expected)
        else:
            results.append(_resolve(obj, lookup) == expected)
    outcome = all(results) if condition.connector == Q.AND else any(results)
    return not outcome if condition.negated else outcome


def can_view(user, obj):
    """Whether ``user`` may read ``obj`` (the row ``visible_to`` would return)."""
    access = access_of(type(obj))
    return _matches(obj, visible_condition(access, user), access)


def can_edit(user, obj):
    """Whether ``user`` may change ``obj`` (the row ``editable_by`` would return)."""
    access = access_of(type(obj))
    return _matches(obj, editable_condition(access, user), access)


def visible_related(user, model, relation):
    """The rows at the end of ``model``'s ``relation`` that ``user`` may read, for a Prefetch: how a
    lower app's page shows records of an app above it (a meeting's confirmed pledges) through the
    same rules, without importing that app."""
    return model._meta.get_field(relation).related_model.objects.visible_to(user)


def get_visible(queryset, user, **lookup):
    """The record ``user`` may read, or 404: a record one may not see is not disclosed."""
    try:
        return queryset.visible_to(user).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("No such %(record)s.") % {"record": queryset.model._meta.verbose_name}) from exc


def get_public(queryset, **lookup):
    """The record anyone may read without signing in (``public()``), or 404: a coalition that has
    not opted in is not disclosed, not even its existence."""
    try:
        return queryset.public().get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("No such %(record)s.") % {"record": queryset.model._meta.verbose_name}) from exc


def get_editable(queryset, user, **lookup):
    """The record ``user`` may change: 404 when they may not see it, 403 when they may only read it."""
    record = get_visible(queryset, user, **lookup)
    ensure(can_edit(user, record), _("Your role in this coalition may read this record but not change it."))
    return record


# --- Roles in coalitions ---------------------------------------------------------------------------


def _coalition_id(coalition):
    return coalition if isinstance(coalition, int) else coalition.pk


def can_use_portal(user):
    """Whether the portal has anything for the user: a seat in some coalition (or superuser)."""
    a = actor(user)
    return a.is_superuser or bool(a.seats)


def can_read_coalition(user, coalition):
    a = actor(user)
    return a.is_superuser or _coalition_id(coalition) in a.seats


def can_read_internal(user, coalition):
    """Drafts aside, the coalition's internal record: history, delegates, draft minutes, recent changes."""
    a = actor(user)
    return a.is_superuser or a.role_in(_coalition_id(coalition)) in INTERNAL


def can_manage(user, coalition):
    """Members, meetings, priorities, allocations and every pledge of the coalition: its secretariat."""
    return actor(user).has_in(SECRETARIAT, _coalition_id(coalition))


def can_write_pledge_for(user, coalition, member):
    """Whether ``user`` may record a pledge (or a disbursement) for ``member`` in ``coalition``."""
    a = actor(user)
    cid = _coalition_id(coalition)
    if a.has_in(SECRETARIAT, cid):
        return True
    member_id = member if isinstance(member, int) else member.pk
    return (cid, member_id) in a.editor_pairs()


def can_record_pledges_in(user, coalition):
    """Whether the user records pledges (for some member) in ``coalition``: imports, the pledge form."""
    a = actor(user)
    return a.is_superuser or a.role_in(_coalition_id(coalition)) in PLEDGE_WRITERS


def can_record_any_pledge(user):
    a = actor(user)
    return a.is_superuser or bool(a.ids_with(PLEDGE_WRITERS))


def can_manage_any_coalition(user):
    """Whether the user is the secretariat of at least one coalition (shows the "new" forms)."""
    a = actor(user)
    return a.is_superuser or bool(a.ids_with({SECRETARIAT}))


def can_see_delegates(user, coalition):
    """Delegates' names are personal data: the coalition's internal readers only."""
    return can_read_internal(user, coalition)


def can_see_minutes(user, meeting):
    """Approved minutes are published; draft minutes stay internal."""
    return meeting.minutes_published or can_read_internal(user, meeting.coalition_id)


def can_edit_member(user, member_coalition_ids):
    """A member (a country, an organisation) is shared by every coalition it sits in: its name is
    changed by a superuser, or by a secretariat serving every one of those coalitions."""
    a = actor(user)
    if a.is_superuser:
        return True
    ids = frozenset(member_coalition_ids)
    return bool(ids) and ids <= a.ids_with({SECRETARIAT})


def can_receive_report(user, coalition, report):
    """Digest and meeting summary go to the coalition's internal readers (they show what partners may
    not see); the confirmation notice goes to its secretariat."""
    if report in SECRETARIAT_REPORTS:
        return can_manage(user, coalition)
    return can_read_internal(user, coalition)


def can_view_deliveries(user):
    """The delivery log (who was sent which report, and what failed) is the secretariat's."""
    return can_manage_any_coalition(user)


def metrics_access(authorization, address, *, token, networks):
    """Who may scrape /metrics: ``"off"`` when neither METRICS_TOKEN nor METRICS_ALLOWED_NETWORKS is set
    (the page does not exist), ``"allowed"`` when the request carries ``Bearer <token>`` (if a token is
    set) and comes from one of ``networks`` (if any are set), else ``"refused"``."""
    if not token and not networks:
        return "off"
    if token:
        scheme, _space, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            return "refused"
    if networks:
        try:
            client = ipaddress.ip_address(address or "")
        except ValueError:
            return "refused"
        if not any(client in network for network in networks):
            return "refused"
    return "allowed"


def fixed_pledge_member_id(user):
    """The member a user's pledges are always for: an editor whose every pledge-writing seat speaks for
    the same member. None when the user may choose (a secretariat seat, or several members)."""
    a = actor(user)
    if a.is_superuser or a.ids_with({SECRETARIAT}):
        return None
    members = {member_id for _cid, member_id in a.editor_pairs()}
    return members.pop() if len(members) == 1 else None


def pledge_members(user, members):
    """Of ``members``, those the user records pledges for: every member of the coalitions they are
    secretariat of, and the member they speak for where they are a member editor (form choices)."""
    a = actor(user)
    if a.is_superuser:
        return members
    condition = Q(pk__in=sorted(member_id for _cid, member_id in a.editor_pairs()))
    managed = a.ids_with({SECRETARIAT})
    if managed:
        condition |= _in(access_of(members.model).coalition, managed)
    return members.filter(pk__in=members.model._base_manager.filter(condition).values("pk"))


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


# --- Enforcement (services) ------------------------------------------------------------------------


def ensure(allowed, message=None):
    if not allowed:
        raise PermissionDenied(message or _("You are not allowed to do this."))


def ensure_can_use_portal(user):
    """The pages of a portal user: a signed-in person without a seat anywhere is told so."""
    ensure(
        can_use_portal(user),
        _("You do not have a seat in any coalition yet: ask the portal's administrator to give you one."),
    )


def ensure_can_write_pledge_for(user, coalition, member):
    # The message is built only on refusal: imports ask this once per row.
    if not can_write_pledge_for(user, coalition, member):
        raise PermissionDenied(_("You may only record pledges of your own member in the coalitions you serve."))


def ensure_can_edit(user, obj, message=None):
    ensure(can_edit(user, obj), message or _("Your role in this coalition may not change this record."))


def ensure_can_manage(user, coalition):
    ensure(can_manage(user, coalition), _("Only the coalition's secretariat may do this."))


# --- The change feed -------------------------------------------------------------------------------


def visibility_key(obj):
    """``(coalition_id, member_id, published_at)`` of a record, found along its model's Access: what a
    change row keeps, so that who may learn of a change is decided here even once the record is gone."""
    access = access_of(type(obj))

    def at(path):
        return None if path is None else _resolve(obj, path)

    return at(access.coalition), at(access.member), at(access.published)


@dataclasses.dataclass(frozen=True)
class FormerSeatView:
    """A seat its holder has left: held in ``coalition_id`` as ``role`` (for ``member_id``) until the
    change feed's position ``ended`` (a ``(transaction id, row id)`` pair)."""

    coalition_id: int
    role: str
    member_id: int | None
    ended: tuple


def _feed_condition(models_by_resource, a):
    """The Q of the change rows (not addressed to anyone) that Actor ``a`` (not a superuser) may learn of."""
    condition = Q(pk__in=[])
    for resource, model in models_by_resource.items():
        access = access_of(model)
        declared = Access(
            coalition="coalition_id",
            member="member_id" if access.member else None,
            published="published_at" if access.published else None,
            readers=access.readers,
        )
        rows = _visible_condition(declared, a)
        if rows is None:
            condition |= Q(resource=resource)
        elif rows is not False:
            condition |= Q(resource=resource) & rows
    return condition


def _before(position):
    txid, row = position
    return Q(txid__lt=txid) | Q(txid=txid, pk__lte=row)


def visible_changes(queryset, user, models_by_resource, former_seats=()):
    """The change rows ``user`` may learn of: those addressed to them (what their seat change showed or
    hid), and of every other row those its resource's model lets them read, judged on the row's own
    copy of the record's coalition, member and publication (``visibility_key``).

    A row is judged by the user's seats now and, if it was written before they left a seat
    (``former_seats``, ``FormerSeatView``), by that seat too: what they could see when it happened
    is told to them, so a mirror that held a record learns that it is gone even if the person may no
    longer see that record's coalition or member (a pledge deleted just before its member's editor
    became a partner). The rows a seat change itself writes cover what the change shows or hides."""
    a = actor(user)
    own = Q(audience=a.user.pk) if a.user is not None and a.is_authenticated else Q(pk__in=[])
    if a.is_superuser:
        return queryset.filter(Q(audience__isnull=True) | own)
    condition = _feed_condition(models_by_resource, a)
    # One term per distinct former seat, up to the last time it ended (a seat held, left and held again
    # reads the same rows up to its latest end).
    ends = {}
    for seat in former_seats:
        key = (seat.coalition_id, seat.role, seat.member_id)
        ends[key] = max(ends.get(key, seat.ended), seat.ended)
    for (coalition_id, role, member_id), ended in sorted(ends.items(), key=lambda item: repr(item[0])):
        then = seated_as(a.user, {coalition_id: SeatView(role, member_id)})
        condition |= Q(coalition_id=coalition_id) & _before(ended) & _feed_condition(models_by_resource, then)
    return queryset.filter((Q(audience__isnull=True) & condition) | own)


# --- Webhooks --------------------------------------------------------------------------------------


def can_register_webhooks(user):
    """Anyone the API serves may have webhook endpoints: they carry what that person may read."""
    return can_use_portal(user)


def webhook_owner_condition(user, owner_path="owner"):
    """``None`` (every row), ``False`` (no row) or the Q of the rows whose owner (``owner_path``) ``user``
    manages webhooks for: their own, and the secretariat's for the people seated in their coalitions."""
    a = actor(user)
    if a.is_superuser:
        return None
    if not a.is_authenticated:
        return False
    condition = Q(**{owner_path: a.user.pk})
    managed = a.ids_with({SECRETARIAT})
    if managed:
        condition |= Q(**{f"{owner_path}__seats__coalition__in": sorted(managed)})
    return condition


def webhooks_managed_by(queryset, user, owner_path="owner"):
    """The webhook endpoints (or deliveries, with ``owner_path="endpoint__owner"``) ``user`` manages."""
    condition = webhook_owner_condition(user, owner_path)
    if condition is None:
        return queryset
    if condition is False:
        return queryset.none()
    return queryset.filter(pk__in=queryset.model._base_manager.filter(condition).values("pk"))


def can_manage_webhooks_for(user, owner):
    """Whether ``user`` may register, read and remove webhook endpoints owned by ``owner``."""
    a = actor(user)
    if a.is_superuser or (a.user is not None and owner.pk == a.user.pk):
        return True
    return bool(a.ids_with({SECRETARIAT}) & actor(owner).coalition_ids)
