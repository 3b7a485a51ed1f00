"""import_rates and the ECB rates service: idempotent, fast, refuses a malformed file whole, and the
conversions that follow from the imported rates."""

import io
import time
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from contributions.models import ExchangeRate
from contributions.rates import convert
from contributions.services import exchange_rates_import
from contributions.services.rates import parse_rates, shipped_rates_file

# Real ECB reference rates (eurofxref-hist), in the ECB's own layout: newest first, N/A for
# currencies not quoted that day, and a trailing comma on every line.
ECB_CSV = """Date,USD,JPY,GBP,CYP,
2024-04-03,1.0783,163.66,0.85713,N/A,
2024-04-02,1.0749,163.01,0.8551,N/A,
2024-03-28,1.0811,163.45,0.8551,N/A,
2024-03-27,1.0816,163.52,0.85768,N/A,
2024-02-05,1.0746,159.72,0.85595,N/A,
2024-02-02,1.0883,159.58,0.85263,N/A,
2024-02-01,1.0814,158.96,0.85353,N/A,
"""
ROWS_IN_CSV = 7 * 3


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "eurofxref-hist.csv"
    path.write_text(ECB_CSV)
    return path


@pytest.fixture
def zip_file(tmp_path):
    path = tmp_path / "eurofxref-hist.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("eurofxref-hist.csv", ECB_CSV)
    return path


def snapshot():
    return sorted(ExchangeRate.objects.values_list("pk", "currency", "date", "rate", "source"))


def test_import_csv_stores_every_quoted_rate_as_decimal_from_the_text(db, csv_file):
    result = exchange_rates_import(file=csv_file)

    assert (result.inserted, result.updated, result.unchanged) == (ROWS_IN_CSV, 0, 0)
    assert (result.days, result.currencies) == (7, 3)
    assert (result.first_date, result.last_date) == (date(2024, 2, 1), date(2024, 4, 3))
    assert ExchangeRate.objects.count() == ROWS_IN_CSV
    assert not ExchangeRate.objects.filter(currency="CYP").exists(), "N/A is no rate"
    gbp = ExchangeRate.objects.get(currency="GBP", date=date(2024, 2, 2))
    assert gbp.rate == Decimal("0.85263")
    assert gbp.source == "ECB"


def test_parsed_rates_are_the_exact_decimals_written_in_the_file():
    rates = parse_rates(ECB_CSV.splitlines())

    assert all(type(rate) is Decimal for rate in rates.values())
    assert str(rates[("GBP", date(2024, 2, 2))]) == "0.85263"
    assert str(rates[("JPY", date(2024, 3, 28))]) == "163.45"


def test_import_twice_leaves_the_same_rows(db, csv_file):
    exchange_rates_import(file=csv_file)
    before = snapshot()

    again = exchange_rates_import(file=csv_file)

    assert snapshot() == before
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, ROWS_IN_CSV)


def test_zip_imports_the_same_rows_as_the_csv(db, csv_file, zip_file):
    exchange_rates_import(file=zip_file)
    from_zip = snapshot()

    result = exchange_rates_import(file=csv_file)

    assert result.unchanged == ROWS_IN_CSV
    assert snapshot() == from_zip


def test_a_corrected_rate_is_updated_in_place(db, csv_file, tmp_path):
    exchange_rates_import(file=csv_file)
    row = ExchangeRate.objects.get(currency="USD", date=date(2024, 2, 2))
    corrected = tmp_path / "corrected.csv"
    corrected.write_text(ECB_CSV.replace("2024-02-02,1.0883,", "2024-02-02,1.0884,"))

    result = exchange_rates_import(file=corrected)

    assert (result.inserted, result.updated, result.unchanged) == (0, 1, ROWS_IN_CSV - 1)
    row.refresh_from_db()
    assert row.rate == Decimal("1.0884")
    assert ExchangeRate.objects.count() == ROWS_IN_CSV


def test_since_imports_only_the_later_days(db, csv_file):
    result = exchange_rates_import(file=csv_file, since=date(2024, 3, 28))

    assert result.days == 3
    assert ExchangeRate.objects.filter(date__lt=date(2024, 3, 28)).count() == 0
    assert ExchangeRate.objects.count() == 9


def test_trailing_zeros_beyond_eight_places_are_not_refused(db):
    exchange_rates_import(lines=["Date,USD,", "2024-03-28,1.081100000000,"])

    assert ExchangeRate.objects.get(currency="USD", date=date(2024, 3, 28)).rate == Decimal("1.0811")


def test_the_daily_file_layout_is_read_too(db):
    daily = "Date, USD, JPY, \n28 March 2024, 1.0811, 163.45, \n"

    exchange_rates_import(lines=daily.splitlines())

    assert ExchangeRate.objects.get(currency="JPY", date=date(2024, 3, 28)).rate == Decimal("163.45")


GOOD_LINE = "2024-03-28,1.0811,163.45,0.8551,N/A,"
MALFORMED = [
    pytest.param("2024-13-01,1.0816,163.52,0.85768,N/A,", "is not a date", id="bad-date"),
    pytest.param("2024-03-27,1,0816,163.52,0.85768,N/A,", "7 columns where the header has 6", id="column-count"),
    pytest.param("2024-03-27,1.0816,abc,0.85768,N/A,", "JPY: 'abc' is not a number", id="non-numeric"),
    pytest.param(
        "2024-03-27,-1.0816,163.52,0.85768,N/A,", "USD: the rate -1.0816 is not greater than zero", id="negative"
    ),
    pytest.param("2024-03-27,0,163.52,0.85768,N/A,", "not greater than zero", id="zero"),
    pytest.param("2024-03-28,1.0816,163.52,0.85768,N/A,", "2024-03-28 appears twice", id="duplicate-day"),
    pytest.param("2024-03-27,1.081612345,163.52,0.85768,N/A,", "more than 8 decimal places", id="too-precise"),
    pytest.param("2024-03-27,1.0816,163.52,0.85768,N/A,7", "last column", id="value-without-currency"),
]


@pytest.mark.parametrize(("bad_line", "what"), MALFORMED)
def test_a_malformed_file_is_refused_whole_with_its_line_number(db, tmp_path, bad_line, what):
    path = tmp_path / "broken.csv"
    # Good rows come before and after the bad one: none of them may be written.
    path.write_text(
        "Date,USD,JPY,GBP,CYP,\n" + GOOD_LINE + "\n" + bad_line + "\n2024-02-01,1.0814,158.96,0.85353,N/A,\n"
    )

    with pytest.raises(ValidationError) as refused:
        exchange_rates_import(file=path)

    message = " ".join(refused.value.messages)
    assert message.startswith("broken.csv line 3: ")
    assert what in message
    assert ExchangeRate.objects.count() == 0


def test_a_malformed_file_leaves_existing_rates_untouched(db, csv_file, tmp_path):
    exchange_rates_import(file=csv_file)
    before = snapshot()
    broken = tmp_path / "broken.csv"
    broken.write_text("Date,USD,\n2024-04-03,1.5,\n2024-04-02,oops,\n")

    with pytest.raises(ValidationError, match="line 3"):
        exchange_rates_import(file=broken)

    assert snapshot() == before


@pytest.mark.parametrize(
    ("content", "what"),
    [
        ("", "empty"),
        ("Day,USD,\n2024-04-03,1.5,\n", "header"),
        ("Date,usd,\n2024-04-03,1.5,\n", "currency code"),
    ],
)
def test_a_file_without_a_proper_header_is_refused_at_line_1(db, tmp_path, content, what):
    path = tmp_path / "header.csv"
    path.write_text(content)

    with pytest.raises(ValidationError) as refused:
        exchange_rates_import(file=path)

    assert "line 1" in refused.value.messages[0]
    assert what in refused.value.messages[0]


def test_a_zip_without_one_csv_is_refused(db, tmp_path):
    path = tmp_path / "empty.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "no rates here")

    with pytest.raises(ValidationError, match="one CSV"):
        exchange_rates_import(file=path)


def test_a_partner_may_not_import_rates(db, partner, csv_file):
    with pytest.raises(PermissionDenied):
        exchange_rates_import(acting_user=partner, file=csv_file)
    assert ExchangeRate.objects.count() == 0


def test_the_secretariat_may_import_rates(db, secretariat, csv_file):
    assert exchange_rates_import(acting_user=secretariat, file=csv_file).inserted == ROWS_IN_CSV


# --- The command ------------------------------------------------------------------------------------


def test_command_reports_inserted_updated_unchanged_and_time(db, csv_file):
    out = io.StringIO()
    call_command("import_rates", str(csv_file), stdout=out)
    call_command("import_rates", str(csv_file), stdout=out)

    first, second = out.getvalue().strip().splitlines()
    assert f"{ROWS_IN_CSV} inserted, 0 updated, 0 unchanged" in first
    assert f"0 inserted, 0 updated, {ROWS_IN_CSV} unchanged" in second
    assert " s." in second
    assert "7 days (2024-02-01 to 2024-04-03)" in first


def test_command_refuses_a_malformed_file_naming_the_line(db, tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("Date,USD,\n2024-04-03,1.5,\n2024-04-02,-3,\n")

    with pytest.raises(CommandError, match=r"broken.csv line 3: USD: the rate -3 is not greater than zero"):
        call_command("import_rates", str(path))
    assert ExchangeRate.objects.count() == 0


def test_command_names_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_rates", str(tmp_path / "nowhere.csv"))


def test_command_since_option(db, csv_file):
    call_command("import_rates", str(csv_file), "--since", "2024-04-01", stdout=io.StringIO())
    assert set(ExchangeRate.objects.values_list("date", flat=True)) == {date(2024, 4, 2), date(2024, 4, 3)}

    with pytest.raises(CommandError, match="not a date"):
        call_command("import_rates", str(csv_file), "--since", "yesterday")


@pytest.mark.slow
def test_the_shipped_history_loads_fast_and_twice_changes_nothing(db):
    assert shipped_rates_file().is_file()
    started = time.perf_counter()
    first = exchange_rates_import()
    elapsed = time.perf_counter() - started

    assert first.days > 6000
    assert first.inserted > 150_000
    assert elapsed < 60, f"the full ECB history took {elapsed:.1f} s"
    assert ExchangeRate.objects.get(currency="USD", date=date(2024, 3, 28)).rate == Decimal("1.0811")
    count = ExchangeRate.objects.count()

    second = exchange_rates_import()

    assert (second.inserted, second.updated, second.unchanged) == (0, 0, first.inserted)
    assert ExchangeRate.objects.count() == count


# --- Conversions from the imported rates ----------------------------------------------------------------


@pytest.fixture
def imported(db, csv_file):
    return exchange_rates_import(file=csv_file)


def test_weekday_uses_that_days_ecb_rate_to_the_cent(imported):
    conversion = convert(amount=Decimal("1000000.00"), currency="USD", on_date=date(2024, 2, 2))

    assert conversion.rate == Decimal("1.0883")
    assert conversion.rate_date == date(2024, 2, 2)
    # 1,000,000 / 1.0883 = 918864.284..., rounded half up to the cent.
    assert conversion.amount_eur == Decimal("918864.28")
    assert conversion.source == "ECB"


def test_weekend_uses_the_previous_fridays_rate(imported):
    conversion = convert(amount=Decimal("500000.00"), currency="GBP", on_date=date(2024, 2, 4))

    assert conversion.rate_date == date(2024, 2, 2)
    assert conversion.rate == Decimal("0.85263")
    # 500,000 / 0.85263 = 586420.8390...
    assert conversion.amount_eur == Decimal("586420.84")


@pytest.mark.parametrize("holiday", [date(2024, 3, 29), date(2024, 4, 1)], ids=["good-friday", "easter-monday"])
def test_holiday_uses_the_last_rate_before_it(imported, holiday):
    conversion = convert(amount=Decimal("163450.00"), currency="JPY", on_date=holiday)

    assert conversion.rate_date == date(2024, 3, 28)
    assert conversion.amount_eur == Decimal("1000.00")


def test_missing_currency_is_refused_naming_currency_and_date(imported):
    with pytest.raises(ValidationError) as refused:
        convert(amount=Decimal("1000.00"), currency="UAH", on_date=date(2024, 3, 28))

    message = " ".join(refused.value.messages)
    assert "UAH" in message
    assert "2024-03-28" in message


def test_explicit_rate_is_accepted_for_a_currency_the_ecb_does_not_publish(imported):
    conversion = convert(
        amount=Decimal("4200000.00"),
        currency="UAH",
        on_date=date(2024, 3, 28),
        explicit_rate=Decimal("42.0"),
        explicit_source="National Bank of Ukraine, 28 March 2024",
    )

    assert conversion.amount_eur == Decimal("100000.00")
    assert conversion.rate == Decimal("42.0")
    assert conversion.source == "National Bank of Ukraine, 28 March 2024"
