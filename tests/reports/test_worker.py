"""Report emails with every part real: a `celery -A config.celery_app worker` process on the Redis broker and
the PostgreSQL test database, mailing an SMTP server started here (aiosmtpd).

Skipped locally without REDIS_URL / PostgreSQL; under CI=true a missing service fails them instead.
"""

import re
from collections import Counter
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from contributions import services as contribution_services
from reports import tasks
from reports.models import Delivery, Report
from reports.selectors import coalition_summary
from tests import factories
from tests.reports.conftest import task_result, wait_for, wait_idle

pytestmark = [
    pytest.mark.worker,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("real_broker"),
]
D = Delivery.Status


def money(value):
    whole, cents = f"{Decimal(value):.2f}".split(".")
    return f"{int(whole):,}.{cents}"


def body(message, subtype):
    return message.get_body(preferencelist=(subtype,)).get_content()


@pytest.fixture
def clean(worker, smtp_server):
    """Start each test with the worker idle and the mailbox empty."""
    wait_idle(worker)
    smtp_server.mailbox.reset()
    return smtp_server.mailbox


def test_the_digest_arrives_multipart_with_the_dashboards_figures(worker, clean, subscriber, report_world, coalition):
    mailbox = clean
    wait_idle(worker)  # the meeting summary and notice report_world set off
    mailbox.reset()

    result = tasks.send_digest.delay(coalition.pk)

    assert task_result(worker, result) == "2"
    wait_for(lambda: len(mailbox.received("digest")) == 2, 20, message="two digests")
    message = next(m for m in mailbox.received("digest") if m["To"] == "steering@example.org")
    assert message.is_multipart()
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    summary = coalition_summary(coalition)
    text, html = body(message, "plain"), body(message, "html")
    for figure in (summary.total_eur, summary.confirmed_eur, summary.announced_eur, summary.disbursed_eur):
        assert money(figure) in text and money(figure) in html
    assert "Luxembourg cyber package" in text and "Secure connectivity" in html
    delivery = Delivery.objects.get(report=Report.DIGEST, recipient="steering@example.org")
    assert (delivery.status, delivery.attempts) == (D.SENT, 1)
    assert message["Message-ID"] == delivery.message_id

    # A second request for the same period: the fan-out finds both rows sent and queues nothing.
    again = tasks.send_digest.delay(coalition.pk)
    assert task_result(worker, again) == "0"
    wait_idle(worker)
    assert len(mailbox.received("digest")) == 2
    assert Delivery.objects.filter(report=Report.DIGEST).count() == 2


def test_the_meeting_summary_and_notice_follow_the_committed_changes(worker, clean, subscriber, report_world):
    wait_for(lambda: len(clean.received()) >= 3, 30, message="summary (2) and notice (1)")
    wait_idle(worker)
    received = Counter((m["X-Coalition-Report"].split()[0], m["To"]) for m in clean.received())
    assert received == {
        ("meeting", "secretariat@example.org"): 1,
        ("meeting", "steering@example.org"): 1,
        ("notice", "secretariat@example.org"): 1,
    }


def test_smtp_failing_twice_then_accepting_gives_one_delivery_in_three_attempts(worker, clean, coalition):
    clean.reset(plan=["451-data", "421-mail"])

    result = tasks.send_digest.delay(coalition.pk, to="reader@example.org")

    assert task_result(worker, result) == "1"
    wait_for(lambda: clean.received(), 30, message="the message after two failures")
    wait_idle(worker)
    assert len(clean.received()) == 1
    assert clean.transactions == 3
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (D.SENT, 3)
    assert delivery.last_error.startswith("SMTPSenderRefused: 421")  # the last failure stays readable


def test_after_the_last_retry_the_delivery_is_failed_and_the_secretariat_sees_why(
    worker, clean, coalition, secretariat
):
    clean.reset(plan=["451-data"] * 10)

    tasks.send_digest.delay(coalition.pk, to="reader@example.org")

    delivery = wait_for(
        lambda: Delivery.objects.filter(status=D.FAILED).first(), 30, message="the delivery to fail for good"
    )
    assert delivery.attempts == 3  # the first and REPORTS_MAX_RETRIES=2 retries
    assert delivery.last_error == "SMTPDataError: 451 4.3.0 Temporary failure, try again later"
    assert clean.received() == []
    page = Client()
    page.force_login(secretariat)
    html = page.get("/reports/deliveries/", {"status": "failed"}).content.decode()
    assert "reader@example.org" in html and "SMTPDataError: 451 4.3.0 Temporary failure" in html


def test_a_rolled_back_confirmation_sends_nothing_through_the_real_broker(
    worker, clean, coalition, member_a, member_b, secretariat, rates
):
    rolled_back = factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal("100000.00"))
    committed = factories.make_pledge(coalition=coalition, member=member_b, amount=Decimal("200000.00"))

    with pytest.raises(RuntimeError), transaction.atomic():
        contribution_services.pledge_confirm(acting_user=secretariat, pledge=rolled_back)
        raise RuntimeError("the request failed after the confirmation")
    contribution_services.pledge_confirm(acting_user=secretariat, pledge=committed)

    wait_for(lambda: clean.received("notice"), 20, message="the committed confirmation's notice")
    wait_idle(worker)
    assert [m["X-Coalition-Report"] for m in clean.received()] == [f"notice pledge-{committed.pk}-confirmed"]
    assert not Delivery.objects.filter(pledge=rolled_back).exists()


def test_health_says_the_worker_answers(worker, client, settings):
    import os

    settings.REDIS_URL = os.environ["REDIS_URL"]
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok", "broker": "ok", "worker": "ok"}


def test_a_web_requests_id_is_logged_by_the_worker_running_the_task_it_queued(worker, clean, secretariat, pledge_a):
    """The confirmation's request id travels in the outbox row and the task's headers to the worker."""
    client = Client()
    client.force_login(secretariat)
    response = client.post(
        reverse("pledges:transition", args=[pledge_a.pk]),
        {"to": "confirmed", "version": pledge_a.version},
        HTTP_X_REQUEST_ID="worker-req-0001",
    )
    assert response["X-Request-ID"] == "worker-req-0001"
    line = wait_for(
        lambda: re.search(
            r"send_confirmation_notice\[outbox-\d+-1\] runs for request worker-req-0001", worker.log_text()
        ),
        30,
        message="the worker's line for the request",
    )
    assert line
    wait_for(lambda: clean.received("notice"), 30, message="the notice")
