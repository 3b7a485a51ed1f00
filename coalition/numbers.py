"""Every number the portal prints, formatted one way: rounded half up (never truncated), with the
active language's separators, so a chart label and the table beside it always show the same figure.

Django's ``number_format`` cuts decimals off (18.459 M printed as "18.4 M", 53.699 % as "53.6 %");
these functions round first, then localise. ``svg_number`` writes coordinates for SVG attributes,
which must never be localised ("100,0" is not a length).
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from django.utils import formats, translation
from django.utils.translation import gettext as _

#: Short units of money_short: (scale, decimals, smallest magnitude that uses it).
_UNITS = (
    (Decimal("1e9"), 1, Decimal("1e9")),
    (Decimal("1e6"), 1, Decimal("1e6")),
    (Decimal("1e3"), 0, Decimal("1e4")),
)


def as_decimal(value):
    """``value`` as a Decimal, or None for what is not a number (None, "", text)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None


def rounded(value, places=0):
    """``value`` rounded half up to ``places`` decimals (a Decimal)."""
    return Decimal(value).quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP)


@lru_cache(maxsize=32)
def _separators_of(language):
    """A language's decimal and thousand separators, and whether it groups digits by three."""
    with translation.override(language):
        return (
            formats.get_format("DECIMAL_SEPARATOR"),
            formats.get_format("THOUSAND_SEPARATOR"),
            formats.get_format("NUMBER_GROUPING") == 3,
        )


def number(value, places=0, *, grouping=True):
    """``value`` rounded half up to ``places`` decimals, with the active language's separators:
    1,234,567.89 in English, 1 234 567,89 in Ukrainian."""
    value = rounded(value, places)
    if value == 0:
        value = abs(value)  # no "-0.0"
    decimal_separator, thousand_separator, by_three = _separators_of(translation.get_language())
    if not by_three:
        return formats.number_format(value, int(places), use_l10n=True, force_grouping=grouping)
    text = f"{value:,.{int(places)}f}" if grouping else f"{value:.{int(places)}f}"
    return text.replace(",", "\x00").replace(".", decimal_separator).replace("\x00", thousand_separator)


def money(value, places=2):
    """A full amount: 53,699,692.00 (the unit, EUR, is written by the caller)."""
    value = as_decimal(value)
    return "—" if value is None else number(value, places)


def money_short(value):
    """An amount as charts and headline figures print it: 18.5 M, 850 k, 1,234 (rounded half up;
    a value that rounds up to the next unit takes it: 999,960 is 1.0 M, not 1,000 k)."""
    value = as_decimal(value)
    if value is None:
        return "—"
    magnitude = abs(value)
    for index, (scale, places, smallest) in enumerate(_UNITS):
        if magnitude < smallest:
            continue
        if index and abs(rounded(value / scale, places)) >= 1000:
            scale, places, _smallest = _UNITS[index - 1]
        return _unbroken(_short_label(scale) % {"value": number(value / scale, places)})
    return number(value, 0)


def _unbroken(text):
    """A figure and its unit kept on one line (18.5 M, 53.7 %): the space becomes a no-break space."""
    return text.replace(" ", "\u00a0")


def _short_label(scale):
    # Translated outside f-strings: xgettext does not read f-string fields.
    if scale == Decimal("1e9"):
        return _("%(value)s bn")
    if scale == Decimal("1e6"):
        return _("%(value)s M")
    return _("%(value)s k")


def percent(fraction, places=1):
    """A fraction (0.53699) as a percentage, rounded half up: 53.7 % / 53,7 % (no-break space)."""
    value = as_decimal(fraction)
    if value is None:
        return "—"
    return _unbroken(_("%(value)s %%") % {"value": number(value * 100, places)})


def change(text, value):
    """``text`` (a formatted ``value``) marked as a change: "+5.5 M" when it grew, unchanged for zero
    or a fall (which carries its own minus sign)."""
    return f"+{text}" if as_decimal(value) and as_decimal(value) > 0 else text


def svg_number(value, places=1):
    """A coordinate or length for an SVG attribute: rounded half up to ``places`` decimals, '.' as
    decimal point and no grouping whatever the language ("100.0", never "100,0" or "1 000")."""
    value = rounded(as_decimal(value) or 0, places)
    return f"{abs(value) if value == 0 else value:.{int(places)}f}"
