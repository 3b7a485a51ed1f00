"""The single-value rules the services, forms and the import share."""

from decimal import Decimal

import pytest

from contributions import rules


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1250000.00", None),
        ("9999999999999999.99", None),
        ("0", "greater than zero"),
        ("-10", "greater than zero"),
        ("1.005", "two decimal places"),
        ("NaN", "Enter a number"),
        ("Infinity", "Enter a number"),
        ("abc", "Enter a number"),
        # 40 digits: quantizing it to cents overflows Decimal's context (a 500 on the disbursement form).
        ("9" * 40, "too large"),
        ("1E+30", "too large"),
    ],
)
def test_amount_rule(value, problem):
    found = rules.amount_problem(value)
    if problem is None:
        assert found is None
    else:
        assert problem in str(found)


def test_amount_rule_takes_decimals_as_well_as_text():
    assert rules.amount_problem(Decimal("10.50")) is None
