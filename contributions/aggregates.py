"""Keeping the totals tables (contributions.aggregate_models) equal to the sums of the pledges.

Every write service wraps its change in ``pledges_changing``: it reads the facts of the pledges it is
about to touch (their published rows and allocations), lets the write happen, reads them again and
adds the difference to the totals, in the same transaction. The cost is that of the pledges touched,
never of the coalition. Done in Python rather than by PostgreSQL triggers so one implementation
serves PostgreSQL and SQLite alike, sums stay exact Decimals (SQLite adds decimals as floats), and
bulk loads that bypass the services (the benchmarks' COPY) are followed by ``rebuild_aggregates``.

On PostgreSQL the difference is added by ``INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x``:
concurrent writers of the same coalition serialise on the totals row, and nothing is lost between
them. SQLite has a single writer, so reading, adding and writing back is safe there.
"""

from contextlib import contextmanager
from decimal import Decimal

from django.db import connection, transaction

from coalition import stamps
from contributions.models import (
    Allocation,
    Pledge,
    PledgeMonthTotal,
    PledgeTotal,
    PriorityTotal,
)

ZERO = Decimal("0.00")

_PLEDGE_COLUMNS = (
    "pk",
    "coalition_id",
    "member_id",
    "status",
    "kind",
    "channel",
    "currency",
    "amount",
    "amount_eur",
    "disbursed_amount",
    "disbursed_eur",
    "announced_on",
    "confirmed_on",
)

#: (model, key columns, measure columns) of each totals table; ``count`` is always the first measure.
TABLES = {
    "pledge": (
        PledgeTotal,
        ("coalition_id", "member_id", "status", "kind", "channel", "currency"),
        ("count", "amount", "amount_eur", "disbursed_amount", "disbursed_eur"),
    ),
    "month": (PledgeMonthTotal, ("coalition_id", "basis", "month", "status"), ("count", "amount_eur")),
    "priority": (PriorityTotal, ("coalition_id", "priority_id", "status"), ("count", "amount_eur")),
}


def _nothing(table):
    """The measures of no pledge: a count of 0, then zero sums."""
    return [0] + [ZERO] * (len(TABLES[table][2]) - 1)


class Facts:
    """The totals a set of pledges contributes, per table and key: lists of measures."""

    def __init__(self):
        self.tables = {name: {} for name in TABLES}
        self.coalitions = set()

    def add(self, table, key, *measures):
        row = self.tables[table].setdefault(key, _nothing(table))
        for index, value in enumerate(measures):
            row[index] += value

    def add_pledge(self, row):
        (
            _pk,
            coalition_id,
            member_id,
            status,
            kind,
            channel,
            currency,
            amount,
            amount_eur,
            paid,
            paid_eur,
            on,
            confirmed_on,
        ) = row
        self.coalitions.add(coalition_id)
        self.add(
            "pledge", (coalition_id, member_id, status, kind, channel, currency), 1, amount, amount_eur, paid, paid_eur
        )
        self.add(
            "month", (coalition_id, PledgeMonthTotal.Basis.ANNOUNCED.value, on.replace(day=1), status), 1, amount_eur
        )
        if confirmed_on is not None:
            month = confirmed_on.replace(day=1)
            self.add("month", (coalition_id, PledgeMonthTotal.Basis.CONFIRMED.value, month, status), 1, amount_eur)

    def minus(self, other):
        """``self - other`` per key, keys whose difference is nothing left out."""
        delta = Facts()
        delta.coalitions = self.coalitions | other.coalitions
        for name in TABLES:
            mine, theirs = self.tables[name], other.tables[name]
            for key in mine.keys() | theirs.keys():
                a, b = mine.get(key) or _nothing(name), theirs.get(key) or _nothing(name)
                diff = [x - y for x, y in zip(a, b, strict=True)]
                if any(diff):
                    delta.tables[name][key] = diff
        return delta

    def __bool__(self):
        return any(self.tables.values())


def facts_of(pledges):
    """The facts of the published pledges among ``pledges`` (a queryset), with their allocations."""
    facts = Facts()
    statuses = {}
    coalition_of = {}
    for row in pledges.published().order_by().values_list(*_PLEDGE_COLUMNS).iterator(chunk_size=2000):
        facts.add_pledge(row)
        statuses[row[0]] = row[3]
        coalition_of[row[0]] = row[1]
    if statuses:
        allocations = Allocation.objects.filter(pledge__in=pledges.published().order_by().values("pk"))
        for pledge_id, priority_id, amount_eur in allocations.values_list("pledge_id", "priority_id", "amount_eur"):
            if pledge_id in statuses:
                facts.add("priority", (coalition_of[pledge_id], priority_id, statuses[pledge_id]), 1, amount_eur)
    return facts


class Change:
    """The pledges one write touches: those named when it starts and any it creates."""

    def __init__(self, ids):
        self.ids = set(ids)
        self.created = set()

    def add(self, *ids):
        self.created.update(ids)


@contextmanager
def pledges_changing(*ids):
    """Wrap a write to the pledges ``ids`` (and their allocations and disbursements); ``change.add(pk)``
    names pledges the write creates. The totals move by the difference, in the write's transaction."""
    with transaction.atomic():
        change = Change(pk for pk in ids if pk is not None)
        before = facts_of(Pledge.objects.filter(pk__in=change.ids)) if change.ids else Facts()
        yield change
        after = facts_of(Pledge.objects.filter(pk__in=change.ids | change.created))
        apply(after.minus(before))


def pledges_created(ids):
    """Add newly created pledges (a bulk import's batch) to the totals."""
    if ids:
        apply(facts_of(Pledge.objects.filter(pk__in=list(ids))))


def touch(coalition_id):
    """Move a coalition's change stamp: its figures changed without a pledge changing (a priority)."""
    stamps.bump({coalition_id})


def apply(delta):
    """Add ``delta`` to the totals tables and move the stamps of the coalitions it touches."""
    if delta:
        for name, (model, keys, measures) in TABLES.items():
            rows = delta.tables[name]
            if not rows:
                continue
            # A fixed order of keys, so concurrent writers lock totals rows in the same order.
            ordered = sorted(rows.items(), key=lambda item: tuple(str(part) for part in item[0]))
            if connection.vendor == "postgresql":
                _add_postgresql(model, keys, measures, ordered)
            else:
                _add_portable(model, keys, measures, ordered)
            if any(values[0] < 0 for _key, values in ordered):
                model.objects.filter(coalition_id__in=delta.coalitions, count=0).delete()
    if delta.coalitions:
        stamps.bump(delta.coalitions)


def _add_postgresql(model, keys, measures, rows):
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [model._meta.get_field(name).column for name in (*keys, *measures)]
    key_columns = [model._meta.get_field(name).column for name in keys]
    updates = ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in columns[len(keys) :])
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "  # noqa: S608
        f"ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(*key, *values) for key, values in rows])


def _add_portable(model, keys, measures, rows):
    for key, values in rows:
        lookup = dict(zip(keys, key, strict=True))
        existing = model.objects.filter(**lookup).first()
        if existing is None:
            model.objects.create(**lookup, **dict(zip(measures, values, strict=True)))
        else:
            for name, value in zip(measures, values, strict=True):
                setattr(existing, name, getattr(existing, name) + value)
            existing.save(update_fields=list(measures))


def stored(coalition_ids=None):
    """The totals tables as they are, as Facts (for the check)."""
    facts = Facts()
    for name, (model, keys, measures) in TABLES.items():
        queryset = model.objects.all()
        if coalition_ids is not None:
            queryset = queryset.filter(coalition_id__in=coalition_ids)
        for row in queryset.values_list(*keys, *measures).iterator(chunk_size=2000):
            facts.tables[name][tuple(row[: len(keys)])] = list(row[len(keys) :])
    return facts


def differences(coalition_ids=None):
    """Keys where the stored totals differ from the raw sums of the pledges: [(table, key, stored, raw)]."""
    pledges = Pledge.objects.all()
    if coalition_ids is not None:
        pledges = pledges.filter(coalition_id__in=coalition_ids)
    raw = facts_of(pledges)
    have = stored(coalition_ids)
    delta = raw.minus(have)
    return [
        (name, key, have.tables[name].get(key), raw.tables[name].get(key))
        for name in TABLES
        for key in sorted(delta.tables[name], key=lambda k: tuple(str(p) for p in k))
    ]


@transaction.atomic
def rebuild(coalition_ids=None):
    """Recompute the totals from the pledges (after a bulk load that bypassed the services)."""
    pledges = Pledge.objects.all()
    for model, _keys, _measures in TABLES.values():
        queryset = model.objects.all()
        if coalition_ids is not None:
            queryset = queryset.filter(coalition_id__in=coalition_ids)
        queryset.delete()
    if coalition_ids is not None:
        pledges = pledges.filter(coalition_id__in=coalition_ids)
    facts = facts_of(pledges)
    for name, (model, keys, measures) in TABLES.items():
        objects = [
            model(**dict(zip(keys, key, strict=True)), **dict(zip(measures, values, strict=True)))
            for key, values in facts.tables[name].items()
        ]
        model.objects.bulk_create(objects, batch_size=1000)
    stamps.bump(facts.coalitions | set(coalition_ids or ()))
    return facts
