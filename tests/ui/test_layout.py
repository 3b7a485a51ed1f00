"""What makes the pages fit a phone and read in plain words, checked in the HTML (the browser walk,
tests/test_browser_walk.py, measures them): tables scroll in a labelled, focusable region, the filter
folds away once used, sort and filter labels say what they do in both languages while the API keeps
its technical descriptions, and the secretariat finds the delivery log in the navigation."""

import re

import pytest

pytestmark = pytest.mark.django_db


def page(client, user, url, language="en", **params):
    client.force_login(user)
    response = client.get(url, params, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, url
    return response.content.decode()


def options_of(html, name):
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    return dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1)))


@pytest.mark.parametrize("url", ["/pledges/", "/priorities/", "/meetings/", "/reports/deliveries/"])
def test_every_table_of_a_list_scrolls_inside_a_labelled_focusable_region(client, secretariat, url):
    html = page(client, secretariat, url)
    tables = html.count("<table")
    regions = re.findall(r'<div class="table-scroll" tabindex="0" role="region" aria-label="([^"]+)">\s*<table', html)
    assert tables >= 1 and len(regions) == tables, f"{tables} tables, {len(regions)} scrolling regions"


def test_the_pledge_filter_is_open_until_a_filter_is_set_then_folded_with_the_count(client, secretariat):
    unfiltered = page(client, secretariat, "/pledges/")
    assert re.search(r'<details class="filter-toggle[^"]*" open data-fold-narrow>', unfiltered)
    filtered = page(client, secretariat, "/pledges/", kind="financial", q="radio", ordering="-amount_eur")
    assert re.search(r'<details class="filter-toggle[^"]*" data-fold-narrow>', filtered), "folded once used"
    assert "(2 filters set)" in filtered, "the sort order is not counted as a filter"


def test_a_filter_with_a_wrong_value_stays_open(client, secretariat):
    html = page(client, secretariat, "/pledges/", min_amount_eur="lots")
    assert re.search(r'<details class="filter-toggle[^"]*" open data-fold-narrow>', html)


@pytest.mark.translations
@pytest.mark.parametrize(
    ("language", "largest", "newest", "coalition_label", "members"),
    [
        ("en", "Amount (EUR), largest first", "Recorded, newest first", "Coalition", "Members (codes such as EE, LU)"),
        (
            "uk",
            "Сума (EUR), від найбільшої",
            "Внесено, від найновішого",
            "Коаліція",
            "Учасники (коди, наприклад EE, LU)",
        ),
    ],
)
def test_pledge_sort_options_and_filter_labels_read_in_plain_words(
    client, secretariat, language, largest, newest, coalition_label, members
):
    html = page(client, secretariat, "/pledges/", language)
    sort = options_of(html, "ordering")
    assert sort["-amount_eur"] == largest and sort["-id"] == newest
    assert not any(re.search(r"descending|Amount eur|_", label) for label in sort.values()), sort
    labels = re.findall(r'<label for="id_[^"]+">([^<]+)</label>', html)
    assert coalition_label in labels and members in labels
    assert not any("(slug)" in label or "ISO 8601" in label or "comma-separated" in label for label in labels)


@pytest.mark.parametrize("url", ["/priorities/", "/meetings/"])
def test_other_lists_sort_in_plain_words(client, secretariat, url):
    sort = options_of(page(client, secretariat, url), "ordering")
    assert sort["-id"] == "Recorded, newest first"
    assert not any("descending" in label or "_" in label for label in sort.values()), sort


def test_the_api_schema_keeps_the_technical_filter_descriptions(client, secretariat):
    client.force_login(secretariat)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/pledges/"]["get"]["parameters"]}
    assert parameters["coalition"]["description"] == "Coalition (slug)"
    assert parameters["updated_since"]["description"] == "Updated since (ISO 8601 date-time)"
    assert "-amount_eur" in parameters["ordering"]["schema"]["items"]["enum"]


def test_the_secretariat_finds_the_delivery_log_in_the_navigation_and_others_do_not(client, secretariat, steering):
    nav = re.compile(r'<nav class="site-nav".*?</nav>', re.S)
    assert 'href="/reports/deliveries/"' in nav.search(page(client, secretariat, "/pledges/")).group(0)
    current = nav.search(page(client, secretariat, "/reports/deliveries/")).group(0)
    assert 'href="/reports/deliveries/" aria-current="page"' in current
    client.logout()
    assert "/reports/deliveries/" not in nav.search(page(client, steering, "/pledges/")).group(0)


def test_a_eur_pledge_shows_no_rate_and_another_currency_its_rate_trimmed(
    client, secretariat, coalition, member_a, rates
):
    from decimal import Decimal

    from tests import factories

    eur = factories.make_pledge(coalition=coalition, member=member_a, currency="EUR", title="In euros")
    usd = factories.make_pledge(coalition=coalition, member=member_a, currency="USD", title="In dollars")
    assert usd.exchange_rate == usd.exchange_rate.quantize(Decimal("0.00000001"))  # stored with eight places
    record = re.compile(r'<dl class="record">.*?</dl>', re.S)
    eur_record = record.search(page(client, secretariat, f"/pledges/{eur.pk}/")).group(0)
    assert "per EUR" not in eur_record and "1 EUR =" not in eur_record and "In EUR" not in eur_record
    usd_record = record.search(page(client, secretariat, f"/pledges/{usd.pk}/")).group(0)
    shown = re.search(r"1 EUR = ([0-9.,]+) USD", usd_record)
    assert shown, "the rate of a USD pledge is shown"
    assert shown.group(1) == str(usd.exchange_rate.normalize()), "the stored rate, its trailing zeros trimmed"


@pytest.mark.parametrize(
    ("value", "shown"),
    [("1.08130000", "1.0813"), ("160.20000000", "160.20"), ("25", "25.00"), ("0.00012345", "0.00012345")],
)
def test_rates_read_as_published(value, shown):
    from coalition.templatetags.portal import rate

    assert rate(value) == shown


def test_api_summaries_take_an_before_a_vowel(client, secretariat):
    client.force_login(secretariat)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    summaries = [op["summary"] for path in schema["paths"].values() for op in path.values() if "summary" in op]
    assert "Record an action item" in summaries and "An allocation" in summaries
    wrong = [s for s in summaries if re.search(r"\b[Aa] [aeiouAEIOU]", s)]
    assert wrong == []
