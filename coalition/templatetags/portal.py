"""Template filters for money and shares, localised: {% load portal %} {{ value|money }} {{ share|percent }}."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats

register = template.Library()


@register.filter
def money(value, places=2):
    """A Decimal amount with the locale's separators and grouping: 1,234,567.89 / 1 234 567,89."""
    if value is None or value == "":
        return "—"
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return value
    return formats.number_format(value, int(places), use_l10n=True, force_grouping=True)


@register.filter
def percent(fraction, places=1):
    """A Decimal fraction (0.4567) as a localised percentage (45.7 %)."""
    if fraction is None or fraction == "":
        return "—"
    try:
        value = Decimal(fraction) * 100
    except (InvalidOperation, TypeError, ValueError):
        return fraction
    return f"{formats.number_format(value, int(places), use_l10n=True)} %"


@register.filter
def label_of(value, labels):
    """The display label of a choice value from a ``{value: label}`` mapping (the value if unknown)."""
    return labels.get(value, value) if hasattr(labels, "get") else value
