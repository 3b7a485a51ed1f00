"""The portal in a real browser: Playwright driving Debian's Chromium against a live server.

A member editor signs in, logs a pledge, meets a validation error, fixes it and finds the pledge on
the dashboard; the steering group reads the dashboard in Ukrainian; the keyboard reaches the form.
Screenshots land in test-artifacts/ (kept by CI as artefacts, ignored by git).
"""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser(chromium_path, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run where a loop
    # is running unless told that this (test-only) use is deliberate.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    from django.db import connections

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        # While Playwright's loop runs, asgiref gives this thread a second set of connections (the
        # async context's): close them here, or the test database cannot be dropped at the end.
        connections.close_all()
        browser.close()


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, f"{username} could not sign in"


def choose(page, name, value=None, label=None):
    """Pick an option in the select ``name`` when the form has one (a member editor's member may be fixed)."""
    select = page.locator(f"main form select[name={name}]")
    if select.count() == 0 or select.is_disabled():
        return
    if value is not None:
        select.select_option(value=str(value))
    else:
        select.select_option(label=label)


def fill_pledge(page, *, coalition, member, title, amount, currency="EUR"):
    choose(page, "coalition", value=coalition.pk)
    choose(page, "member", value=member.pk)
    page.fill("main form [name=title]", title)
    page.fill("main form [name=amount]", amount)
    currency_field = page.locator("main form [name=currency]")
    if currency_field.evaluate("el => el.tagName") == "SELECT":
        currency_field.select_option(value=currency)
    else:
        currency_field.fill(currency)
    page.fill("main form [name=announced_on]", "2024-05-31")
    if page.locator("main form select[name=status]").count():
        page.locator("main form select[name=status]").select_option(value="announced")


@pytest.fixture
def editor(coalition, member_a, rates):
    return factories.persona("editor_a", "member-editor", member=member_a, coalitions=[coalition])


def test_member_editor_logs_a_pledge_fixes_an_error_and_finds_it_on_the_dashboard(
    live_server, browser, coalition, member_a, editor
):
    page = browser.new_page(locale="en-GB", extra_http_headers={"Accept-Language": "en"})
    sign_in(page, live_server.url, "editor_a")
    page.goto(f"{live_server.url}/pledges/new/")
    fill_pledge(page, coalition=coalition, member=member_a, title="Browser-logged radios", amount="0")
    page.locator("main form[method=post] button[type=submit]").last.click()
    page.wait_for_load_state()
    errors = page.locator(".errorlist")
    assert errors.count() >= 1, "a zero amount must be refused with a message"
    assert page.input_value("main form [name=title]") == "Browser-logged radios", "the input is kept"
    shot(page, "pledge-validation-error")

    page.fill("main form [name=amount]", "250000")
    page.locator("main form[method=post] button[type=submit]").last.click()
    page.wait_for_load_state()
    assert "/pledges/new/" not in page.url, page.locator(".errorlist").all_inner_texts()
    shot(page, "pledge-saved")

    from contributions.models import Pledge

    pledge = Pledge.objects.get(title="Browser-logged radios")
    assert pledge.member == member_a and pledge.amount == Decimal("250000.00")
    assert pledge.announced_on == date(2024, 5, 31)

    page.goto(f"{live_server.url}/")
    page.wait_for_load_state()
    body = page.inner_text("main")
    assert "Browser-logged radios" in body or "250,000" in body
    shot(page, "dashboard-editor")


def test_keyboard_reaches_the_first_form_field(live_server, browser, editor):
    page = browser.new_page(extra_http_headers={"Accept-Language": "en"})
    sign_in(page, live_server.url, "editor_a")
    page.goto(f"{live_server.url}/pledges/new/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')"), "the skip link comes first"
    page.keyboard.press("Enter")
    first_field = (
        "document.querySelector('main form[method=post] "
        ":is(input:not([type=hidden]), select, textarea):not([disabled])')"
    )
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement === {first_field}"):
            break
    else:
        pytest.fail("Tab from the main content never reached the form's first field")
    label = page.evaluate(
        "(() => { const el = document.activeElement;"
        " return el.labels && el.labels.length ? el.labels[0].innerText : ''; })()"
    )
    assert label.strip(), "the focused field has a visible label"
    shot(page, "keyboard-first-field")


def test_steering_reads_the_dashboard_in_ukrainian(live_server, browser, coalition, member_b, rates):
    factories.persona("steering", "steering", coalitions=[coalition])
    factories.make_pledge(
        coalition=coalition, member=member_b, amount=Decimal("5000000.00"), status="confirmed", title="LU servers"
    )
    page = browser.new_page(locale="uk-UA", extra_http_headers={"Accept-Language": "uk"})
    sign_in(page, live_server.url, "steering")
    page.goto(f"{live_server.url}/")
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "uk"
    nav = page.inner_text("nav.site-nav")
    assert "Пріоритети" in nav and "Засідання" in nav
    body = page.inner_text("main")
    assert any(ch in body for ch in "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"), "the dashboard text is Ukrainian"
    assert "5 000 000" in body.replace("\xa0", " ").replace("\u202f", " "), "amounts use Ukrainian grouping"
    shot(page, "dashboard-uk")


def test_language_switcher_changes_the_language(live_server, browser, coalition):
    factories.persona("steering", "steering", coalitions=[coalition])
    page = browser.new_page(extra_http_headers={"Accept-Language": "en"})
    sign_in(page, live_server.url, "steering")
    page.goto(f"{live_server.url}/meetings/")
    assert page.get_attribute("html", "lang") == "en"
    page.select_option("#language-select", value="uk")
    page.locator(".language-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "uk"
    assert "/meetings/" in page.url
    assert "Засідання" in page.inner_text("h1")
    shot(page, "meetings-uk-switched")


def test_meeting_page_prints_as_a_meeting_pack(live_server, browser, coalition, member_a):
    from datetime import UTC, datetime

    from meetings import services

    factories.persona("secretariat", "secretariat", coalitions=[coalition])
    meeting = services.meeting_create(
        acting_user=None, coalition=coalition, title="Steering group", starts_at=datetime(2024, 2, 2, 8, tzinfo=UTC)
    )
    services.attendance_set(acting_user=None, meeting=meeting, member=member_a, status="present", role="chair")
    services.agenda_item_add(acting_user=None, meeting=meeting, title="Priorities for 2024")
    services.action_item_add(acting_user=None, meeting=meeting, text="Draft the roadmap", owner=member_a)
    page = browser.new_page(extra_http_headers={"Accept-Language": "en"})
    sign_in(page, live_server.url, "secretariat")
    page.goto(f"{live_server.url}/meetings/{meeting.pk}/")
    from playwright.sync_api import expect

    expect(page.locator(".secretariat-forms")).to_be_visible()
    # The print button (shown by static/js/portal.js) calls the browser's print; stubbed here, since a
    # headless browser has no dialog to show.
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.get_by_role("button", name="Print the meeting pack").click()
    assert page.evaluate("window.printed") == 1
    page.emulate_media(media="print")
    # expect() waits for the print styles to apply (an immediate is_visible() raced them under load).
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".secretariat-forms")).to_be_hidden()  # forms stay off the printed pack
    expect(page.locator(".meeting-pack__header")).to_be_visible()
    expect(page.locator("#agenda")).to_be_visible()
    expect(page.locator("#action-items")).to_be_visible()
    shot(page, "meeting-pack-print")
    page.pdf(path=str(ARTIFACTS / "meeting-pack.pdf"), format="A4")
    assert (ARTIFACTS / "meeting-pack.pdf").stat().st_size > 1000


def test_priority_list_shows_coverage_as_bar_and_number(live_server, browser, coalition, member_b, rates):
    from contributions import services

    factories.persona("secretariat", "secretariat", coalitions=[coalition])
    pledge = factories.make_pledge(
        coalition=coalition, member=member_b, amount=Decimal("300000.00"), status="confirmed"
    )
    servers = services.priority_create(
        acting_user=None, coalition=coalition, title="Servers", estimated_cost_eur=Decimal("1200000")
    )
    services.priority_create(acting_user=None, coalition=coalition, title="Radios", estimated_cost_eur=Decimal("50000"))
    services.allocation_set(acting_user=None, pledge=pledge, priority=servers, amount_eur=Decimal("300000.00"))
    page = browser.new_page(extra_http_headers={"Accept-Language": "en"})
    sign_in(page, live_server.url, "secretariat")
    page.goto(f"{live_server.url}/priorities/")
    row = page.locator(f"#priority-{servers.pk}")
    assert row.locator(".coverage__value").inner_text() == "25%"
    assert row.locator("svg .coverage__fill").get_attribute("width") == "25.0"
    page.get_by_role("button", name="Move “Radios” up").click()
    page.wait_for_load_state()
    assert page.locator("#priorities tbody tr").first.inner_text().find("Radios") != -1
    shot(page, "priorities-list")
