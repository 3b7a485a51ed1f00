"""Reading the change feed: for one user, the changes they may learn of, in commit order, each told as
the record's state now — its representation by the resource's own API serializer when they may see
it, ``hidden`` when it exists but they may no longer see it, ``deleted`` when it is gone.

Which rows a user may learn of is decided by ``coalition.permissions.visible_changes``; what the
record looks like to them, by the resource's viewset (the same queryset and serializer as its list),
so a mirror applying the feed holds what a fresh listing returns.
"""

import base64
import binascii
from collections import defaultdict

from django.db import connection
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework.request import Request

from coalition import changes, permissions
from coalition.api.serializers import iso_datetime
from coalition.api.views import CoalitionViewSet, MemberViewSet
from coalition.models import Change
from contributions.api.decisions import DecisionViewSet
from contributions.api.views import AllocationViewSet, DisbursementViewSet, PledgeViewSet, PriorityViewSet
from meetings.api.views import ActionItemViewSet, MeetingViewSet

VIEWSETS = {
    "coalition": CoalitionViewSet,
    "member": MemberViewSet,
    "pledge": PledgeViewSet,
    "disbursement": DisbursementViewSet,
    "priority": PriorityViewSet,
    "allocation": AllocationViewSet,
    "meeting": MeetingViewSet,
    "decision": DecisionViewSet,
    "action-item": ActionItemViewSet,
}
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
HIDDEN = "hidden"
_CURSOR_PREFIX = "c2:"
START = (0, 0)


class BadCursor(ValueError):
    pass


def encode_cursor(position):
    """The opaque cursor after ``position``, a ``(transaction id, row id)`` pair of the feed's order."""
    txid, row = position
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{txid}.{row}".encode()).decode().rstrip("=")


def decode_cursor(text):
    """The position a cursor names (``START`` for none); ``BadCursor`` for anything else."""
    if not text:
        return START
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadCursor(_("This is not a cursor the feed handed out.")) from exc
    numbers = raw.removeprefix(_CURSOR_PREFIX).split(".")
    if (
        not raw.startswith(_CURSOR_PREFIX)
        or len(numbers) != 2
        or not all(n.isascii() and n.isdigit() and int(n) < 2**63 for n in numbers)
    ):
        raise BadCursor(_("This is not a cursor the feed handed out."))
    return int(numbers[0]), int(numbers[1])


def _request_for(user):
    request = Request(HttpRequest())
    request.user = user
    return request


def _viewset(resource, request):
    viewset = VIEWSETS[resource]()
    viewset.request = request
    viewset.args, viewset.kwargs = (), {}
    viewset.format_kwarg = None
    viewset.action = "list"
    return viewset


def _row_key(row, field):
    if isinstance(row, dict):
        return str(row["id"] if field == "pk" else row[field])
    return str(row.pk if field == "pk" else getattr(row, field))


def represent(request, resource, keys):
    """``{key: representation}`` of the records of ``resource`` named by ``keys`` that the request's
    user sees now, exactly as the resource's list shows them."""
    field = changes.BY_NAME[resource].key
    viewset = _viewset(resource, request)
    rows = list(viewset.list_rows(viewset.get_queryset().filter(**{f"{field}__in": sorted(keys)})))
    data = viewset.get_serializer(rows, many=True).data
    return {_row_key(row, field): item for row, item in zip(rows, data, strict=True)}


def _existing(resource, keys):
    spec = changes.BY_NAME[resource]
    field = "pk" if spec.key == "pk" else spec.key
    values = spec.model_class._base_manager.filter(**{f"{field}__in": sorted(keys)}).values_list(field, flat=True)
    return {str(value) for value in values}


def horizon():
    """Where the feed may read up to now: on PostgreSQL ``(xmin, 0)``, xmin being the oldest transaction
    still running (every row of an older one is final and, read in a later statement, visible); on
    SQLite, whose writers take turns, ``(0, newest row id)``."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            return cursor.fetchone()[0], 0
    return 0, changes.newest_row_id()


def _between(after, until):
    """Rows after position ``after`` and before position ``until`` (``(txid, id)`` pairs)."""
    (after_tx, after_id), (until_tx, until_id) = after, until
    later = Q(txid__gt=after_tx) | Q(txid=after_tx, pk__gt=after_id)
    if until_id:
        return Change.objects.filter(later, Q(txid__lt=until_tx) | Q(txid=until_tx, pk__lte=until_id))
    return Change.objects.filter(later, txid__lt=until_tx)


def _former_seats(user, after):
    user_id = getattr(user, "pk", None)
    if user_id is None or not user.is_authenticated or user.is_superuser:
        return []
    return changes.former_seats(user_id, after)


def page(user, after=START, limit=DEFAULT_LIMIT, request=None):
    """``(events, next_position, has_more)``: up to ``limit`` events after ``after`` (a position)."""
    request = request or _request_for(user)
    until = horizon()
    queryset = _between(after, until)
    rows = list(
        permissions.visible_changes(queryset, user, changes.models_by_resource(), _former_seats(user, after)).order_by(
            "txid", "pk"
        )[: limit + 1]
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_position = (rows[-1].txid, rows[-1].pk) if has_more else max(until, after)
    return events_of(rows, request), next_position, has_more


def events_of(rows, request):
    """The events of change ``rows`` as the request's user reads them now."""
    wanted = defaultdict(set)
    for row in rows:
        wanted[row.resource].add(row.key)
    current = {resource: represent(request, resource, keys) for resource, keys in sorted(wanted.items())}
    existing = {}
    for resource, keys in sorted(wanted.items()):
        missing = keys - current[resource].keys()
        existing[resource] = _existing(resource, missing) if missing else set()
    events = []
    for row in rows:
        data = current[row.resource].get(row.key)
        if data is not None:
            change = Change.Kind.UPDATED if row.kind == Change.Kind.DELETED else row.kind
        elif row.key in existing[row.resource]:
            change = HIDDEN
        else:
            change = Change.Kind.DELETED
        events.append(
            {
                "seq": row.pk,
                "cursor": encode_cursor((row.txid, row.pk)),
                "type": f"{row.resource}.{change}",
                "resource": row.resource,
                "key": row.key,
                "change": str(change),
                "action": row.action or None,
                "occurred_at": iso_datetime(row.occurred_at),
                "data": data,
            }
        )
    return events
