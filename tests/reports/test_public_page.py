"""The public page of a coalition that opted in: no sign-in, no JavaScript, two languages, its tables as
CSV and charts as SVG, cached and invalidated on change, a fixed query count, and nothing private in
any of it (a matrix of every kind of private record, each seeded with a marker string)."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from lxml import etree

from coalition import services as coalition_services
from contributions import services as pledge_services
from meetings import services as meeting_services
from reports import public
from tests import factories

pytestmark = pytest.mark.django_db

TABLES = ("progress", "status", "members", "months", "priorities", "meetings")
CHARTS = ("progress", "status", "members", "months", "priorities")

#: One marker per kind of private record; none may appear anywhere public.
PRIVATE = {
    "draft pledge title": "QXDRAFTTITLE",
    "draft pledge description": "QXDRAFTDESC",
    "withdrawn-before-publication pledge": "QXWITHDRAWNTITLE",
    "published pledge's draft-era title": "QXDRAFTERA",
    "published pledge description": "QXPUBDESC",
    "meeting delegates": "QXDELEGATE",
    "draft minutes": "QXDRAFTMINUTES",
    "approved minutes": "QXAPPROVEDMINUTES",
    "agenda item notes": "QXAGENDANOTES",
    "agenda item title": "QXAGENDATITLE",
    "action item": "QXACTIONITEM",
    "decision of a meeting with draft minutes": "QXUNAPPROVEDDECISION",
    "planned meeting title": "QXPLANNEDTITLE",
    "planned meeting location": "QXPLANNEDLOCATION",
    "planned meeting decision": "QXPLANNEDDECISION",
    "held meeting location": "QXHELDLOCATION",
    "disbursement note": "QXDISBNOTE",
    "disbursement reference": "QXDISBREF",
    "allocation note": "QXALLOCNOTE",
    "pledge external reference": "QXEXTREF",
    "member editor's name": "QXEDITORNAME",
    "member editor's user name": "qxeditoruser",
    "secretariat's e-mail": "qxsecretariat",
    "other coalition's pledge": "QXOTHERCOALITION",
}
PUBLIC = {"approved decision": "Decided: buy QXPUBLICDECISION", "held meeting": "Steering group QXHELD"}
#: A draft pledge's amount: no public total may include it.
DRAFT_AMOUNT = Decimal("777777.00")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The personas' passwords are hashed with PBKDF2 otherwise: seconds per test, nothing tested."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    cache.clear()
    factories.standard_rates()
    coalition = factories.CoalitionFactory(slug="open-coalition", name="Open Coalition", public=True)
    other = factories.CoalitionFactory(slug="closed-coalition", name="Closed Coalition")
    ee = factories.MemberFactory(code="EE", name="Estonia")
    lu = factories.MemberFactory(code="LU", name="Luxembourg")
    for member in (ee, lu):
        factories.MembershipFactory(member=member, coalition=coalition)
        factories.MembershipFactory(member=member, coalition=other)
    editor = factories.persona("qxeditoruser", "member-editor", member=ee, coalitions=[coalition])
    editor.first_name, editor.last_name = "QXEDITORNAME", "Editor"
    editor.save(update_fields=["first_name", "last_name"])
    factories.persona("qxsecretariat", "secretariat", coalitions=[coalition], email="qxsecretariat@example.org")

    published = factories.make_pledge(
        coalition=coalition,
        member=ee,
        acting_user=editor,
        title="QXDRAFTERA",
        description="QXPUBDESC",
        external_ref="QXEXTREF",
        amount=Decimal("1000000.00"),
        status="draft",
    )
    published = pledge_services.pledge_update(acting_user=None, pledge=published, title="Servers")
    published = pledge_services.pledge_confirm(acting_user=None, pledge=published, on_date=date(2024, 3, 1))
    factories.make_pledge(coalition=coalition, member=lu, amount=Decimal("250000.00"), currency="EUR", title="Laptops")
    factories.make_pledge(
        coalition=coalition,
        member=lu,
        title="QXDRAFTTITLE",
        description="QXDRAFTDESC",
        amount=DRAFT_AMOUNT,
        status="draft",
    )
    withdrawn = factories.make_pledge(
        coalition=coalition, member=ee, title="QXWITHDRAWNTITLE", amount=Decimal("555555.00"), status="draft"
    )
    pledge_services.pledge_withdraw(acting_user=None, pledge=withdrawn)
    factories.make_pledge(coalition=other, member=ee, title="QXOTHERCOALITION", amount=Decimal("333333.00"))

    published.refresh_from_db()
    pledge_services.disbursement_record(
        acting_user=None,
        pledge=published,
        amount=Decimal("100000.00"),
        date=date(2024, 4, 1),
        reference="QXDISBREF",
        note="QXDISBNOTE",
    )
    priority = pledge_services.priority_create(
        acting_user=None, coalition=coalition, title="Secure radios", estimated_cost_eur=Decimal("2000000.00")
    )
    published.refresh_from_db()
    pledge_services.allocation_set(
        acting_user=None, pledge=published, priority=priority, amount_eur=Decimal("500000.00"), note="QXALLOCNOTE"
    )

    def meeting(title, *, days_ago, location="", minutes=""):
        return meeting_services.meeting_create(
            acting_user=None,
            coalition=coalition,
            title=title,
            starts_at=timezone.now() - timedelta(days=days_ago),
            location=location,
            minutes=minutes,
        )

    approved = meeting(PUBLIC["held meeting"], days_ago=30, location="QXHELDLOCATION", minutes="QXAPPROVEDMINUTES")
    meeting_services.attendance_set(
        acting_user=None, meeting=approved, member=ee, status="present", delegates="QXDELEGATE Minister"
    )
    meeting_services.agenda_item_add(acting_user=None, meeting=approved, title="QXAGENDATITLE", notes="QXAGENDANOTES")
    meeting_services.action_item_add(acting_user=None, meeting=approved, text="QXACTIONITEM")
    meeting_services.decision_record(acting_user=None, meeting=approved, text=PUBLIC["approved decision"])
    approved = meeting_services.meeting_mark_held(acting_user=None, meeting=approved)
    meeting_services.meeting_update(acting_user=None, meeting=approved, minutes_status="approved")

    draft = meeting("Expert group", days_ago=10, minutes="QXDRAFTMINUTES")
    meeting_services.decision_record(acting_user=None, meeting=draft, text="QXUNAPPROVEDDECISION")
    meeting_services.meeting_mark_held(acting_user=None, meeting=draft)

    planned = meeting("QXPLANNEDTITLE", days_ago=-10, location="QXPLANNEDLOCATION")
    meeting_services.decision_record(acting_user=None, meeting=planned, text="QXPLANNEDDECISION")
    return {"coalition": coalition, "other": other, "published": published, "ee": ee, "lu": lu}


def _bodies(client, slug, language):
    """Every public artefact of ``slug`` in ``language``: name -> decoded body."""
    bodies = {"page": client.get(reverse("public:page", args=[slug]), {"lang": language})}
    for table in TABLES:
        bodies[f"{table}.csv"] = client.get(reverse("public:table", args=[slug, table]), {"lang": language})
    for chart in CHARTS:
        bodies[f"{chart}.svg"] = client.get(reverse("public:chart", args=[slug, chart]), {"lang": language})
    for name, response in bodies.items():
        assert response.status_code == 200, (name, response.status_code)
    return {name: response.content.decode() for name, response in bodies.items()}


@pytest.mark.parametrize("language", ["en", "uk"])
def test_nothing_private_appears_in_the_page_its_csvs_or_its_svgs(world, language):
    bodies = _bodies(Client(), "open-coalition", language)
    for name, body in bodies.items():
        for kind, marker in PRIVATE.items():
            assert marker.casefold() not in body.casefold(), f"{kind} ({marker}) shown in {name} ({language})"
    # What is public is there: the approved decision, the held meeting, the published members' totals.
    assert PUBLIC["approved decision"] in bodies["page"]
    assert PUBLIC["approved decision"] in bodies["meetings.csv"]
    assert PUBLIC["held meeting"] in bodies["page"]
    assert "Expert group" in bodies["page"]  # held, its minutes still draft: listed, without its decision
    assert "Estonia" in bodies["members.csv"] and "Luxembourg" in bodies["members.csv"]
    assert "1250000.00" in bodies["progress.csv"]  # the two published pledges; the draft's 777,777 is not in
    assert str(DRAFT_AMOUNT) not in "".join(bodies.values())
    assert "555555" not in "".join(bodies.values())


def test_a_coalition_not_opted_in_answers_404_everywhere(world):
    client = Client()
    assert client.get(reverse("public:page", args=["closed-coalition"])).status_code == 404
    assert client.get(reverse("public:table", args=["closed-coalition", "members"])).status_code == 404
    assert client.get(reverse("public:chart", args=["closed-coalition", "members"])).status_code == 404
    assert client.get(reverse("public:page", args=["no-such-coalition"])).status_code == 404
    assert client.get(reverse("public:table", args=["open-coalition", "seats"])).status_code == 404
    assert client.get(reverse("public:chart", args=["open-coalition", "delegates"])).status_code == 404


def test_switching_the_page_off_takes_it_down_at_once(world):
    client = Client()
    assert client.get(reverse("public:page", args=["open-coalition"])).status_code == 200
    coalition = world["coalition"]
    coalition_services.coalition_update(acting_user=None, coalition=coalition, version=coalition.version, public=False)
    assert client.get(reverse("public:page", args=["open-coalition"])).status_code == 404
    assert client.get(reverse("public:chart", args=["open-coalition", "status"])).status_code == 404


def test_the_page_needs_no_sign_in_and_no_script_and_has_a_data_as_of_line(world):
    response = Client().get(reverse("public:page", args=["open-coalition"]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script" not in body and "<style" not in body and " style=" not in body
    assert "csrfmiddlewaretoken" not in body
    assert "Data as of" in body
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT', body)
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_the_language_switch_is_a_plain_link(world):
    client = Client()
    english = client.get(reverse("public:page", args=["open-coalition"]), {"lang": "en"}).content.decode()
    ukrainian = client.get(reverse("public:page", args=["open-coalition"]), {"lang": "uk"}).content.decode()
    assert '<html lang="en">' in english and 'href="?lang=uk"' in english
    assert '<html lang="uk">' in ukrainian
    assert "Дані станом на" in ukrainian
    header = client.get(reverse("public:table", args=["open-coalition", "members"]), {"lang": "uk"})
    assert header["Content-Language"] == "uk"
    assert header.content.decode().splitlines()[0].lstrip("\ufeff").startswith("Місце")


def test_each_chart_is_an_svg_of_its_own_with_dot_decimals_in_every_language(world):
    for language in ("en", "uk"):
        response = Client().get(reverse("public:chart", args=["open-coalition", "members"]), {"lang": language})
        assert response["Content-Type"] == "image/svg+xml"
        assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
        root = etree.fromstring(response.content)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        for element in root.iter():
            for name in ("x", "y", "width", "height", "x1", "x2", "y1", "y2", "cx", "cy", "r"):
                value = element.get(name)
                if value is not None and not value.endswith("%"):
                    assert re.fullmatch(r"-?\d+(\.\d+)?", value), (language, name, value)


def test_a_cached_page_costs_one_query_and_a_change_invalidates_it(world, django_assert_num_queries):
    client = Client()
    url = reverse("public:page", args=["open-coalition"])
    # Uncached: the coalition with its fingerprint, then the dashboard's own figures (summary, member
    # table, kind and channel, coverage, data as of, the last meeting), held meetings and decisions.
    # The member table's history as of the held meeting is kept: after a change, one query less.
    with django_assert_num_queries(17):
        first = client.get(url).content.decode()
    with django_assert_num_queries(1):
        assert client.get(url).content.decode() == first
    factories.make_pledge(coalition=world["coalition"], member=world["lu"], amount=Decimal("4000.00"))
    with django_assert_num_queries(16):
        changed = client.get(url).content.decode()
    assert "1,254,000" in changed and "1,254,000" not in first


def test_the_query_count_does_not_grow_with_the_data(world, django_assert_num_queries):
    for index in range(30):
        factories.make_pledge(coalition=world["coalition"], member=world["lu"], amount=Decimal(1000 + index))
    for index in range(3):
        meeting = meeting_services.meeting_create(
            acting_user=None,
            coalition=world["coalition"],
            title=f"Plenary {index}",
            starts_at=timezone.now() - timedelta(days=60 + index),
        )
        meeting_services.decision_record(acting_user=None, meeting=meeting, text=f"Decided {index}")
        meeting_services.meeting_mark_held(acting_user=None, meeting=meeting)
    with django_assert_num_queries(17):
        assert Client().get(reverse("public:page", args=["open-coalition"])).status_code == 200


def test_a_deletion_invalidates_the_cache(world):
    client = Client()
    url = reverse("public:table", args=["open-coalition", "progress"])
    lu_pledge = world["lu"].pledges.get(title="Laptops")
    assert "1250000.00" in client.get(url).content.decode()
    pledge_services.pledge_delete(acting_user=None, pledge=lu_pledge)
    assert "1000000.00" in client.get(url).content.decode()


def test_a_member_rename_invalidates_the_cache(world):
    client = Client()
    url = reverse("public:table", args=["open-coalition", "members"])
    assert "Estonia" in client.get(url).content.decode()
    coalition_services.member_update(acting_user=None, member=world["ee"], name="Republic of Estonia")
    assert "Republic of Estonia" in client.get(url).content.decode()


def test_the_data_as_of_line_is_the_newest_change(world):
    coalition = public.public_coalition("open-coalition")
    newest = world["coalition"].pledges.order_by("-updated_at").values_list("updated_at", flat=True)[0]
    assert public.data_as_of(coalition) >= newest


class TestTheSwitchOnTheDashboard:
    def test_the_secretariat_switches_it_on(self, client, coalition, secretariat):
        client.force_login(secretariat)
        response = client.post(
            reverse("reports:dashboard_public", args=[coalition.slug]), {"public": "1", "version": coalition.version}
        )
        assert response.status_code == 302
        coalition.refresh_from_db()
        assert coalition.public is True and coalition.version == 2
        page = client.get(reverse("reports:dashboard", args=[coalition.slug])).content.decode()
        assert reverse("public:page", args=[coalition.slug]) in page

    def test_a_stale_version_changes_nothing(self, client, coalition, secretariat):
        client.force_login(secretariat)
        coalition_services.coalition_update(acting_user=None, coalition=coalition, description="Changed")
        response = client.post(
            reverse("reports:dashboard_public", args=[coalition.slug]), {"public": "1", "version": 1}, follow=True
        )
        assert "changed by someone else" in response.content.decode()
        coalition.refresh_from_db()
        assert coalition.public is False

    def test_a_partner_may_not(self, client, coalition, partner):
        client.force_login(partner)
        response = client.post(
            reverse("reports:dashboard_public", args=[coalition.slug]), {"public": "1", "version": 1}
        )
        assert response.status_code == 403
        coalition.refresh_from_db()
        assert coalition.public is False
