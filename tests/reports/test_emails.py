"""The report emails as rendered (in-process, locmem backend): multipart, the dashboard's figures,
the recipient's language, absolute links, and an unsubscribe link that works."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from contributions import services as contribution_services
from meetings import services as meeting_services
from reports import mail_selectors, tasks
from reports.models import Delivery, Report, Subscription
from reports.selectors import coalition_summary
from tests import factories

pytestmark = [pytest.mark.django_db]


def money(value, sep=",", dec="."):
    """How the templates write an amount in English (1,234,567.89)."""
    whole, cents = f"{Decimal(value):.2f}".split(".")
    return f"{int(whole):,}".replace(",", sep) + dec + cents


def send(task, *args, capture, **kwargs):
    """Run a report task as a signal receiver would, its on_commit queueing included."""
    with capture(execute=True):
        task.delay(*args, **kwargs)


def messages_to(user):
    return [m for m in mail.outbox if m.to == [user.email]]


def html_of(message):
    (html, mimetype), *_rest = message.alternatives
    assert mimetype == "text/html"
    return html


@pytest.fixture
def digest(report_world, subscriber, django_capture_on_commit_callbacks, coalition):
    mail.outbox.clear()
    send(tasks.send_digest, coalition.pk, capture=django_capture_on_commit_callbacks)
    (message,) = messages_to(subscriber)
    return message


def test_digest_is_multipart_text_and_html(digest):
    raw = digest.message()
    assert raw.is_multipart()
    assert [part.get_content_type() for part in raw.get_payload()] == ["text/plain", "text/html"]
    assert "Weekly digest" in digest.body
    assert html_of(digest).lstrip().startswith("<!DOCTYPE html>")


def test_digest_figures_are_the_dashboards(digest, coalition):
    summary = coalition_summary(coalition)
    html = html_of(digest)
    for figure in (summary.total_eur, summary.confirmed_eur, summary.announced_eur, summary.disbursed_eur):
        assert money(figure) in digest.body
        assert money(figure) in html
    assert money(summary.target_eur) in digest.body
    assert money(summary.gap_eur) in digest.body
    # The figures themselves: a 5M EUR confirmation, a 1M USD announcement, 1.2M EUR disbursed.
    assert summary.confirmed_eur == Decimal("5000000.00")
    assert summary.disbursed_eur == Decimal("1200000.00")


def test_digest_lists_changes_priorities_meeting_and_action_items(digest, report_world):
    for text in (digest.body, html_of(digest)):
        assert "Estonian e-governance" in text  # new (announced this week)
        assert "Luxembourg cyber package" in text  # confirmed
        assert "Withdrawn one" in text  # announced and withdrawn this week
        assert money("1200000.00") in text  # the disbursement
        assert "Secure connectivity" in text and money("6000000.00") in text  # unfunded gap of 8M - 2M
        assert "Second steering group" in text  # next meeting
        assert "Draft the procurement roadmap" in text  # open action item
        assert "Secret draft" not in text  # drafts never leave the portal


def test_digest_shows_the_coverage_as_a_css_bar_with_inline_styles(digest):
    html = html_of(digest)
    assert "<style" not in html and "<link" not in html and "<script" not in html
    assert 'style="width:25%;background:#047857' in html  # 2M of 8M allocated
    assert 'style="width:5%;background:#1d4ed8' in html  # 5M confirmed of the 100M target
    assert "<table" in html


def test_links_are_absolute_from_site_url(
    report_world, subscriber, coalition, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://portal.example.org"
    send(tasks.send_digest, coalition.pk, capture=django_capture_on_commit_callbacks)
    (message,) = messages_to(subscriber)
    hrefs = re.findall(r'href="([^"]+)"', html_of(message))
    assert hrefs and all(href.startswith("https://portal.example.org/") for href in hrefs)
    assert "https://portal.example.org/coalitions/test-coalition/" in hrefs
    assert "https://portal.example.org/coalitions/test-coalition/" in message.body
    assert message.extra_headers["Message-ID"].endswith("@portal.example.org>")


def test_digest_changes_cover_only_the_window(coalition, member_a, member_b, secretariat, rates):
    earlier = factories.make_pledge(coalition=coalition, member=member_a, title="Before the window")
    start = timezone.now()
    contribution_services.pledge_confirm(acting_user=secretariat, pledge=earlier)
    later = factories.make_pledge(coalition=coalition, member=member_b, title="In the window")
    end = timezone.now() + timedelta(seconds=1)

    changes = mail_selectors.digest_changes(coalition, start, end)

    assert changes.new == [later]
    assert [p.pk for p in changes.confirmed] == [earlier.pk]
    assert changes.withdrawn == []
    assert mail_selectors.digest_changes(coalition, end, end + timedelta(days=7)).is_empty


def test_a_busy_week_lists_the_largest_lines_and_links_to_the_rest(
    report_world, subscriber, coalition, member_a, settings, django_capture_on_commit_callbacks
):
    """After 60,000 new pledges a digest took 25 s to render and weighed 12.7 MB: each list now holds
    REPORTS_DIGEST_MAX_LINES lines, its count and total still cover every pledge."""
    settings.REPORTS_DIGEST_MAX_LINES = 3
    start = timezone.now() - timedelta(days=7)
    made = [
        factories.make_pledge(coalition=coalition, member=member_a, title=f"Busy {i}", amount=Decimal(1000 + i))
        for i in range(8)
    ]
    end = timezone.now() + timedelta(seconds=1)

    changes = mail_selectors.digest_changes(coalition, start, end)

    assert len(changes.new) == 3
    assert changes.new == sorted(changes.new, key=lambda p: -p.amount_eur), "the largest first"
    assert changes.counts["new"] >= len(made) and changes.more["new"] == changes.counts["new"] - 3
    assert changes.new_eur >= sum(p.amount_eur for p in made), "the total covers the lines left out"
    send(tasks.send_digest, coalition.pk, capture=django_capture_on_commit_callbacks)
    (message,) = messages_to(subscriber)
    assert re.search(r"And \d+ more lines: http://\S+/pledges/\?coalition=test-coalition", message.body), message.body
    assert "/pledges/?coalition=test-coalition" in html_of(message)
    assert message.body.count("Busy ") <= 3


@pytest.mark.translations
def test_digest_in_ukrainian_for_a_recipient_who_prefers_it(
    report_world, subscriber, coalition, django_capture_on_commit_callbacks
):
    subscriber.profile.language = "uk"
    subscriber.profile.save(update_fields=["language"])

    send(tasks.send_digest, coalition.pk, capture=django_capture_on_commit_callbacks)

    (message,) = messages_to(subscriber)
    assert "щотижневий дайджест" in message.subject
    html = html_of(message)
    for text in (message.body, html):
        assert "Від останнього дайджесту" in text
        assert "Ще не профінансовані пріоритети" in text
        assert "Відписатися від цього звіту" in text
        assert money("5000000.00", sep="\xa0", dec=",") in text  # 5 000 000,00
    assert '<html lang="uk">' in html
    assert message.extra_headers["Content-Language"] == "uk"
    # The secretariat kept English: the language is the recipient's, not the sender's.
    (english,) = [m for m in mail.outbox if m.to == ["secretariat@example.org"]]
    assert "weekly digest" in english.subject and "Since the last digest" in english.body


def test_unsubscribe_link_and_header_work_without_signing_in(digest, subscriber, coalition):
    url = re.search(r"http://[^\s]+/reports/unsubscribe/[^\s/]+/", digest.body).group()
    assert digest.extra_headers["List-Unsubscribe"] == f"<{url}>"
    assert digest.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f'href="{url}"' in html_of(digest)
    path = url.removeprefix("http://127.0.0.1:8000")
    anonymous = Client(enforce_csrf_checks=True)

    page = anonymous.get(path)
    assert page.status_code == 200
    assert "Stop sending the weekly digest of Test Coalition to steering@example.org?" in page.content.decode()
    assert Subscription.objects.filter(user=subscriber, coalition=coalition, report=Report.DIGEST).exists()

    # RFC 8058 one-click: the mail client POSTs without a session or CSRF token.
    done = anonymous.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200
    assert "no longer receives the weekly digest" in done.content.decode()
    assert not Subscription.objects.filter(user=subscriber, coalition=coalition, report=Report.DIGEST).exists()
    # The meeting summary subscription is a different one and stays.
    assert Subscription.objects.filter(user=subscriber, coalition=coalition, report=Report.MEETING).exists()


def test_unsubscribed_user_gets_no_next_digest(digest, subscriber, coalition, django_capture_on_commit_callbacks):
    url = re.search(r"/reports/unsubscribe/[^\s/]+/", digest.body).group()
    Client().post(url)
    mail.outbox.clear()
    Delivery.objects.all().delete()  # a new period

    send(tasks.send_digest, coalition.pk, capture=django_capture_on_commit_callbacks)

    assert messages_to(subscriber) == []
    assert [m.to for m in mail.outbox] == [["secretariat@example.org"]]


def test_a_tampered_unsubscribe_token_is_refused(digest, subscriber):
    url = re.search(r"/reports/unsubscribe/([^\s/]+)/", digest.body)
    token = url.group(1)
    forged = token.replace(token[5], "A" if token[5] != "A" else "B", 1)
    response = Client().post(f"/reports/unsubscribe/{forged}/")
    assert response.status_code == 404
    assert Subscription.objects.filter(user=subscriber, report=Report.DIGEST).exists()


def test_meeting_summary_has_attendance_decisions_action_items_and_pledges(
    report_world, subscriber, django_capture_on_commit_callbacks
):
    held = report_world["held"]
    attendance = held.attendances.get(member__code="EE")
    attendance.delegates = "Jane Delegate, Deputy Minister"
    attendance.save(update_fields=["delegates"])

    send(tasks.send_meeting_summary, held.pk, capture=django_capture_on_commit_callbacks)

    (message,) = messages_to(subscriber)
    assert message.subject == "Test Coalition: summary of First steering group"
    for text in (message.body, html_of(message)):
        assert "Estonia" in text and "present" in text
        assert "Luxembourg" in text and "apologies" in text
        assert "Priorities set: connectivity first." in text
        assert "Draft the procurement roadmap" in text and "Luxembourg" in text and "30" in text
        assert "Luxembourg cyber package" in text and money("5000000.00") in text
        assert "Jane Delegate" not in text  # delegates are personal data


def test_confirmation_notice_goes_to_the_secretariat_only(
    report_world, secretariat, subscriber, django_capture_on_commit_callbacks
):
    pledge = report_world["confirmed"]

    send(tasks.send_confirmation_notice, pledge.pk, capture=django_capture_on_commit_callbacks)

    assert [m.to for m in mail.outbox] == [[secretariat.email]]
    (message,) = mail.outbox
    assert message.subject == "Test Coalition: Luxembourg confirmed 5,000,000.00 EUR"
    for text in (message.body, html_of(message)):
        assert "Luxembourg cyber package" in text
        assert "Luxembourg (LU)" in text
        assert money("5000000.00") + " EUR" in text
        assert "First steering group" in text


def test_notice_of_a_foreign_currency_pledge_shows_amount_currency_eur_and_rate(
    coalition, member_a, secretariat, rates, django_capture_on_commit_callbacks
):
    pledge = factories.make_pledge(
        coalition=coalition, member=member_a, amount=Decimal("1000000.00"), currency="USD", title="USD pledge"
    )
    contribution_services.pledge_confirm(acting_user=secretariat, pledge=pledge)

    send(tasks.send_confirmation_notice, pledge.pk, capture=django_capture_on_commit_callbacks)

    (message,) = mail.outbox
    pledge.refresh_from_db()
    assert "1,000,000.00 USD" in message.body
    assert money(pledge.amount_eur) + " EUR" in message.body  # 1M USD at 1.0883 = 918,864.28 EUR
    assert pledge.amount_eur == Decimal("918864.28")
    assert "1 EUR = 1.0883 USD, ECB rate of 2 February 2024" in message.body


def test_partners_cannot_subscribe_and_get_nothing(
    report_world, partner, coalition, django_capture_on_commit_callbacks
):
    Subscription.objects.create(user=partner, coalition=coalition, report=Report.DIGEST)  # e.g. from the admin

    send(tasks.send_digest, coalition.pk, capture=django_capture_on_commit_callbacks)

    assert messages_to(partner) == []


def test_meeting_summary_of_a_planned_meeting_is_not_sent(report_world, django_capture_on_commit_callbacks):
    send(tasks.send_meeting_summary, report_world["upcoming"].pk, capture=django_capture_on_commit_callbacks)
    assert mail.outbox == []
    assert not Delivery.objects.exists()


def test_meeting_marked_held_sends_its_summary_after_commit(
    coalition, secretariat, subscriber, django_capture_on_commit_callbacks
):
    meeting = meeting_services.meeting_create(
        acting_user=secretariat,
        coalition=coalition,
        title="Expert group",
        starts_at=timezone.now() - timedelta(hours=2),
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        meeting_services.meeting_mark_held(acting_user=secretariat, meeting=meeting)
    assert mail.outbox == []  # nothing before the commit

    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()

    assert sorted(m.to[0] for m in mail.outbox) == ["secretariat@example.org", "steering@example.org"]
    assert all(m.subject == "Test Coalition: summary of Expert group" for m in mail.outbox)


def test_the_beat_task_sends_each_subscribed_coalitions_digest(
    report_world, subscriber, other_coalition, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        queued = tasks.send_digests.delay().get()

    assert queued == 1  # other_coalition has no subscriber
    assert sorted(m.to[0] for m in mail.outbox) == ["secretariat@example.org", "steering@example.org"]
    assert all(m.extra_headers["X-Coalition-Report"].startswith("digest ") for m in mail.outbox)
