"""The demo's country members carry real ISO 3166-1 codes and the names CLDR (through Babel) gives
them in English, so the hand-written list in demo/data.py cannot drift from the standard."""

from babel import Locale

from demo.data import MEMBERS


def test_each_country_of_the_demo_has_its_iso_code_and_its_cldr_english_name():
    territories = Locale("en").territories
    countries = [(code, name) for code, name, kind in MEMBERS if kind == "country"]

    assert countries
    assert [(code, territories.get(code)) for code, _name in countries] == countries
