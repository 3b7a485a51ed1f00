"""The rules a single value must meet, each a function returning the problem (a message) or None, so
the services (which decide), the forms and the spreadsheet import (which report every problem of a
form or row in one round, before a service would stop at the first) say the same thing.

Rules that need the database (a member of the coalition, an ECB rate of the day) stay in the services.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CENT = Decimal("0.01")


def amount_problem(value):
    """An amount of money: a finite number above zero with at most two decimal places."""
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return _("Enter a number such as 1250000.00.")
    if not value.is_finite():
        return _("Enter a number such as 1250000.00.")
    if value <= 0:
        return _("The amount must be greater than zero.")
    if value.adjusted() >= 16:  # the columns hold 18 digits, two of them cents (quantize would overflow)
        return _("Ensure that there are no more than 16 digits before the decimal point.")
    if value != value.quantize(CENT):
        return _("Amounts have at most two decimal places.")
    return None


def rate_problem(value):
    """An exchange rate given by hand: units of the currency per EUR, above zero."""
    if value is not None and Decimal(value) <= 0:
        return _("The exchange rate must be greater than zero.")
    return None


def dates_problem(announced_on, confirmed_on):
    """A pledge is confirmed on or after the day it was announced."""
    if announced_on is not None and confirmed_on is not None and confirmed_on < announced_on:
        return _("A pledge cannot be confirmed before it was announced.")
    return None


def as_validator(rule):
    """A form field validator from a rule (forms check each field on its own, so a form reports every
    field's problem in one round)."""

    def validate(value):
        if value is None:
            return
        problem = rule(value)
        if problem:
            raise ValidationError(problem, code="invalid")

    validate.__name__ = f"validate_{rule.__name__}"
    return validate


validate_amount = as_validator(amount_problem)
validate_rate = as_validator(rate_problem)
