"""Reads of the lowest layer: the EUR aggregates every app shares."""

from decimal import Decimal

from django.db.models import DecimalField, Sum, Value

CENT = Decimal("0.01")


class EuroField(DecimalField):
    """The output field of a computed EUR amount (a sum, a difference): cents on every database.
    PostgreSQL keeps numeric's scale (5000000.00); SQLite's converter rounds only plain columns and
    gives 5000000, which the API, CSV exports and emails would otherwise show."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 18)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        return None if value is None else Decimal(value).quantize(CENT)


ZERO_EUR = Value(Decimal("0.00"), output_field=EuroField())


def euro_sum(column, condition=None):
    """SUM of a EUR column (optionally filtered), 0.00 when there are no rows, in cents."""
    return Sum(column, filter=condition, default=ZERO_EUR, output_field=EuroField())
