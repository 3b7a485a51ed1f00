"""The pledge list's exports: its columns as plain tuples read through a server-side cursor, and a
total row (count and EUR sums of the rows exported) at the end."""

from decimal import Decimal

from django.db import transaction
from django.utils.translation import ngettext

from coalition.exports import Column

ZERO = Decimal("0.00")
#: Rows PostgreSQL hands over per round trip of the server-side cursor.
CHUNK_SIZE = 5000

#: (the queryset path of the value, the exported column); headers stay machine names, as the API's.
PLEDGE_COLUMNS = (
    ("pk", Column("id", "number", 9)),
    ("coalition__slug", Column("coalition", "text", 20)),
    ("member__code", Column("member", "text", 9)),
    ("member__name", Column("member_name", "text", 22)),
    ("title", Column("title", "text", 40)),
    ("kind", Column("kind", "text", 11)),
    ("channel", Column("channel", "text", 18)),
    ("status", Column("status", "text", 11)),
    ("amount", Column("amount", "money", 16)),
    ("currency", Column("currency", "text", 9)),
    ("amount_eur", Column("amount_eur", "money", 16)),
    ("exchange_rate", Column("exchange_rate", "rate", 13)),
    ("exchange_rate_date", Column("exchange_rate_date", "date", 12)),
    ("exchange_rate_source", Column("exchange_rate_source", "text", 16)),
    ("announced_on", Column("announced_on", "date", 12)),
    ("confirmed_on", Column("confirmed_on", "date", 12)),
    ("confirmed_at_meeting__title", Column("confirmed_at_meeting", "text", 28)),
    ("disbursed_amount", Column("disbursed_amount", "money", 16)),
    ("disbursed_eur", Column("disbursed_eur", "money", 16)),
    ("external_ref", Column("external_ref", "text", 14)),
    ("source", Column("source", "text", 30)),
)
PATHS = [path for path, _column in PLEDGE_COLUMNS]
HEADER = [column for _path, column in PLEDGE_COLUMNS]
_TITLE, _EUR, _MEETING, _DISBURSED_EUR = (
    PATHS.index(p) for p in ("title", "amount_eur", "confirmed_at_meeting__title", "disbursed_eur")
)


def total_row(count, amount_eur, disbursed_eur):
    """The row after the last pledge: how many were exported and their EUR sums (amounts in their
    own currencies are not added up)."""
    row = [None] * len(PATHS)
    row[_TITLE] = ngettext("Total of %(count)s pledge", "Total of %(count)s pledges", count) % {"count": count}
    row[_EUR] = amount_eur
    row[_DISBURSED_EUR] = disbursed_eur
    return row


def pledge_rows(queryset, *, with_total=True):
    """The export's rows for ``queryset``, then its total row. Read in a transaction, so PostgreSQL's
    server-side cursor is an ordinary one that streams (outside one Django declares it WITH HOLD,
    and PostgreSQL materialises the whole result before the first row)."""
    count, amount_eur, disbursed_eur = 0, ZERO, ZERO
    with transaction.atomic():
        for row in queryset.values_list(*PATHS).iterator(chunk_size=CHUNK_SIZE):
            count += 1
            amount_eur += row[_EUR]
            disbursed_eur += row[_DISBURSED_EUR]
            if row[_MEETING] is None:
                row = (*row[:_MEETING], "", *row[_MEETING + 1 :])
            yield row
    if with_total:
        yield total_row(count, amount_eur, disbursed_eur)
