"""The profile page (subscriptions per report and coalition, language) and the secretariat's
delivery log (filters, pages, sending a failed one again)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reports import services
from reports.mail_selectors import Recipient
from reports.models import Delivery, Report, Subscription

pytestmark = [pytest.mark.django_db]
PROFILE = "/accounts/profile/"
DELIVERIES = "/reports/deliveries/"


def subscriptions(user):
    return set(Subscription.objects.filter(user=user).values_list("coalition__slug", "report"))


def test_the_urls_are_the_documented_ones():
    assert reverse("reports:profile") == PROFILE
    assert reverse("reports:deliveries") == DELIVERIES
    assert reverse("reports:unsubscribe", args=["abc:def"]) == "/reports/unsubscribe/abc:def/"


def test_profile_needs_sign_in(client):
    response = client.get(PROFILE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_steering_sees_digest_and_meeting_checkboxes_but_not_the_notice(client, steering, coalition):
    client.force_login(steering)
    html = client.get(PROFILE).content.decode()
    assert f'name="sub_{coalition.pk}_digest"' in html
    assert f'name="sub_{coalition.pk}_meeting"' in html
    assert f'name="sub_{coalition.pk}_notice"' not in html
    assert "checked" in html  # the defaults
    assert "steering@example.org" in html


def test_profile_post_sets_subscriptions_and_language(steering, coalition, other_coalition):
    from tests import factories

    steering = factories.persona("steering", "steering", coalitions=[other_coalition])
    client = Client(enforce_csrf_checks=True)
    client.force_login(steering)
    page = client.get(PROFILE)
    assert page.status_code == 200
    token = client.cookies["csrftoken"].value

    response = client.post(
        PROFILE,
        {"csrfmiddlewaretoken": token, "language": "uk", f"sub_{other_coalition.pk}_meeting": "on"},
    )

    assert response.status_code == 302 and response["Location"] == PROFILE
    assert subscriptions(steering) == {("other-coalition", Report.MEETING)}
    steering.profile.refresh_from_db()
    assert steering.profile.language == "uk"


def test_profile_post_without_csrf_token_is_refused(steering):
    client = Client(enforce_csrf_checks=True)
    client.force_login(steering)
    assert client.post(PROFILE, {"language": "uk"}).status_code == 403
    steering.profile.refresh_from_db()
    assert steering.profile.language == "en"


def test_a_forged_checkbox_for_a_report_the_user_may_not_receive_is_ignored(client, steering, coalition):
    client.force_login(steering)
    client.post(PROFILE, {"language": "en", f"sub_{coalition.pk}_notice": "on", f"sub_{coalition.pk}_digest": "on"})
    assert subscriptions(steering) == {("test-coalition", Report.DIGEST)}


def test_a_user_cannot_change_someone_elses_subscriptions(steering, secretariat, coalition):
    with pytest.raises(Exception, match="your own"):
        services.report_unsubscribe(acting_user=steering, user=secretariat, coalition=coalition, report="digest")


@pytest.fixture
def ledger(coalition):
    ids = services.deliveries_prepare(
        report=Report.DIGEST,
        coalition=coalition,
        period="2024-W23",
        recipients=[Recipient(email=f"reader{n}@example.org") for n in range(60)],
        period_start=timezone.now() - timedelta(days=7),
        period_end=timezone.now(),
    )
    Delivery.objects.filter(pk=ids[0]).update(status="failed", attempts=6, last_error="SMTPDataError: 451 busy")
    Delivery.objects.filter(pk__in=ids[1:]).update(status="sent", attempts=1)
    return ids


@pytest.mark.parametrize(("persona", "status"), [("steering", 403), ("editor_a", 403), ("partner", 403)])
def test_only_the_secretariat_sees_the_delivery_log(client, personas, ledger, persona, status):
    client.force_login(personas[persona])
    assert client.get(DELIVERIES).status_code == status


def test_the_delivery_log_shows_report_period_recipient_status_attempts_and_error(client, secretariat, ledger):
    client.force_login(secretariat)
    html = client.get(DELIVERIES, {"status": "failed"}).content.decode()
    assert "reader0@example.org" in html
    assert "2024-W23" in html and "weekly digest" in html
    assert "SMTPDataError: 451 busy" in html
    assert "<strong>failed</strong>" in html and ">6</td>" in html
    assert "reader1@example.org" not in html  # filtered out
    assert "Send again" in html


def test_the_delivery_log_is_paged_and_searchable(client, secretariat, ledger):
    client.force_login(secretariat)
    first = client.get(DELIVERIES).content.decode()
    assert first.count("@example.org</td>") == 50
    assert "Page 1 of 2" in first
    assert client.get(DELIVERIES, {"page": 2}).content.decode().count("@example.org</td>") == 10
    assert client.get(DELIVERIES, {"q": "reader42@"}).content.decode().count("@example.org</td>") == 1


def test_the_delivery_log_hides_other_coalitions(client, secretariat, other_coalition):
    services.deliveries_prepare(
        report=Report.DIGEST, coalition=other_coalition, period="2024-W23", recipients=[Recipient("x@example.org")]
    )
    client.force_login(secretariat)
    assert "x@example.org" not in client.get(DELIVERIES).content.decode()


def test_the_secretariat_sends_a_failed_delivery_again(
    client, secretariat, ledger, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(secretariat)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:delivery_retry", args=[ledger[0]]), {"next": DELIVERIES + "?status=failed"}
        )

    assert response.status_code == 302 and response["Location"] == DELIVERIES + "?status=failed"
    delivery = Delivery.objects.get(pk=ledger[0])
    assert (delivery.status, delivery.attempts) == ("sent", 7)
    assert [m.to for m in mailoutbox] == [["reader0@example.org"]]


def test_sending_again_redirects_only_within_the_site(client, secretariat, ledger):
    client.force_login(secretariat)
    response = client.post(reverse("reports:delivery_retry", args=[ledger[0]]), {"next": "https://evil.example/"})
    assert response["Location"] == DELIVERIES
