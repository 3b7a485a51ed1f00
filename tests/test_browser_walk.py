"""Every page each demo role reaches, in Debian's Chromium at 390×844 and 1366×900, in English and
Ukrainian: nothing wider than the screen, no list table (``table--stack``) left to scroll sideways
inside its region at 390 px (it reflows into cards), no console error, no response of 500 or more,
no request to another host, and axe-core (from node_modules, never a CDN) finds no violation.

The pages are found, not listed: from the dashboard, every link in the navigation and in the page,
then on each page reached the links it offers, one page per kind (a list, one of its records, that
record's forms), so a page added tomorrow is walked tomorrow. Downloads, the Django admin, the API's
browsable pages and Swagger UI are not the portal's own pages: `APART` says what axe still finds
there and why; they are checked for errors and foreign requests only.

One browser; one context per role and language; each page is loaded once and measured at both
widths (the viewport is resized, which re-runs every media query). Every role is walked in both
languages, and axe runs on every page each role reaches (a role sees its own buttons, columns and
forms on a page of the same kind): every rule at 1366 px, and at 390 px the rules whose answer
depends on the layout (a table that scrolls needs keyboard access; targets shrink) — colours, names,
labels and landmarks do not change with the width. Only the sign-in page, the same for everyone, is
checked once per language (by the anonymous visitor), not again as each role signs in.
The screenshots of the dashboard, the pledge list and a meeting (as the secretariat sees them) land
in test-artifacts/ (ignored by git) for people to look at.
"""

import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"narrow": (390, 844), "wide": (1366, 900)}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
AXE_LAYOUT_RULES = ["scrollable-region-focusable", "target-size", "meta-viewport", "avoid-inline-spacing"]
PASSWORD = "demo-password"  # demo.data.DEMO_PASSWORD, the demo's published password

# Who signs in to pages, per language (the admin is a secretariat with the Django admin on top,
# walked apart; editor-lu sees what editor-ee sees for another member).
ROLES = {language: ["secretariat", "editor-ee", "steering", "partner"] for language in ("en", "uk")}

# Links that lead out of the portal's own pages or do something rather than show something.
NOT_A_PAGE = re.compile(
    r"\.(csv|xlsx|ics|pdf|json|yaml)$|^/(admin|api|static|i18n)/|/export|/unsubscribe/|/download/|/accounts/logout/"
)

# Not the portal's own templates: what axe reports there, and why it stays.
APART = {
    "/admin/": ("Django's admin (its index; its own templates and CSS): axe finds nothing there today", set()),
    "/api/v1/": (
        "DRF's browsable API, the Bootstrap 3 templates djangorestframework ships: no lang, a main inside"
        " a main, icon buttons without names, Bootstrap's grey on white",
        {
            "button-name",
            "color-contrast",
            "html-has-lang",
            "landmark-main-is-top-level",
            "landmark-no-duplicate-main",
            "region",
        },
    ),
    "/api/docs/": (
        "Swagger UI, the swagger-ui-dist drf-spectacular bundles: its own colours, headings, 20 px operation"
        " links with buttons inside them",
        {"color-contrast", "heading-order", "nested-interactive", "region", "target-size"},
    ),
}


def page_kind(path):
    """One walk per kind of page: /pledges/12/edit/ and /pledges/40/edit/ are the same page."""
    parts = [part for part in path.split("/") if part]
    kind = ["#" if part.isdigit() else part for part in parts]
    if kind[:1] in (["members"], ["coalitions"]) and len(kind) > 1:
        kind[1] = "*"
    return "/" + "/".join(kind)


class Walk:
    """One role in one language: a context, a page reused, and everything found wrong."""

    def __init__(self, browser, base_url, username, language, axe_source):
        self.base_url, self.host = base_url, urlsplit(base_url).netloc
        self.axed = set()  # kinds of page axe has seen for this role in this language
        self.username, self.language, self.axe_source = username, language, axe_source
        self.context = browser.new_context(
            viewport=dict(zip(("width", "height"), WIDTHS["wide"], strict=True)),
            locale="uk-UA" if language == "uk" else "en-GB",
            extra_http_headers={"Accept-Language": language},
        )
        self.page = self.context.new_page()
        self.problems, self.walked, self.current, self.found = [], [], None, set()
        self.stacked = set()  # kinds of page whose list tables were measured as cards at 390 px
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self._problem(f"script error: {error}"))
        self.page.on("response", self._response)
        self.page.on("request", self._request)

    def _problem(self, text):
        self.problems.append(f"{self.username}/{self.language} {self.current}: {text}")

    def _console(self, message):
        if message.type == "error":
            self._problem(f"console error: {message.text}")

    def _response(self, response):
        if response.status >= 500:
            self._problem(f"{response.status} from {response.url}")

    def _request(self, request):
        url = urlsplit(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.netloc != self.host:
            self._problem(f"request to another host: {request.url}")

    def sign_in(self, password=PASSWORD):
        self.visit("/accounts/login/", check=False)  # the anonymous visitor checks it
        self.page.fill("input[name=login]", self.username)
        self.page.fill("input[name=password]", password)
        self.page.locator("main form button[type=submit]").click()
        self.page.wait_for_load_state()
        assert "/accounts/login/" not in self.page.url, f"{self.username} could not sign in"

    def second_factor_step(self):
        """The page that asks a signed-in password's owner for the code of their second factor."""
        from tests import factories

        self.visit("/accounts/login/", check=False)
        self.page.fill("input[name=login]", "walk-mfa")
        self.page.fill("input[name=password]", factories.PASSWORD)
        self.page.locator("main form button[type=submit]").click()
        self.page.wait_for_load_state()
        self.current = path = urlsplit(self.page.url).path
        assert path == "/accounts/2fa/authenticate/", path
        for width_name in ("wide", "narrow"):
            self.check(width_name, run_axe=page_kind(path) not in self.axed)
        self.axed.add(page_kind(path))
        self.page.set_viewport_size(dict(zip(("width", "height"), WIDTHS["wide"], strict=True)))
        self.walked.append(path)

    def visit(self, path, *, check=True, shot=None):
        self.current = path
        response = self.page.goto(urljoin(self.base_url, path))
        assert response is not None, path
        if response.status >= 400:
            self._problem(f"status {response.status}")
        if check:
            kind = page_kind(path)
            run_axe = kind not in self.axed
            self.axed.add(kind)
            for width_name in ("wide", "narrow"):
                self.check(width_name, shot, run_axe=run_axe)
            self.page.set_viewport_size(dict(zip(("width", "height"), WIDTHS["wide"], strict=True)))
            self.walked.append(path)
        return self.links()

    def check(self, width_name, shot=None, apart=None, run_axe=True):
        width, height = WIDTHS[width_name]
        self.page.set_viewport_size({"width": width, "height": height})
        scroll, inner, culprits, stacked = self.page.evaluate(
            """() => {
              const inner = window.innerWidth;
              const culprits = [...document.querySelectorAll('body *')]
                .filter(el => el.getBoundingClientRect().right > inner + 1 && !el.closest('.table-scroll, .chart'))
                .slice(0, 4).map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
                  + ' ' + Math.round(el.getBoundingClientRect().right) + 'px');
              const stacked = [...document.querySelectorAll('.table-scroll:has(> .table--stack)')]
                .map(region => [region.getAttribute('aria-label'), region.scrollWidth, region.clientWidth]);
              return [document.documentElement.scrollWidth, inner, culprits, stacked];
            }"""
        )
        if scroll > inner:
            self._problem(f"{scroll} px wide at {inner} px ({', '.join(culprits)})")
        if width_name == "narrow":
            # A list table reflows into cards on a phone: its region has nothing to scroll sideways.
            for label, region_scroll, region_width in stacked:
                self.stacked.add(page_kind(self.current))
                if region_scroll > region_width:
                    self._problem(f"table region {label!r} scrolls: {region_scroll} px in {region_width} px")
        for violation in self.axe(width_name) if run_axe else ():
            self.found.add(violation["id"])
            if apart is None or violation["id"] not in apart:
                nodes = "; ".join(node["target"][0] if node["target"] else "?" for node in violation["nodes"][:3])
                self._problem(f"axe {violation['id']} at {width} px ({violation['help']}): {nodes}")
        if shot:
            self.page.screenshot(path=str(ARTIFACTS / f"{shot}-{self.language}-{width}.png"), full_page=True)

    def axe(self, width_name):
        if not self.page.evaluate("typeof window.axe === 'object'"):
            self.page.evaluate(self.axe_source)
        if width_name == "wide":
            only = {"type": "tag", "values": AXE_TAGS}
        else:
            only = {"type": "rule", "values": AXE_LAYOUT_RULES}
        return self.page.evaluate(
            "only => axe.run(document, {runOnly: only, resultTypes: ['violations']})"
            ".then(result => result.violations.map(v => ({id: v.id, help: v.help,"
            " nodes: v.nodes.map(n => ({target: n.target.map(String)}))})))",
            only,
        )

    def links(self):
        hrefs = self.page.eval_on_selector_all(
            "a[href]", "links => links.map(a => a.href).filter(h => h.startsWith(location.origin))"
        )
        return [urlsplit(href).path for href in hrefs]

    def walk(self, start="/", shots=None):
        """Visit `start`, then one page of every kind its links (and theirs) lead to."""
        shots = shots or {}
        seen_kinds, queue = set(), [start]
        while queue:
            path = queue.pop(0)
            kind = page_kind(path)
            if kind in seen_kinds or NOT_A_PAGE.search(path):
                continue
            seen_kinds.add(kind)
            queue.extend(self.visit(path, shot=shots.get(kind)))

    def close(self):
        self.context.close()


def axe_or_skip():
    """axe-core's source; skipped (failed under CI=true) without it, as every service a test needs."""
    from tests.conftest import require

    require(AXE.exists(), "axe-core is not installed (npm ci, which make install-dev runs)")
    return AXE.read_text()


@pytest.fixture
def demo(db):
    """The demo, and an import the secretariat previewed (one good row, one with two errors), so the
    walk reaches an import's preview from the import page's list of recent imports."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from contributions import services
    from demo.loader import load_demo

    result = load_demo()
    rows = (
        "member,title,amount,currency,status,announced_on\n"
        "EE,Field radios,250000,EUR,announced,2024-05-31\n"
        "EE,Negative and a date that is not one,-5000,EUR,announced,2024-13-45\n"
    )
    from allauth.mfa.totp.internal.auth import TOTP

    from tests import factories

    # Someone with a second factor, for the sign-in step that asks for its code.
    TOTP.activate(factories.persona("walk-mfa", "steering", coalitions=[result.coalition]), "JBSWY3DPEHPK3PXP")
    secretariat = get_user_model().objects.get(username="secretariat")
    upload = SimpleUploadedFile("walk.csv", rows.encode(), content_type="text/csv")
    services.pledge_import_parse(upload, result.coalition, secretariat)
    return result


@pytest.fixture
def browser(chromium_path, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM_ARGS

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        connections.close_all()
        browser.close()


SHOTS = {"/coalitions/*": "walk-dashboard", "/pledges": "walk-pledge-list", "/meetings/#": "walk-meeting"}


def test_every_page_each_demo_role_reaches_fits_both_widths_in_both_languages_with_no_axe_violation(
    live_server, browser, demo
):
    axe_source = axe_or_skip()
    problems, walked, stacked = [], {}, {}
    for language, usernames in ROLES.items():
        anonymous = Walk(browser, live_server.url, "anonymous", language, axe_source)
        for path in ("/accounts/login/", "/accounts/password/reset/"):
            anonymous.visit(path)
        anonymous.second_factor_step()
        problems += anonymous.problems
        anonymous.close()
        for username in usernames:
            walk = Walk(browser, live_server.url, username, language, axe_source)
            walk.sign_in()
            walk.walk("/", shots=SHOTS if username == "secretariat" else None)
            problems += walk.problems
            walked[username, language] = walk.walked
            stacked[username, language] = walk.stacked
            walk.close()
    for (username, language), paths in walked.items():
        print(f"{username}/{language}: {len(paths)} pages: {' '.join(paths)}")
    print(f"{sum(map(len, walked.values()))} pages signed in, each at {len(WIDTHS)} widths")
    for (username, language), kinds in stacked.items():
        # Every role reaches the pledge list, the priorities and the meetings; they are cards on a phone.
        assert {"/pledges", "/priorities", "/meetings"} <= kinds, (username, language, sorted(kinds))
    assert "/reports/deliveries" in stacked["secretariat", "uk"]
    kinds = {page_kind(path) for paths in walked.values() for path in paths}
    for expected in (
        "/coalitions/*",
        "/pledges",
        "/pledges/#",
        "/pledges/#/edit",
        "/meetings/#",
        "/priorities",
        "/accounts/profile",
        "/reports/deliveries",
        "/members/*",
        "/pledges/import",
        "/pledges/import/#",
        "/meetings/#/decisions/new",
    ):
        assert expected in kinds, f"the walk never reached {expected}: {sorted(kinds)}"
    assert not problems, "\n".join(problems)


def test_pages_apart_answer_without_errors_and_what_axe_finds_there_is_the_known_list(live_server, browser, admin_user):
    from tests import factories

    axe_source = axe_or_skip()
    walk = Walk(browser, live_server.url, admin_user.username, "en", axe_source)
    walk.sign_in(factories.PASSWORD)
    for path, (why, known) in APART.items():
        walk.visit(path, check=False)
        walk.page.wait_for_load_state("networkidle")
        walk.found = set()
        walk.check("wide", apart=known)  # axe's full run; these pages' own layouts are theirs
        print(f"{path} ({why}): axe finds {sorted(walk.found)}")
    problems = walk.problems
    walk.close()
    assert not problems, "\n".join(problems)
