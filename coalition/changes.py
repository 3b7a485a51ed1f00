"""The change feed's writing side: every write to a resource the API serves leaves a ``Change`` row in
the writer's own transaction, so a rolled-back write leaves none and a committed one always does.

Rows are written from model signals (``post_save``, ``post_delete``, ``m2m_changed``), so every path
that writes through the ORM — the services, the admin, the cascades a deletion brings — is covered
without each service remembering; the one bulk insert (a spreadsheet import) calls ``record_created``.
A change that alters how another resource reads (an allocation changes its priority's coverage, an
attendance its meeting) writes a row for that resource too.

**Order.** A row records the writer's transaction id (``pg_current_xact_id()``, 64 bits, never
wrapping). A reader hands out only rows of transactions below its snapshot's horizon
(``pg_snapshot_xmin(pg_current_snapshot())``, read first): every transaction below it has ended, so the
set of such rows is final and no row can appear later behind a cursor. The feed is ordered by
(transaction id, row id) and its cursor is that pair: a transaction's changes come together, and a
cursor resumes exactly, whatever order transactions commit in. Writers do not queue behind each
other (an exclusive lock taken at a write's first change would deadlock against the row locks the
services take; they share one only with seat changes, below); the price is
that a long transaction (a large import) holds the feed back until it ends, by its length. On SQLite,
whose writers take turns on one database lock, the row id alone is commit order.

**Seats.** When a person's seat changes, what they may see in that coalition changes without any
record changing: rows addressed to them alone (``audience``) name every record they could see before
or can see after, and the feed tells them its state now (the record, or "hidden"). Those lists must
not miss a record a concurrent transaction writes, so a seat change holds the coalition's advisory
lock exclusively while every transaction writing change rows of that coalition holds it shared:
writers never wait for each other, only a seat change and the writers of its coalition take turns.
A row is judged by its reader's seats at the time they read it, so a seat change also keeps the seat
it ends (``FormerSeat``, with the feed position of the change): rows from before that position are
judged by the former seat too (``permissions.visible_changes``). Without it, a draft deleted just
before its editor became a partner would stay in the partner's mirror: the deletion row is a draft's,
which a partner may not read, and the seat change's own rows name only records that still exist.
Because a writer holds the coalition's lock from its first change row to its commit, every row decided
before a seat change belongs to a transaction older than the seat change's, so its position bounds them.
"""

import dataclasses

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save, pre_delete, pre_save
from django.dispatch import Signal

from coalition import permissions
from coalition.models import Change, FormerSeat

#: Sent inside the writer's transaction after change rows were written (``rows``: how many).
changes_recorded = Signal()


@dataclasses.dataclass(frozen=True)
class Resource:
    """A resource of the feed: its name (as in ``/api/v1/changes/`` and webhook event types), its model,
    the field the API names a record by, and the status field whose transitions name an event
    (``meeting.held``, ``pledge.confirmed``)."""

    name: str
    model: str
    key: str = "pk"
    status: str | None = "status"

    @property
    def model_class(self):
        return apps.get_model(self.model)


RESOURCES = (
    Resource("coalition", "coalition.Coalition", key="slug", status=None),
    Resource("member", "coalition.Member", key="code", status=None),
    Resource("pledge", "contributions.Pledge"),
    Resource("disbursement", "contributions.Disbursement", status=None),
    Resource("priority", "contributions.PriorityPurchase"),
    Resource("allocation", "contributions.Allocation", status=None),
    Resource("meeting", "meetings.Meeting"),
    Resource("decision", "meetings.Decision", status=None),
    Resource("action-item", "meetings.ActionItem"),
)
BY_NAME = {resource.name: resource for resource in RESOURCES}
BY_MODEL = {resource.model: resource for resource in RESOURCES}
KINDS = tuple(Change.Kind.values) + ("hidden",)


def models_by_resource():
    return {resource.name: resource.model_class for resource in RESOURCES}


def event_types():
    """Every ``<resource>.<change>`` a webhook may ask for (transitions included: ``meeting.held``)."""
    types = [f"{resource.name}.{kind}" for resource in RESOURCES for kind in KINDS]
    for resource in RESOURCES:
        if resource.status is not None:
            field = resource.model_class._meta.get_field(resource.status)
            types.extend(f"{resource.name}.{value}" for value, _label in field.choices)
    return sorted(set(types))


# --- Writing rows ------------------------------------------------------------------------------------


#: The advisory lock keys of coalitions' seat changes: this base ("feed" in ASCII) plus the coalition id.
LOCK_BASE = 0x66656564 << 32


def _lock_coalitions(coalition_ids, exclusive=False):
    if connection.vendor != "postgresql" or not coalition_ids:
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        for coalition_id in sorted(coalition_ids):  # one order everywhere: no deadlock between two writers
            cursor.execute(f"SELECT {function}(%s)", [LOCK_BASE + coalition_id])


def lock_for_seat_change(coalition_id):
    """Called by the seat services before they lock or write anything: the exclusive side of the
    coalition's lock taken first, so a seat change never holds a row a writer waits for while it waits
    for that writer."""
    _lock_coalitions({coalition_id}, exclusive=True)


def _transaction_id():
    """The writer's transaction id on PostgreSQL (0 on SQLite, where the row id alone orders)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        return cursor.fetchone()[0]


def _key(resource, obj):
    return str(obj.pk if resource.key == "pk" else getattr(obj, resource.key))


def _rows_for(resource, obj, kind, action=""):
    """The rows of one change of ``obj``: one, or for a member one per coalition it sits in."""
    key = _key(resource, obj)
    if resource.model == "coalition.Member":
        coalitions = getattr(obj, "_feed_coalitions", None)
        if coalitions is None:
            coalitions = list(obj.memberships.values_list("coalition_id", flat=True)) if obj.pk else []
        return [Change(resource=resource.name, key=key, kind=kind, coalition_id=cid) for cid in coalitions]
    coalition_id, member_id, published_at = permissions.visibility_key(obj)
    return [
        Change(
            resource=resource.name,
            key=key,
            kind=kind,
            action=action,
            coalition_id=coalition_id,
            member_id=member_id,
            published_at=published_at,
        )
    ]


def write(rows):
    """Insert change rows stamped with the writer's transaction id (see the module's docstring)."""
    if not rows:
        return
    _lock_coalitions({row.coalition_id for row in rows if row.coalition_id is not None})
    txid = _transaction_id()
    for row in rows:
        row.txid = txid
    Change.objects.bulk_create(rows)
    changes_recorded.send(sender=Change, rows=len(rows))


def record(obj, kind, action=""):
    resource = BY_MODEL[obj._meta.label]
    write(_rows_for(resource, obj, kind, action))


def record_created(objects):
    """Rows for records inserted in bulk (``bulk_create`` sends no signal)."""
    rows = []
    for obj in objects:
        rows.extend(_rows_for(BY_MODEL[obj._meta.label], obj, Change.Kind.CREATED))
    write(rows)


def touch(model_label, queryset):
    """An "updated" row for each record of ``queryset``: records whose reading changed through another."""
    resource = BY_MODEL[model_label]
    rows = []
    for obj in queryset:
        rows.extend(_rows_for(resource, obj, Change.Kind.UPDATED))
    write(rows)


# --- Signals -----------------------------------------------------------------------------------------


def _remember(sender, instance, **kwargs):
    resource = BY_MODEL.get(sender._meta.label)
    if resource is not None and resource.status is not None:
        instance._feed_status = instance.__dict__.get(resource.status)
    if sender._meta.label == "contributions.Pledge":
        instance._feed_published = instance.__dict__.get("published_at")


def _saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    resource = BY_MODEL[sender._meta.label]
    action = ""
    if resource.status is not None:
        status = getattr(instance, resource.status)
        if created or status != getattr(instance, "_feed_status", None):
            action = status
        instance._feed_status = status
    record(instance, Change.Kind.CREATED if created else Change.Kind.UPDATED, action)
    _dependents(instance, created=created)


def _deleting(sender, instance, **kwargs):
    label = sender._meta.label
    if label == "coalition.Member":
        instance._feed_coalitions = list(instance.memberships.values_list("coalition_id", flat=True))
    if label in ("contributions.Pledge", "contributions.PriorityPurchase"):
        instance._feed_decisions = list(instance.decisions.values_list("pk", flat=True))


def _deleted(sender, instance, **kwargs):
    record(instance, Change.Kind.DELETED)
    _dependents(instance, deleted=True)


def _dependents(instance, created=False, deleted=False):
    """Rows for the resources that read differently because ``instance`` changed."""
    label = instance._meta.label
    if label == "contributions.Allocation":
        priorities = apps.get_model("contributions.PriorityPurchase")._base_manager
        touch("contributions.PriorityPurchase", priorities.filter(pk=instance.priority_id))
    elif label == "contributions.Pledge":
        published = instance.published_at
        if deleted or published != getattr(instance, "_feed_published", None):
            decisions = getattr(instance, "_feed_decisions", None)
            if decisions is None:
                decisions = list(instance.decisions.values_list("pk", flat=True))
            touch("meetings.Decision", apps.get_model("meetings.Decision")._base_manager.filter(pk__in=decisions))
            if not deleted and not created:
                touch("contributions.Allocation", instance.allocations.all())
                touch("contributions.Disbursement", instance.disbursements.all())
        instance._feed_published = published
    elif label == "contributions.PriorityPurchase" and deleted:
        decisions = getattr(instance, "_feed_decisions", [])
        touch("meetings.Decision", apps.get_model("meetings.Decision")._base_manager.filter(pk__in=decisions))


def _membership_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    member = apps.get_model("coalition.Member")._base_manager.filter(pk=instance.member_id).first()
    if member is not None:
        member._feed_coalitions = [instance.coalition_id]
        record(member, Change.Kind.UPDATED)


def _part_of_meeting_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    meeting = apps.get_model("meetings.Meeting")._base_manager.filter(pk=instance.meeting_id).first()
    if meeting is not None:
        record(meeting, Change.Kind.UPDATED)


def _links_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A decision's pledges or priorities changed (from either side of the relation)."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    decision_model = apps.get_model("meetings.Decision")
    if isinstance(instance, decision_model):
        record(instance, Change.Kind.UPDATED)
    elif pk_set:
        touch("meetings.Decision", decision_model._base_manager.filter(pk__in=pk_set))


# --- Seats -------------------------------------------------------------------------------------------


def _visible_keys(user_id, coalition_id):
    """``{(resource, key)}`` of every record of the coalition the user may see now (a fresh read of
    their seats)."""
    user = get_user_model()._base_manager.filter(pk=user_id).first()
    if user is None:
        return set()
    keys = set()
    for resource in RESOURCES:
        model = resource.model_class
        path = "memberships__coalition" if resource.model == "coalition.Member" else model.access.coalition
        field = "pk" if resource.key == "pk" else resource.key
        rows = model.objects.visible_to(user).filter(**{path: coalition_id}).values_list(field, flat=True)
        keys.update((resource.name, str(value)) for value in rows.distinct())
    return keys


def newest_row_id():
    """The id of the newest change row (0: none); on SQLite, whose writers take turns, commit order."""
    return Change.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _position_now():
    """Where the feed stands inside the current transaction: ``(transaction id, 0)`` on PostgreSQL
    (every row decided before now belongs to an older transaction, see the module's docstring),
    ``(0, newest row id)`` on SQLite."""
    txid = _transaction_id()
    if txid:
        return txid, 0
    return 0, newest_row_id()


def former_seats(user_id, after):
    """The seats ``user_id`` left after feed position ``after``, as ``permissions.FormerSeatView``."""
    txid, row = after
    rows = FormerSeat.objects.filter(user_id=user_id).filter(
        Q(ended_txid__gt=txid) | Q(ended_txid=txid, ended_row__gt=row)
    )
    return [
        permissions.FormerSeatView(seat.coalition_id, seat.role, seat.member_id, (seat.ended_txid, seat.ended_row))
        for seat in rows
    ]


def _seat_changing(sender, instance, raw=False, **kwargs):
    if raw:
        return
    fields = ("user_id", "coalition_id", "role", "member_id")
    old = sender._base_manager.filter(pk=instance.pk).values(*fields).first() if instance.pk else None
    _lock_coalitions({instance.coalition_id} | ({old["coalition_id"]} if old else set()), exclusive=True)
    if old is not None:
        user_id, coalition_id = old["user_id"], old["coalition_id"]
        instance._feed_before = (user_id, coalition_id, _visible_keys(user_id, coalition_id))
        instance._feed_former = old


def _seat_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    before = getattr(instance, "_feed_before", None)
    deleted = "created" not in kwargs
    targets = {}
    if before is not None:
        user_id, coalition_id, keys = before
        targets[(user_id, coalition_id)] = set(keys)
    if not deleted:
        after = targets.setdefault((instance.user_id, instance.coalition_id), set())
        after |= _visible_keys(instance.user_id, instance.coalition_id)
    instance._feed_before = None
    former = getattr(instance, "_feed_former", None)
    instance._feed_former = None
    now = (instance.user_id, instance.coalition_id, instance.role, instance.member_id)
    if former is not None and (deleted or tuple(former.values()) != now):
        txid, row = _position_now()
        FormerSeat.objects.create(**former, ended_txid=txid, ended_row=row)
    rows = [
        Change(resource=resource, key=key, kind=Change.Kind.UPDATED, coalition_id=coalition_id, audience=user_id)
        for (user_id, coalition_id), keys in targets.items()
        for resource, key in sorted(keys)
    ]
    write(rows)


def connect():
    """Wire the signals (``CoalitionConfig.ready``)."""
    for resource in RESOURCES:
        model = resource.model_class
        uid = f"feed-{resource.name}"
        post_init.connect(_remember, sender=model, dispatch_uid=f"{uid}-init", weak=False)
        post_save.connect(_saved, sender=model, dispatch_uid=f"{uid}-save", weak=False)
        pre_delete.connect(_deleting, sender=model, dispatch_uid=f"{uid}-deleting", weak=False)
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"{uid}-delete", weak=False)
    membership = apps.get_model("coalition.Membership")
    post_save.connect(_membership_changed, sender=membership, dispatch_uid="feed-membership-save", weak=False)
    post_delete.connect(_membership_changed, sender=membership, dispatch_uid="feed-membership-delete", weak=False)
    for label in ("meetings.Attendance", "meetings.AgendaItem"):
        model = apps.get_model(label)
        post_save.connect(_part_of_meeting_changed, sender=model, dispatch_uid=f"feed-{label}-save", weak=False)
        post_delete.connect(_part_of_meeting_changed, sender=model, dispatch_uid=f"feed-{label}-delete", weak=False)
    for label in ("contributions.Pledge", "contributions.PriorityPurchase"):
        through = apps.get_model(label).decisions.through
        m2m_changed.connect(_links_changed, sender=through, dispatch_uid=f"feed-{label}-decisions", weak=False)
    seat = apps.get_model("coalition.Seat")
    pre_save.connect(_seat_changing, sender=seat, dispatch_uid="feed-seat-changing", weak=False)
    pre_delete.connect(_seat_changing, sender=seat, dispatch_uid="feed-seat-deleting", weak=False)
    post_save.connect(_seat_changed, sender=seat, dispatch_uid="feed-seat-save", weak=False)
    post_delete.connect(_seat_changed, sender=seat, dispatch_uid="feed-seat-delete", weak=False)
