"""Template filters for money and shares, localised and rounded one way (coalition.numbers):
{% load portal %} {{ value|money }} {{ value|money_short }} {{ share|percent }} {{ x|svg_number }}."""

from decimal import Decimal, InvalidOperation

from django import template

from coalition import numbers

register = template.Library()


def _or_text(function, value, *args):
    """``function(value, *args)`` for a number; "—" for nothing; any other text unchanged."""
    if value is None or value == "":
        return "—"
    if numbers.as_decimal(value) is None:
        return value
    return function(value, *args)


@register.filter
def money(value, places=2):
    """A Decimal amount with the locale's separators and grouping, rounded half up:
    1,234,567.89 / 1 234 567,89."""
    return _or_text(numbers.money, value, int(places))


@register.filter
def money_short(value):
    """An amount as the charts print it: 18.5 M / 18,5 млн."""
    return _or_text(numbers.money_short, value)


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
    """A Decimal fraction (0.4567) as a localised percentage, rounded half up (45.7 %)."""
    return _or_text(numbers.percent, fraction, int(places))


@register.filter
def money_change(value, places=2):
    """A change of an amount, signed: +3,000,000.00 / 0.00."""
    return numbers.change(money(value, places), value)


@register.filter
def money_short_change(value):
    """A change of an amount as the charts print amounts, signed: +5.5 M / 0."""
    return numbers.change(money_short(value), value)


@register.filter
def svg_number(value, places=1):
    """A number for an SVG attribute: '.' as decimal point in every language (never "100,0")."""
    return numbers.svg_number(value, int(places))


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
