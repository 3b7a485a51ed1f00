"""Sign-in hardening in a real browser (Playwright, Debian's Chromium, a live server): a secretariat
user enrols TOTP, signs out, signs in with password and code; a wrong code is refused; a recovery code
works once; the sixth wrong password locks the account with a message (in Ukrainian too); and no page
of any role reports a Content-Security-Policy violation."""

import time
from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from tests import factories
from tests.test_browser import browser, shot  # noqa: F401 - the shared browser fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: Registered before any page script runs: every securitypolicyviolation event of the page is kept.
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const where = e.sourceFile + ':' + e.lineNumber;
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + where);
});
"""


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


def totp_code(secret, offset=0):
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


def password_step(page, base_url, username, password=factories.PASSWORD):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()


def sign_out(page, base_url):
    page.goto(f"{base_url}/")
    page.locator("details.user-menu summary").click()
    page.locator("form[action='/accounts/logout/'] button").click()
    page.wait_for_load_state()


def test_secretariat_enrols_totp_then_signs_in_with_password_and_code(live_server, browser):  # noqa: F811
    factories.persona("chief", "secretariat", coalitions=[factories.CoalitionFactory(slug="c1", name="C1")])
    page = browser.new_page()
    password_step(page, live_server.url, "chief")
    page.goto(f"{live_server.url}/accounts/2fa/totp/activate/")
    if "/accounts/reauthenticate/" in page.url:
        page.fill("input[name=password]", factories.PASSWORD)
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_load_state()
    secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", totp_code(secret))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    shot(page, "mfa-enrolled")
    page.goto(f"{live_server.url}/accounts/2fa/recovery-codes/")
    codes = page.input_value("#recovery_codes").split()
    assert len(codes) >= 2, page.locator("main").inner_text()
    sign_out(page, live_server.url)

    password_step(page, live_server.url, "chief")
    assert "/accounts/2fa/authenticate/" in page.url
    page.fill("input[name=code]", "000000")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    assert "/accounts/2fa/authenticate/" in page.url, "a wrong code was accepted"
    assert page.locator(".errorlist, .form-errors, [role=alert]").count() > 0 or "code" in page.content().lower()
    page.fill("input[name=code]", totp_code(secret))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    assert "/accounts/" not in page.url, page.url
    assert page.locator("details.user-menu summary").inner_text().strip() == "chief"
    sign_out(page, live_server.url)

    for attempt in range(2):
        password_step(page, live_server.url, "chief")
        page.fill("input[name=code]", codes[0])
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_load_state()
        if attempt == 0:
            assert "/accounts/" not in page.url, "the recovery code did not sign in"
            sign_out(page, live_server.url)
        else:
            assert "/accounts/2fa/authenticate/" in page.url, "a used recovery code signed in again"


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "Too many failed login attempts"), ("uk", "Занадто багато невдалих спроб входу")],
)
def test_the_sixth_wrong_password_locks_the_account_with_a_message(live_server, browser, language, message):  # noqa: F811
    factories.persona("chief", "secretariat", coalitions=[factories.CoalitionFactory(slug="c1", name="C1")])
    context = browser.new_context(locale=language, extra_http_headers={"Accept-Language": language})
    page = context.new_page()
    for attempt in range(1, 7):
        password_step(page, live_server.url, "chief", "wrong-password")
        text = page.locator("main").inner_text()
        if attempt < 6:
            assert message not in text, attempt
    shot(page, f"lockout-{language}")
    assert message in text
    password_step(page, live_server.url, "chief")
    assert message in page.locator("main").inner_text(), "the right password got in while locked"


def test_no_page_of_any_role_reports_a_csp_violation(live_server, browser, coalition, member_a, personas, admin_user):  # noqa: F811
    from meetings import services as meeting_services

    pledge = factories.make_pledge(coalition=coalition, member=member_a, status="announced")
    meeting = meeting_services.meeting_create(
        acting_user=None, coalition=coalition, title="Steering", starts_at=datetime(2024, 2, 2, 8, tzinfo=UTC)
    )
    pages = [
        "/",
        f"/coalitions/{coalition.slug}/",
        "/pledges/",
        "/pledges/new/",
        f"/pledges/{pledge.pk}/",
        "/pledges/import/",
        "/priorities/",
        "/meetings/",
        f"/meetings/{meeting.pk}/",
        "/accounts/profile/",
        "/accounts/2fa/",
        "/api/docs/",
        "/api/v1/pledges/",
    ]
    people = {**personas, "admin": admin_user}
    violations = []
    for name in ("secretariat", "editor_a", "steering", "partner", "admin"):
        context = browser.new_context()
        context.add_init_script(COLLECT_VIOLATIONS)
        page = context.new_page()
        console = []
        page.on("console", lambda msg, c=console: c.append(msg.text) if "Content Security Policy" in msg.text else None)
        password_step(page, live_server.url, people[name].username)
        visited = pages + (
            ["/admin/", "/admin/coalition/securityevent/", "/admin/auth/user/"] if name == "admin" else []
        )
        for path in visited:
            response = page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            assert response.headers.get("content-security-policy"), path
            for found in page.evaluate("window.__cspViolations") + console:
                violations.append((name, path, found))
            console.clear()
        context.close()
    assert violations == []
