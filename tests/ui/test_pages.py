"""What every page shares: the error pages say why and where to go, in the reader's language and the
portal's look; what cannot be taken back asks first; dates read one way per language."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contributions import services as contribution_services
from contributions.models import PriorityPurchase
from meetings import services as meeting_services
from meetings.models import ActionItem

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


# --- Error pages ---------------------------------------------------------------------------------


@pytest.mark.translations
@pytest.mark.parametrize(
    ("language", "title", "back"),
    [("en", "Page not found", "Back to your dashboard"), ("uk", "Сторінку не знайдено", "Назад до вашої панелі")],
)
def test_404_is_the_portals_page_in_the_readers_language(client, steering, language, title, back):
    response = login(client, steering).get("/pledges/999999999/", HTTP_ACCEPT_LANGUAGE=language)
    html = response.content.decode()
    assert response.status_code == 404
    assert f"<h1>{title}</h1>" in html and back in html
    assert f'<html lang="{language}">' in html
    assert 'href="/static/css/portal.css"' in html and 'class="site-nav"' in html, "the portal's look and navigation"


@pytest.mark.translations
@pytest.mark.parametrize(("language", "title"), [("en", "Not allowed"), ("uk", "Не дозволено")])
def test_403_says_why_who_is_signed_in_and_where_to_go(client, coalition, steering, language, title):
    response = login(client, steering).get(reverse("pledges:create"), HTTP_ACCEPT_LANGUAGE=language)
    html = response.content.decode()
    assert response.status_code == 403
    assert f"<h1>{title}</h1>" in html
    assert "steering" in html, "says who is signed in"
    assert 'href="/pledges/"' in html and 'href="/"' in html


def test_403_for_an_expired_form_says_what_to_do(steering):
    client = Client(enforce_csrf_checks=True)
    client.force_login(steering)
    response = client.post(reverse("reports:profile"), {}, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 403
    assert "The form has expired" in html and "Nothing was saved" in html


@pytest.mark.translations
def test_500_is_styled_and_translated_without_touching_the_database(rf, django_assert_num_queries):
    from django.utils import translation

    from config.errors import server_error

    with translation.override("uk"), django_assert_num_queries(0):
        response = server_error(rf.get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="uk">' in html and "portal.css" in html
    assert "Щось пішло не так" in html


def test_the_favicon_is_served_and_linked(client):
    assert client.get("/favicon.ico").headers["Location"].endswith("favicon.svg")
    assert 'rel="icon"' in client.get(reverse("login")).content.decode()


# --- Confirm what cannot be taken back ----------------------------------------------------------


def test_dropping_a_priority_asks_first(client, secretariat, coalition):
    priority = contribution_services.priority_create(
        acting_user=None, coalition=coalition, title="Satellite terminals", estimated_cost_eur=Decimal("500000")
    )
    url = reverse("priorities:transition", args=[priority.pk])
    data = {"to_status": "dropped", "version": priority.version}
    page = login(client, secretariat).post(url, data)
    assert page.status_code == 200 and "Drop this priority purchase?" in page.content.decode()
    priority.refresh_from_db()
    assert priority.status == PriorityPurchase.Status.PROPOSED
    client.post(url, {**data, "confirm": "yes"})
    priority.refresh_from_db()
    assert priority.status == PriorityPurchase.Status.DROPPED


def test_dropping_an_action_item_asks_first_and_done_does_not(client, secretariat, coalition, member_a):
    meeting = meeting_services.meeting_create(
        acting_user=None, coalition=coalition, title="SG", starts_at=datetime(2024, 2, 2, 8, tzinfo=UTC)
    )
    drop = meeting_services.action_item_add(acting_user=None, meeting=meeting, text="Draft roadmap", owner=member_a)
    done = meeting_services.action_item_add(acting_user=None, meeting=meeting, text="Send minutes", owner=member_a)
    login(client, secretariat)
    url = reverse("meetings:action_item_status", args=[meeting.pk, drop.pk])
    page = client.post(url, {"status": "dropped", "version": drop.version})
    assert page.status_code == 200 and "Drop this action item?" in page.content.decode()
    assert ActionItem.objects.get(pk=drop.pk).status == "open"
    client.post(url, {"status": "dropped", "version": drop.version, "confirm": "yes"})
    assert ActionItem.objects.get(pk=drop.pk).status == "dropped"
    done_url = reverse("meetings:action_item_status", args=[meeting.pk, done.pk])
    assert client.post(done_url, {"status": "done", "version": done.version}).status_code == 302
    assert ActionItem.objects.get(pk=done.pk).status == "done"


def test_danger_actions_never_look_like_the_primary_one(client, secretariat, pledge_a):
    """The danger style must win over the default button look (it lost to a more specific rule)."""
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "static/css/portal.css").read_text()
    default_rule = re.search(r"^(.*)\{[^}]*background: var\(--brand\);", css, re.M).group(1)
    assert "button[type" not in default_rule.replace(':where(button[type="submit"]:not(.link-button))', "")
    html = login(client, secretariat).get(reverse("pledges:detail", args=[pledge_a.pk])).content.decode()
    withdraw = re.search(r'<button type="submit" class="([^"]*)">Withdraw</button>', html)
    delete = re.search(r'<button type="submit" class="([^"]*)">Delete \(entered by mistake\)</button>', html)
    assert "button--danger" in withdraw.group(1) and "button--danger" in delete.group(1)


# --- Dates ---------------------------------------------------------------------------------------

US_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b")
# Django's English defaults: "Sept. 19, 2023", "May 31, 2024, 10 a.m."
US_WORDS = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{1,2}, \d{4}\b")


@pytest.mark.translations
def test_dates_read_one_way_per_language_on_every_page(client, secretariat, coalition, pledge_a, member_a):
    contribution_services.pledge_transition(
        acting_user=None, pledge=pledge_a, to_status="confirmed", on_date=date(2024, 5, 31)
    )
    meeting = meeting_services.meeting_create(
        acting_user=None, coalition=coalition, title="Tallinn", starts_at=timezone.now() - timedelta(days=3)
    )
    meeting_services.action_item_add(
        acting_user=None, meeting=meeting, text="Roadmap", owner=member_a, due_on=date(2024, 10, 1)
    )
    login(client, secretariat)
    pages = [
        reverse("reports:dashboard", args=[coalition.slug]),
        reverse("pledges:list"),
        reverse("pledges:detail", args=[pledge_a.pk]),
        reverse("meetings:list"),
        reverse("meetings:detail", args=[meeting.pk]),
        reverse("member_detail", args=[member_a.code]),
        reverse("reports:deliveries"),
    ]
    for url in pages:
        en = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        text = re.sub(r'(datetime|value|href|content)="[^"]*"', "", en)
        assert not US_DATE.search(text), (url, US_DATE.search(text).group(0))
        assert not US_WORDS.search(text), (url, US_WORDS.search(text).group(0))
    en = client.get(reverse("pledges:detail", args=[pledge_a.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">31 May 2024</time>" in en
    uk = client.get(reverse("pledges:detail", args=[pledge_a.pk]), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert ">31 травня 2024</time>" in uk
    items = client.get(reverse("meetings:detail", args=[meeting.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">1 October 2024</time>" in items, "10/01/2024 read as the 10th of January"


def test_date_fields_take_iso_and_refuse_a_slashed_date_whose_order_is_a_guess(client, editor_a, coalition, rates):
    login(client, editor_a)
    data = {
        "coalition": coalition.pk,
        "title": "Radios",
        "kind": "financial",
        "channel": "bilateral",
        "amount": "1000",
        "currency": "EUR",
        "status": "announced",
    }
    refused = client.post(reverse("pledges:create"), {**data, "announced_on": "10/01/2024"})
    assert "announced_on" in refused.context["form"].errors
    assert client.post(reverse("pledges:create"), {**data, "announced_on": "2024-10-01"}).status_code == 302
