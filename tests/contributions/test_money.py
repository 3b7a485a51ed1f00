"""Money: EUR values equal the ECB reference rate of the date to the cent, and no float touches them.

Expected figures are worked out by hand from the ECB's published rates (tests/factories.py ECB_RATES,
which are the real eurofxref-hist values), so a wrong rate lookup or rounding shows as a wrong cent.
"""

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from contributions import services
from contributions.models import ExchangeRate, Pledge
from contributions.rates import MAX_RATE_AGE, convert, to_eur
from tests import factories

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _eur(amount, currency, on_date, **explicit):
    return convert(amount=Decimal(amount), currency=currency, on_date=on_date, **explicit)


# --- The ECB rate of the date --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "on_date", "rate", "expected"),
    [
        ("1000000", "USD", date(2024, 2, 2), "1.0883", "918864.28"),
        ("2500000", "GBP", date(2024, 2, 2), "0.85263", "2932104.20"),
        ("10000000", "DKK", date(2024, 2, 2), "7.4540", "1341561.58"),
        ("159580000", "JPY", date(2024, 2, 2), "159.58", "1000000.00"),
        ("1000000", "USD", date(2024, 3, 28), "1.0811", "924983.81"),
        ("1234567.89", "USD", date(2024, 5, 31), "1.0852", "1137640.89"),
        ("1000000", "ISK", date(2024, 2, 2), "148.30", "6743.09"),
    ],
)
def test_weekday_conversion_uses_that_days_rate(rates, amount, currency, on_date, rate, expected):
    conversion = _eur(amount, currency, on_date)
    assert conversion.rate == Decimal(rate)
    assert conversion.rate_date == on_date
    assert conversion.source == "ECB"
    assert conversion.amount_eur == Decimal(expected)


@pytest.mark.parametrize("weekend_day", [date(2024, 2, 3), date(2024, 2, 4)])
def test_weekend_uses_the_previous_fridays_rate(rates, weekend_day):
    conversion = _eur("1000000", "USD", weekend_day)
    assert (conversion.rate_date, conversion.rate, conversion.amount_eur) == (
        date(2024, 2, 2),
        Decimal("1.0883"),
        Decimal("918864.28"),
    )


@pytest.mark.parametrize("holiday", [date(2024, 3, 29), date(2024, 3, 30), date(2024, 3, 31), date(2024, 4, 1)])
def test_easter_holidays_use_maundy_thursdays_rate(rates, holiday):
    # The ECB published again on Tuesday 2 April 2024 (USD 1.0749).
    ExchangeRate.objects.create(currency="USD", date=date(2024, 4, 2), rate=Decimal("1.0749"))
    conversion = _eur("1000000", "USD", holiday)
    assert (conversion.rate_date, conversion.amount_eur) == (date(2024, 3, 28), Decimal("924983.81"))
    after = _eur("1000000", "USD", date(2024, 4, 2))
    assert (after.rate_date, after.amount_eur) == (date(2024, 4, 2), Decimal("930319.10"))


def test_a_rate_up_to_fourteen_days_old_is_used(rates):
    assert MAX_RATE_AGE.days == 14
    conversion = _eur("1000000", "USD", date(2024, 2, 16))
    assert conversion.rate_date == date(2024, 2, 2)


def test_a_gap_of_more_than_fourteen_days_is_refused(rates):
    with pytest.raises(ValidationError) as excinfo:
        _eur("1000000", "USD", date(2024, 2, 17))
    message = " ".join(excinfo.value.message_dict["exchange_rate"])
    assert "USD" in message
    assert "2024-02-17" in message


def test_a_later_rate_is_never_used(rates):
    with pytest.raises(ValidationError):
        _eur("1000000", "USD", date(2024, 2, 1))


def test_a_currency_without_ecb_rate_is_refused_naming_currency_and_date(rates):
    with pytest.raises(ValidationError) as excinfo:
        _eur("40500000", "UAH", date(2024, 2, 2))
    message = " ".join(excinfo.value.message_dict["exchange_rate"])
    assert "UAH" in message
    assert "2024-02-02" in message


def test_a_pledge_in_such_a_currency_is_refused_with_that_message(coalition, member_a, secretariat, rates):
    with pytest.raises(ValidationError) as excinfo:
        factories.make_pledge(coalition=coalition, member=member_a, currency="UAH", amount=Decimal("1000.00"))
    assert "UAH" in str(excinfo.value)
    assert "2024-02-02" in str(excinfo.value)
    assert not Pledge.objects.exists()


# --- Explicit rates ------------------------------------------------------------------------------


def test_an_explicit_rate_with_its_source_is_accepted(coalition, member_a, secretariat):
    pledge = factories.make_pledge(
        coalition=coalition,
        member=member_a,
        acting_user=secretariat,
        currency="UAH",
        amount=Decimal("40500000.00"),
        exchange_rate=Decimal("40.5"),
        exchange_rate_source="National Bank of Ukraine, 2 February 2024",
    )
    pledge.refresh_from_db()
    assert pledge.amount_eur == Decimal("1000000.00")
    assert pledge.exchange_rate == Decimal("40.5")
    assert pledge.exchange_rate_date == date(2024, 2, 2)
    assert pledge.exchange_rate_source == "National Bank of Ukraine, 2 February 2024"


@pytest.mark.parametrize("source", ["", "   "])
def test_an_explicit_rate_needs_its_source(source):
    with pytest.raises(ValidationError) as excinfo:
        _eur("100", "UAH", date(2024, 2, 2), explicit_rate=Decimal("40.5"), explicit_source=source)
    assert "UAH" in " ".join(excinfo.value.message_dict["exchange_rate_source"])


@pytest.mark.parametrize("rate", [Decimal("0"), Decimal("-40.5")])
def test_an_explicit_rate_must_be_positive(rate):
    with pytest.raises(ValidationError) as excinfo:
        _eur("100", "UAH", date(2024, 2, 2), explicit_rate=rate, explicit_source="NBU")
    assert "exchange_rate" in excinfo.value.message_dict


def test_an_explicit_rate_differing_from_the_ecbs_is_refused(rates):
    with pytest.raises(ValidationError) as excinfo:
        _eur("1000000", "USD", date(2024, 2, 2), explicit_rate=Decimal("1.1"), explicit_source="My bank")
    message = " ".join(excinfo.value.message_dict["exchange_rate"])
    assert "1.0883" in message
    assert "2024-02-02" in message


def test_an_explicit_rate_equal_to_the_ecbs_is_the_ecbs(rates):
    conversion = _eur("1000000", "USD", date(2024, 2, 2), explicit_rate=Decimal("1.0883"), explicit_source="Copied")
    assert (conversion.source, conversion.amount_eur) == ("ECB", Decimal("918864.28"))


def test_conversion_rounds_half_up_to_the_cent():
    conversion = _eur("0.05", "UAH", date(2024, 2, 2), explicit_rate=Decimal("2"), explicit_source="Test")
    assert conversion.amount_eur == Decimal("0.03")
    assert to_eur(Decimal("0.05"), Decimal("2")) == Decimal("0.03")
    assert to_eur(Decimal("0.07"), Decimal("2")) == Decimal("0.04")


def test_eur_is_one_and_needs_no_rate():
    assert not ExchangeRate.objects.exists()
    conversion = _eur("1234.56", "EUR", date(2030, 1, 1))
    assert (conversion.rate, conversion.amount_eur, conversion.rate_date) == (
        Decimal(1),
        Decimal("1234.56"),
        date(2030, 1, 1),
    )


def test_an_unknown_currency_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        _eur("1", "XYZ", date(2024, 2, 2))
    assert "XYZ" in " ".join(excinfo.value.message_dict["currency"])


# --- Stored on the pledge, and recomputed when it should be --------------------------------------


@pytest.fixture
def usd_pledge(coalition, member_a, rates):
    return factories.make_pledge(
        coalition=coalition,
        member=member_a,
        amount=Decimal("1000000.00"),
        currency="USD",
        announced_on=date(2024, 2, 2),
    )


def test_the_pledge_stores_value_rate_and_date_as_decimals(usd_pledge):
    pledge = Pledge.objects.get(pk=usd_pledge.pk)
    assert isinstance(pledge.amount_eur, Decimal)
    assert isinstance(pledge.exchange_rate, Decimal)
    assert pledge.amount_eur == Decimal("918864.28")
    assert pledge.amount_eur.as_tuple().exponent == -2
    assert (pledge.exchange_rate, pledge.exchange_rate_date) == (Decimal("1.0883"), date(2024, 2, 2))


def test_recomputed_when_the_amount_changes(usd_pledge):
    services.pledge_update(acting_user=None, pledge=usd_pledge, amount=Decimal("2000000.00"))
    assert Pledge.objects.get(pk=usd_pledge.pk).amount_eur == Decimal("1837728.57")


def test_recomputed_when_the_currency_changes(usd_pledge):
    services.pledge_update(acting_user=None, pledge=usd_pledge, currency="GBP")
    pledge = Pledge.objects.get(pk=usd_pledge.pk)
    assert (pledge.exchange_rate, pledge.amount_eur) == (Decimal("0.85263"), Decimal("1172841.68"))


def test_recomputed_when_the_announcement_date_changes(usd_pledge):
    services.pledge_update(acting_user=None, pledge=usd_pledge, announced_on=date(2024, 4, 1))
    pledge = Pledge.objects.get(pk=usd_pledge.pk)
    assert (pledge.exchange_rate_date, pledge.amount_eur) == (date(2024, 3, 28), Decimal("924983.81"))


def test_changing_to_eur_makes_the_rate_one(usd_pledge):
    services.pledge_update(acting_user=None, pledge=usd_pledge, currency="EUR")
    pledge = Pledge.objects.get(pk=usd_pledge.pk)
    assert (pledge.exchange_rate, pledge.amount_eur) == (Decimal(1), Decimal("1000000.00"))


def test_not_recomputed_when_other_fields_change(usd_pledge):
    # Even if the rate table were corrected later, editing the title keeps the stored conversion.
    ExchangeRate.objects.filter(currency="USD", date=date(2024, 2, 2)).update(rate=Decimal("2"))
    services.pledge_update(acting_user=None, pledge=usd_pledge, title="Renamed", description="More words")
    pledge = Pledge.objects.get(pk=usd_pledge.pk)
    assert (pledge.exchange_rate, pledge.amount_eur) == (Decimal("1.0883"), Decimal("918864.28"))
    # ...while a change of amount takes the rate as it stands now.
    services.pledge_update(acting_user=None, pledge=pledge, amount=Decimal("1000000.02"))
    assert Pledge.objects.get(pk=usd_pledge.pk).amount_eur == Decimal("500000.01")


def test_an_explicit_rate_is_kept_when_only_the_amount_changes(coalition, member_a):
    pledge = factories.make_pledge(
        coalition=coalition,
        member=member_a,
        currency="UAH",
        amount=Decimal("40500000.00"),
        exchange_rate=Decimal("40.5"),
        exchange_rate_source="NBU",
    )
    services.pledge_update(acting_user=None, pledge=pledge, amount=Decimal("81000000.00"))
    pledge.refresh_from_db()
    assert (pledge.exchange_rate, pledge.exchange_rate_source, pledge.amount_eur) == (
        Decimal("40.5"),
        "NBU",
        Decimal("2000000.00"),
    )
    # A new date needs the rate of that date, given again.
    with pytest.raises(ValidationError):
        services.pledge_update(acting_user=None, pledge=pledge, announced_on=date(2024, 3, 1))


def test_an_explicit_rate_can_be_corrected(coalition, member_a):
    pledge = factories.make_pledge(
        coalition=coalition,
        member=member_a,
        currency="UAH",
        amount=Decimal("40500000.00"),
        exchange_rate=Decimal("40.5"),
        exchange_rate_source="NBU",
    )
    services.pledge_update(
        acting_user=None, pledge=pledge, exchange_rate=Decimal("45"), exchange_rate_source="NBU, corrected"
    )
    pledge.refresh_from_db()
    assert (pledge.amount_eur, pledge.exchange_rate_source) == (Decimal("900000.00"), "NBU, corrected")


# --- No float anywhere ---------------------------------------------------------------------------


def test_convert_refuses_floats():
    with pytest.raises(TypeError):
        convert(amount=1000.0, currency="EUR", on_date=date(2024, 2, 2))
    with pytest.raises(TypeError):
        convert(amount=Decimal("1000"), currency="UAH", on_date=date(2024, 2, 2), explicit_rate=40.5)


def test_every_money_service_refuses_floats(coalition, member_a, secretariat):
    pledge = factories.make_pledge(coalition=coalition, member=member_a, status="confirmed")
    priority = services.priority_create(
        acting_user=None, coalition=coalition, title="Laptops", estimated_cost_eur=Decimal("10.00")
    )
    calls = [
        lambda: factories.make_pledge(coalition=coalition, member=member_a, amount=100.0),
        lambda: services.pledge_update(acting_user=None, pledge=pledge, amount=100.0),
        lambda: services.disbursement_record(acting_user=None, pledge=pledge, amount=1.0, date=date(2024, 3, 1)),
        lambda: services.allocation_set(acting_user=None, pledge=pledge, priority=priority, amount_eur=1.0),
        lambda: services.priority_create(acting_user=None, coalition=coalition, title="X", estimated_cost_eur=1.0),
        lambda: services.priority_update(acting_user=None, priority=priority, estimated_cost_eur=1.0),
    ]
    for call in calls:
        with pytest.raises(TypeError):
            call()


FLOAT_CALL = re.compile(r"\bfloat\s*\(")


def test_no_float_conversion_in_the_money_path():
    paths = [ROOT / "contributions" / "rates.py", *sorted((ROOT / "contributions" / "services").glob("*.py"))]
    assert len(paths) >= 5
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in paths
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if FLOAT_CALL.search(line)
    ]
    assert offenders == []


def test_the_float_check_would_catch_one():
    assert FLOAT_CALL.search("amount_eur = float(amount) / rate")
    assert FLOAT_CALL.search("x = float (y)")
    assert not FLOAT_CALL.search("if isinstance(value, float):")


def test_sums_keep_their_cents_on_every_database(coalition, member_a, member_b, secretariat, rates):
    """SQLite gives SUM(numeric) without its scale (500000, not 500000.00); every EUR aggregate goes
    through euro_sum so the API, CSV exports and emails print the same figures on both databases."""
    from contributions import selectors
    from contributions.models import PriorityPurchase
    from reports.selectors import coalition_summary

    pledge = factories.make_pledge(
        coalition=coalition, member=member_b, amount=Decimal("500000"), currency="EUR", status="confirmed"
    )
    priority = services.priority_create(
        acting_user=None, coalition=coalition, title="Servers", estimated_cost_eur=Decimal("2000000")
    )
    services.allocation_set(acting_user=None, pledge=pledge, priority=priority, amount_eur=Decimal("500000"))

    row = selectors.with_coverage(PriorityPurchase.objects.filter(pk=priority.pk)).get()
    assert (str(row.allocated_eur), str(row.gap_eur)) == ("500000.00", "1500000.00")
    empty = services.priority_create(acting_user=None, coalition=coalition, title="Radios", estimated_cost_eur=1)
    assert str(selectors.with_coverage(PriorityPurchase.objects.filter(pk=empty.pk)).get().allocated_eur) == "0.00"

    summary = coalition_summary(coalition)
    assert (str(summary.total_eur), str(summary.confirmed_eur)) == ("500000.00", "500000.00")
    assert str(summary.by_member[0].total_eur) == "500000.00"
    assert str(summary.priorities[0].allocated_eur) == "500000.00"
