"""Every SVG the portal draws, in English and Ukrainian, parses and holds only plain numbers in its
lengths and coordinates (Ukrainian localisation once wrote width="100,0"); the dashboard's chart
labels print the same rounded figures as its tables; the one number formatting rounds half up."""

import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import translation

from coalition import numbers
from reports import charts
from tests import factories

pytestmark = pytest.mark.django_db

D = Decimal
SVG = "{http://www.w3.org/2000/svg}"
NUMBER = re.compile(r"-?\d+(\.\d+)?")
#: Attributes that are one length or coordinate.
LENGTHS = {
    "x",
    "y",
    "x1",
    "x2",
    "y1",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "dx",
    "dy",
    "width",
    "height",
    "stroke-width",
    "font-size",
}


def parse(svg):
    """One SVG parsed by xml.etree: a malformed one fails here."""
    return ET.fromstring(str(svg))  # noqa: S314 - the portal's own output, no external entities


def svg_elements(html):
    """Every <svg>...</svg> of a page, parsed."""
    return [parse(svg) for svg in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]


def bad_numbers(svg):
    """(tag, attribute, value) of every length or coordinate that is not a plain number."""
    bad = []
    for element in svg.iter():
        for name, value in element.attrib.items():
            if name in LENGTHS:
                parts = [value]
            elif name == "viewBox" or name == "stroke-dasharray":
                parts = value.split()
            elif name == "points":
                parts = re.split(r"[\s,]+", value.strip())
            elif name == "d":
                parts = [part for part in re.split(r"[A-Za-z\s]+", value) if part]
            else:
                continue
            if not parts or not all(NUMBER.fullmatch(part) for part in parts):
                bad.append((element.tag.replace(SVG, ""), name, value))
    return bad


@pytest.fixture
def pages(coalition, known, member_a, held_meeting):
    """The pages that draw SVG, with data that gives fractional lengths."""
    return [
        reverse("reports:dashboard", args=[coalition.slug]),
        reverse("priorities:list"),
        reverse("priorities:detail", args=[known["servers"].pk]),
        reverse("member_detail", args=[member_a.code]),
        reverse("meetings:detail", args=[held_meeting.pk]),
    ]


@pytest.mark.parametrize("language", ["en", "uk"])
def test_every_svg_of_every_page_has_plain_numbers(client, secretariat, pages, language):
    client.force_login(secretariat)
    drawn = 0
    for url in pages:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert f'<html lang="{language}">' in html
        for svg in svg_elements(html):
            drawn += 1
            assert bad_numbers(svg) == [], url
    # The dashboard's seven charts, and a coverage bar per priority on the list and on the detail page.
    assert drawn >= 7 + 2 + 1


def _every_chart():
    """Each chart of reports/charts.py with awkward figures: fractions, zero, empty, long labels."""
    bars = [charts.Bar("Estonia", D("18459692.13")), charts.Bar("A very long member name indeed", D("0.5"))]
    return [
        charts.progress_bar(D("53699692"), D("100000000"), title="t", desc="d"),
        charts.progress_bar(D("0"), D("0"), title="t", desc="d"),
        charts.hbar_chart(bars, title="t", desc="d"),
        charts.hbar_chart([], title="t", desc="d"),
        charts.bar_chart(bars, title="t", desc="d"),
        charts.split_chart(
            [charts.Split("#1 Servers and storage for the ministry", D("0.6"), D("0.3333"), "x")],
            legend=("confirmed", "announced only"),
            title="t",
            desc="d",
        ),
        charts.split_chart([], legend=("a", "b"), title="t", desc="d"),
        charts.time_chart(
            [("Total", [(date(2023, 9, 1), D("1.5")), (date(2024, 5, 1), D("18459692"))]), ("Confirmed", [])],
            meetings=[(date(2024, 2, 2), "First steering group")],
            target=D("20000000.5"),
            title="t",
            desc="d",
        ),
        charts.time_chart([], title="t", desc="d"),
    ]


@pytest.mark.parametrize("language", ["en", "uk"])
def test_every_chart_function_writes_plain_numbers(language):
    with translation.override(language):
        drawn = _every_chart()
    for svg in drawn:
        assert bad_numbers(parse(svg)) == []


def test_the_check_would_catch_a_decimal_comma():
    bad = parse('<svg xmlns="http://www.w3.org/2000/svg"><rect width="100,0" x="1"/></svg>')
    assert bad_numbers(bad) == [("rect", "width", "100,0")]


# --- One formatting, rounded ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "value", "short", "full"),
    [
        ("en", "18459692", "18.5\xa0M", "18,459,692.00"),
        ("en", "53699692", "53.7\xa0M", "53,699,692.00"),
        ("en", "999960", "1.0\xa0M", "999,960.00"),
        ("en", "850499", "850\xa0k", "850,499.00"),
        ("en", "1234.5", "1,235", "1,234.50"),
        ("en", "2450000000", "2.5\xa0bn", "2,450,000,000.00"),
        ("uk", "18459692", "18,5\xa0млн", "18\xa0459\xa0692,00"),
    ],
)
def test_amounts_round_half_up_in_short_and_full(language, value, short, full):
    with translation.override(language):
        assert numbers.money_short(D(value)) == short
        assert numbers.money(D(value)) == full


def test_percent_rounds_half_up():
    with translation.override("en"):
        assert numbers.percent(D("0.53699")) == "53.7\xa0%"
        assert numbers.percent(D("0.00049")) == "0.0\xa0%"
        assert numbers.percent(D("0.12345"), 2) == "12.35\xa0%"
    with translation.override("uk"):
        assert numbers.percent(D("0.53699")) == "53,7\xa0%"


def test_a_change_is_signed_only_when_it_grew():
    with translation.override("en"):
        assert numbers.change(numbers.money_short(D("5500000")), D("5500000")) == "+5.5\xa0M"
        assert numbers.change(numbers.money_short(D("0")), D("0")) == "0"
        assert numbers.change(numbers.money(D("-12.5")), D("-12.5")) == "-12.50"


def test_svg_numbers_ignore_the_language():
    with translation.override("uk"):
        assert numbers.svg_number(D("100")) == "100.0"
        assert numbers.svg_number(12345.678) == "12345.7"
        assert numbers.svg_number(D("-0.01")) == "0.0"


# --- The dashboard's charts and tables agree ----------------------------------------------------


class _Cells(HTMLParser):
    """The dashboard's table cells marked data-value, keyed by table, row and value."""

    def __init__(self):
        super().__init__()
        self.cells, self.table, self.row, self.cell, self.text = {}, None, None, None, ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.table = attrs.get("data-table")
        elif tag == "tr":
            self.row = attrs.get("data-member") or attrs.get("data-row") or attrs.get("data-priority")
        elif tag == "td" and "data-value" in attrs:
            self.cell, self.text = attrs["data-value"], ""

    def handle_data(self, data):
        if self.cell:
            self.text += data

    def handle_endtag(self, tag):
        if tag == "td" and self.cell:
            self.cells[(self.table, self.row, self.cell)] = self.text.strip()
            self.cell = None


def _amount(text, language):
    """A full amount as a table prints it ("18,459,692.00 EUR" / "18 459 692,00") back to a Decimal."""
    text = text.replace("EUR", "").strip()
    if language == "uk":
        text = text.replace("\xa0", "").replace(" ", "").replace(",", ".")
    else:
        text = text.replace(",", "")
    return D(text)


def _svg_texts(svg):
    return ["".join(text.itertext()) for text in svg.iter(f"{SVG}text")]


def _bar_titles(svg):
    """{label: printed value} of a chart's bars, from each bar group's <title>."""
    result = {}
    for group in svg.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        label, _sep, text = title.text.rpartition(": ")
        result[label] = text
    return result


@pytest.fixture
def rounding_case(coalition, member_a, member_b, secretariat, rates):
    """Estonia's 18,459,692 (drawn as 18.4 M when labels truncated) and 53.699692 % of the target."""
    factories.make_pledge(
        coalition=coalition, member=member_a, amount=D("18459692"), status="confirmed", confirmed_on=date(2024, 2, 2)
    )
    factories.make_pledge(
        coalition=coalition, member=member_b, amount=D("35240000"), status="confirmed", confirmed_on=date(2024, 2, 2)
    )
    factories.make_pledge(coalition=coalition, member=member_b, amount=D("1234567.89"), kind="in_kind")
    from contributions import services

    servers = services.priority_create(
        acting_user=secretariat, coalition=coalition, title="Servers", estimated_cost_eur=D("3000000")
    )
    return servers


@pytest.mark.parametrize("language", ["en", "uk"])
def test_chart_labels_and_tables_print_the_same_rounded_figures(client, steering, coalition, rounding_case, language):
    client.force_login(steering)
    html = client.get(reverse("reports:dashboard", args=[coalition.slug]), HTTP_ACCEPT_LANGUAGE=language)
    html = html.content.decode()
    parser = _Cells()
    parser.feed(html)
    cells = parser.cells
    svgs = {
        key: svg_elements(re.search(rf'<section class="panel" aria-labelledby="h-{key}">.*?</section>', html, re.S)[0])[
            0
        ]
        for key in ("progress", "members", "kind", "channel", "priorities")
    }
    with translation.override(language):
        short = numbers.money_short

        # Progress: the share above the bar is the table's progress, the amount under it the confirmed.
        progress_texts = _svg_texts(svgs["progress"])
        progress = cells[("progress", None, "progress")]
        assert progress == ("53,7\xa0%" if language == "uk" else "53.7\xa0%")
        assert any(text.startswith(progress) for text in progress_texts)
        assert short(_amount(cells[("progress", None, "confirmed")], language)) in progress_texts

        # Members: each bar's label is the member table's confirmed figure, rounded the same way.
        bars = _bar_titles(svgs["members"])
        assert bars["Estonia"] == ("18,5\xa0млн" if language == "uk" else "18.5\xa0M")
        for code, name in (("EE", "Estonia"), ("LU", "Luxembourg")):
            assert bars[name] == short(_amount(cells[("members", code, "confirmed")], language))

        # Kind and channel: amount and share on each bar are its table row's, rounded the same way.
        for table in ("kind", "channel"):
            rows = [row for (name, row, value) in cells if name == table and value == "total"]
            printed = list(_bar_titles(svgs[table]).values())
            assert len(rows) == len(printed) >= 2
            for row, text in zip(rows, printed, strict=True):
                amount = short(_amount(cells[(table, row, "total")], language))
                assert text == f"{amount} · {cells[(table, row, 'share')]}"
        assert _bar_titles(svgs["kind"])  # financial 53.7 M, in kind 1.2 M

        # Priorities: the two segments' percentages are the table's.
        servers = rounding_case.pk
        split = list(_bar_titles(svgs["priorities"]).values())
        assert split == [
            f"{cells[('priorities', str(servers), 'confirmed')]} + {cells[('priorities', str(servers), 'announced')]}"
        ]


def test_the_time_chart_spaces_points_by_time_and_marks_meetings():
    months = [date(2023, 9, 1), date(2024, 2, 1), date(2024, 4, 1), date(2024, 5, 1)]
    svg = parse(
        charts.time_chart(
            [
                ("Total", [(m, D(10 * (i + 1))) for i, m in enumerate(months)]),
                ("Confirmed", [(m, D(10 * (i + 1))) for i, m in enumerate(months)]),
            ],
            meetings=[(date(2024, 2, 2), "First steering group"), (date(2024, 5, 31), "Tallinn")],
            title="t",
            desc="d",
        )
    )
    xs = [float(c.get("cx")) for c in svg.iter(f"{SVG}circle")]  # the first line's markers
    assert len(xs) == 4
    gaps = [b - a for a, b in zip(xs, xs[1:], strict=False)]
    days = [(b - a).days for a, b in zip(months, months[1:], strict=False)]
    # Sep 2023 -> Feb 2024 is five months, the others one or two: x follows the calendar.
    for gap, day in zip(gaps, days, strict=True):
        assert gap / gaps[0] == pytest.approx(day / days[0], rel=0.02)
    # The same figures on both lines still tell apart: dash pattern, marker shape and end labels.
    paths = [p for p in svg.iter(f"{SVG}path") if p.get("fill") == "none"]
    assert [p.get("stroke-dasharray") for p in paths] == [None, "8 4"]
    assert len(list(svg.iter(f"{SVG}rect"))) == 4  # square markers of the second line
    ends = [text for text in _svg_texts(svg) if text.startswith(("Total", "Confirmed"))]
    assert len(ends) == 2
    # Each held meeting is a labelled vertical line with its full name and date in <title>.
    meetings = [g for g in svg.iter(f"{SVG}g") if g.find(f"{SVG}line") is not None]
    assert [g.find(f"{SVG}title").text for g in meetings] == [
        "First steering group, 2 February 2024",
        "Tallinn, 31 May 2024",
    ]
    for group in meetings:
        line = group.find(f"{SVG}line")
        assert line.get("x1") == line.get("x2")
