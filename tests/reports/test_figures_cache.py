"""The dashboard's figures and the summary are cached under a fingerprint (change stamp, coalition,
reader's visibility version, language, filters): a write through any service changes it, so no
reader ever sees figures older than the last write."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache, caches
from django.urls import reverse
from django.utils import translation

from coalition import services as coalition_services
from coalition import stamps
from contributions import services
from reports import figures
from tests import factories

pytestmark = pytest.mark.django_db


def _dashboard(client, coalition):
    return client.get(reverse("reports:dashboard", args=[coalition.slug]))


def test_a_pledge_written_after_a_view_is_in_the_next_view(client, steering, coalition, member_a, rates):
    client.force_login(steering)
    factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal("100.00"), status="announced")
    assert _dashboard(client, coalition).context["summary"].total_eur == Decimal("100.00")
    before = stamps.stamp_of(coalition.pk)
    factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal("50.00"), status="confirmed")
    assert stamps.stamp_of(coalition.pk) == before + 1
    summary = _dashboard(client, coalition).context["summary"]
    assert summary.total_eur == Decimal("150.00") and summary.confirmed_eur == Decimal("50.00")


def test_a_renamed_member_and_a_new_target_show_at_once(client, steering, secretariat, coalition, member_a, rates):
    client.force_login(steering)
    factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal("100.00"), status="announced")
    assert _dashboard(client, coalition).context["summary"].by_member[0].name == "Estonia"
    coalition_services.member_update(acting_user=None, member=member_a, name="Republic of Estonia")
    coalition_services.coalition_update(acting_user=secretariat, coalition=coalition, target_eur=Decimal("1000.00"))
    summary = _dashboard(client, coalition).context["summary"]
    assert summary.by_member[0].name == "Republic of Estonia" and summary.target_eur == Decimal("1000.00")


def test_a_priority_change_shows_at_once(client, steering, secretariat, coalition):
    client.force_login(steering)
    priority = services.priority_create(
        acting_user=secretariat, coalition=coalition, title="Servers", estimated_cost_eur=Decimal("1000")
    )
    assert [row.title for row in _dashboard(client, coalition).context["summary"].priorities] == ["Servers"]
    services.priority_update(acting_user=secretariat, priority=priority, title="Radios")
    assert [row.title for row in _dashboard(client, coalition).context["summary"].priorities] == ["Radios"]


def test_the_fingerprint_tells_readers_languages_and_filters_apart(coalition, steering, partner, secretariat):
    other_steering = factories.persona("steering2", "steering", coalitions=[coalition])
    key = figures.fingerprint("summary", coalition, steering, {})
    assert figures.fingerprint("summary", coalition, other_steering, {}) == key  # the same seats: shared
    assert figures.fingerprint("summary", coalition, partner, {}) != key
    assert figures.fingerprint("summary", coalition, secretariat, {}) != key
    assert figures.fingerprint("summary", coalition, steering, {"date_from": date(2024, 1, 1)}) != key
    assert figures.fingerprint("dashboard", coalition, steering, {}) != key
    with translation.override("uk"):
        assert figures.fingerprint("summary", coalition, steering, {}) != key
    stamps.bump([coalition.pk])
    coalition.refresh_from_db()  # the stamp is read once per coalition object (once per request)
    del coalition._change_stamp
    assert figures.fingerprint("summary", coalition, steering, {}) != key


def test_a_title_change_shows_in_the_recent_changes_at_once(client, steering, coalition, member_a, rates):
    client.force_login(steering)
    pledge = factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal("100.00"), status="announced")
    assert [c.title for c in _dashboard(client, coalition).context["recent_changes"]][0] == pledge.title
    services.pledge_update(acting_user=None, pledge=pledge, title="Radios, corrected")
    assert [c.title for c in _dashboard(client, coalition).context["recent_changes"]][0] == "Radios, corrected"


def test_the_dashboard_in_ukrainian_is_cached_apart(client, steering, coalition, member_a, rates):
    client.force_login(steering)
    factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal("100.00"), status="announced")
    english = _dashboard(client, coalition).content.decode()
    ukrainian = client.get(
        reverse("reports:dashboard", args=[coalition.slug]), HTTP_ACCEPT_LANGUAGE="uk"
    ).content.decode()
    assert "Cumulative pledges over time" in english and "Cumulative pledges over time" not in ukrainian


@pytest.mark.redis
def test_the_summary_is_kept_in_redis_for_every_web_replica(coalition, member_a, partner, rates):
    from django.core.cache.backends.redis import RedisCache

    from coalition.services import api_key_create
    from tests.api_mixins import client_with_key

    assert isinstance(caches["default"], RedisCache)  # REDIS_URL: the cache every web process shares
    factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal("100.00"), status="announced")
    client = client_with_key(api_key_create(owner=partner, name="tests")[1])
    assert client.get(reverse("api:summary"), {"coalition": coalition.slug}).json()["total_eur"] == "100.00"
    key = cache.make_key(figures.fingerprint("summary", coalition, partner, {}))
    redis = cache._cache.get_client(key)
    assert redis.exists(key)  # in Redis itself, not in this process's memory
    redis.delete(key)


def test_a_dashboard_from_the_cache_reads_no_figures_and_shows_the_same_panels(
    client, steering, coalition, member_a, rates, monkeypatch
):
    client.force_login(steering)
    factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal("100.00"), status="announced")
    first = _dashboard(client, coalition)
    assert first.context["summary"].total_eur == Decimal("100.00")
    panels = first.context["figure_html"]

    def fail(*args, **kwargs):
        raise AssertionError("a cached dashboard read its figures")

    monkeypatch.setattr("reports.views.figures_for", fail)
    again = _dashboard(client, coalition)
    assert again.status_code == 200 and again.context["figure_html"] == panels
    assert panels["sections"] in again.content.decode() and panels["headline"] in again.content.decode()
    monkeypatch.undo()
    factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal("50.00"), status="announced")
    after = _dashboard(client, coalition)
    assert after.context["summary"].total_eur == Decimal("150.00") and after.context["figure_html"] != panels
