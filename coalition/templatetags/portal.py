"""Template filters for money and shares, localised: {% load portal %} {{ value|money }} {{ share|percent }}."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from django import template
from django.utils import formats, translation

register = template.Library()


@lru_cache(maxsize=32)
def _separators_of(language):
    """A language's decimal and thousand separators when it groups digits by three (None otherwise)."""
    with translation.override(language):
        if formats.get_format("NUMBER_GROUPING") != 3:
            return None
        return formats.get_format("DECIMAL_SEPARATOR"), formats.get_format("THOUSAND_SEPARATOR")


def _separators():
    return _separators_of(translation.get_language())


@register.filter
def money(value, places=2):
    """A Decimal amount with the locale's separators and grouping: 1,234,567.89 / 1 234 567,89.

    Rounded half up. Python's own grouping, then the locale's separators: the dashboard prints
    hundreds of amounts, and this is several times faster than number_format.
    """
    if value is None or value == "":
        return "—"
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return value
    separators = _separators()
    if separators is None:
        return formats.number_format(value, int(places), use_l10n=True, force_grouping=True)
    decimal_separator, thousand_separator = separators
    places = int(places)
    text = f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,.{places}f}"
    return text.replace(",", "\x00").replace(".", decimal_separator).replace("\x00", thousand_separator)


@register.filter
def rate(value):
    """An exchange rate as published, its stored zeros trimmed (1.08130000 reads 1.0813, 160.2 reads
    160.20), localised like ``money``: at least two decimals, at most the eight stored."""
    if value is None or value == "":
        return "—"
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return value
    exponent = value.normalize().as_tuple().exponent
    return money(value, min(8, max(2, -exponent if isinstance(exponent, int) else 2)))


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


@register.simple_tag
def filters_set(form, request):
    """How many of the form's visible fields the request sets (the sort order is not a filter): a list
    page folds its filter away once one is set."""
    return sum(
        1
        for field in form.visible_fields()
        if field.name != "ordering" and any(value.strip() for value in request.GET.getlist(field.html_name))
    )
