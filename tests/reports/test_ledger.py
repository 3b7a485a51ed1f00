"""The delivery ledger, in-process against a real SMTP server (aiosmtpd): asking twice sends once, a
dead sender's row is resumed or left alone depending on the hand-off, SMTP failures are retried and
the last one is recorded."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from config.celery_app import app as celery_app
from reports import services, tasks
from reports.mail_selectors import Recipient
from reports.models import Delivery, Report

pytestmark = [pytest.mark.django_db]
D = Delivery.Status


def prepare(coalition, email="reader@example.org", period="2024-W23"):
    (delivery_id,) = services.deliveries_prepare(
        report=Report.DIGEST,
        coalition=coalition,
        period=period,
        recipients=[Recipient(email=email)],
        period_start=timezone.now() - timedelta(days=7),
        period_end=timezone.now(),
    )
    return Delivery.objects.get(pk=delivery_id)


def run_deliver(delivery):
    """deliver in-process; an eager retry runs at once (no backoff), re-entering apply(), which reads
    task_eager_propagates rather than its caller's throw=False."""
    saved, celery_app.conf.task_eager_propagates = celery_app.conf.task_eager_propagates, False
    try:
        return tasks.deliver.apply(args=[delivery.pk]).result
    finally:
        celery_app.conf.task_eager_propagates = saved


def test_asking_twice_for_the_same_period_sends_once(
    report_world, subscriber, coalition, django_capture_on_commit_callbacks
):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.send_digest.delay(coalition.pk)

    assert sorted(m.to[0] for m in mail.outbox) == ["secretariat@example.org", "steering@example.org"]
    rows = Delivery.objects.filter(report=Report.DIGEST)
    assert rows.count() == 2
    assert set(rows.values_list("status", "attempts")) == {(D.SENT, 1)}
    # The second request saw the rows done and queued nothing.
    assert (
        services.deliveries_prepare(
            report=Report.DIGEST,
            coalition=coalition,
            period=rows[0].period,
            recipients=[Recipient(email="steering@example.org")],
        )
        == []
    )


def test_the_second_digest_of_a_week_reuses_the_window_and_the_next_week_starts_where_it_ended(coalition):
    monday = datetime(2024, 6, 3, 5, 0, tzinfo=UTC)  # 08:00 in Kyiv
    period, start, end = services.digest_window(coalition, now=monday)
    assert (period, start, end) == ("2024-W23", monday - timedelta(days=7), monday)
    Delivery.objects.filter(pk=prepare(coalition, period=period).pk).update(period_start=start, period_end=end)

    assert services.digest_window(coalition, now=monday + timedelta(hours=3)) == (period, start, end)
    assert services.digest_window(coalition, now=monday + timedelta(days=7)) == (
        "2024-W24",
        monday,
        monday + timedelta(days=7),
    )


def test_the_message_id_comes_from_the_ledger_key(coalition, smtp):
    delivery = prepare(coalition)
    assert delivery.message_id == services.message_id_for(
        report="digest", coalition_id=coalition.pk, period="2024-W23", recipient="reader@example.org"
    )
    assert delivery.message_id.startswith(f"<digest.{coalition.pk}.2024-W23.")

    assert run_deliver(delivery) == "sent"

    (received,) = smtp.received()
    assert received["Message-ID"] == delivery.message_id


def test_a_real_smtp_delivery_is_multipart_and_recorded(coalition, smtp):
    delivery = prepare(coalition)

    assert run_deliver(delivery) == "sent"

    (received,) = smtp.received()
    assert received.is_multipart()
    assert [part.get_content_type() for part in received.iter_parts()] == ["text/plain", "text/html"]
    assert received["To"] == "reader@example.org"
    assert received["List-Unsubscribe"].strip().startswith("<http://127.0.0.1:8000/reports/unsubscribe/")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (D.SENT, 1, "")
    assert delivery.claimed_at <= delivery.handed_off_at <= delivery.sent_at


def test_a_sent_delivery_is_never_sent_again(coalition, smtp):
    delivery = prepare(coalition)
    run_deliver(delivery)

    assert run_deliver(delivery) == "skipped"

    assert len(smtp.received()) == 1


def test_a_row_left_sending_before_the_hand_off_is_sent_by_the_next_attempt(coalition, smtp):
    """The sender died after claiming the row and before the end of DATA: no server has the message."""
    delivery = prepare(coalition)
    Delivery.objects.filter(pk=delivery.pk).update(status=D.SENDING, attempts=1, claimed_at=timezone.now())

    assert run_deliver(delivery) == "sent"

    assert len(smtp.received()) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (D.SENT, 2)


def test_a_row_left_sending_after_the_hand_off_becomes_unconfirmed_and_is_not_resent(coalition, smtp):
    """The sender died between handing the message over and recording the reply: maybe delivered."""
    delivery = prepare(coalition)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=D.SENDING, attempts=1, claimed_at=timezone.now(), handed_off_at=timezone.now()
    )

    assert run_deliver(delivery) == "unconfirmed"

    assert smtp.received() == []
    delivery.refresh_from_db()
    assert delivery.status == D.UNCONFIRMED
    assert "not sent again to avoid a duplicate" in delivery.last_error


def test_a_lost_reply_after_the_end_of_data_is_unconfirmed_not_retried(coalition, smtp):
    smtp.reset(plan=["drop-after-data"])
    delivery = prepare(coalition)

    assert run_deliver(delivery) == "unconfirmed"

    assert len(smtp.received()) == 1  # the server had it: a retry would have been a duplicate
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (D.UNCONFIRMED, 1)
    assert "outcome unknown" in delivery.last_error


@pytest.mark.parametrize("failure", ["451-data", "421-mail", "drop-rcpt"])
def test_two_smtp_failures_then_success_is_one_message_in_three_attempts(coalition, smtp, failure):
    smtp.reset(plan=[failure, failure])
    delivery = prepare(coalition)

    run_deliver(delivery)

    assert len(smtp.received()) == 1
    assert smtp.transactions == 3
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (D.SENT, 3)


def test_after_the_last_retry_the_delivery_fails_with_the_error(coalition, smtp, settings):
    smtp.reset(plan=["451-data"] * 20)
    delivery = prepare(coalition)

    run_deliver(delivery)

    delivery.refresh_from_db()
    assert delivery.status == D.FAILED
    assert delivery.attempts == settings.REPORTS_MAX_RETRIES + 1 == tasks.deliver.max_retries + 1
    assert delivery.last_error == "SMTPDataError: 451 4.3.0 Temporary failure, try again later"
    assert smtp.received() == []


def test_a_permanent_refusal_fails_at_once(coalition, smtp):
    smtp.reset(plan=["550-data"] * 5)
    delivery = prepare(coalition)

    assert run_deliver(delivery) == "failed"

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (D.FAILED, 1)
    assert delivery.last_error == "SMTPDataError: 550 5.7.1 Message refused"


def test_an_unreachable_server_is_retried_then_failed(coalition, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    delivery = prepare(coalition)

    run_deliver(delivery)

    delivery.refresh_from_db()
    assert delivery.status == D.FAILED
    assert delivery.last_error.startswith("ConnectionRefusedError")


def test_a_failed_delivery_is_sent_again_only_when_the_secretariat_asks(coalition, secretariat, steering, smtp):
    smtp.reset(plan=["550-data"])
    delivery = prepare(coalition)
    run_deliver(delivery)
    with pytest.raises(Exception, match="secretariat"):
        services.delivery_retry(acting_user=steering, delivery=delivery)

    services.delivery_retry(acting_user=secretariat, delivery=delivery)
    assert run_deliver(delivery) == "sent"

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (D.SENT, 2)
    assert len(smtp.received()) == 1


def test_a_delivery_another_sender_holds_is_left_to_it_until_its_lease_runs_out(coalition, smtp):
    """The lease: a second task for the same row (a duplicate message, a redelivery while the first
    still runs) does not send; once the holder's lease has run out (it died), the row is sent."""
    delivery = prepare(coalition)
    outcome, claimed = services.delivery_claim(delivery_id=delivery.pk)
    assert outcome == "claimed" and claimed.attempts == 1

    assert run_deliver(delivery) == "busy"
    assert smtp.received() == []

    Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert run_deliver(delivery) == "sent"
    assert len(smtp.received()) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.lease_until) == (D.SENT, 2, None)


def test_a_sender_whose_lease_ran_out_does_not_finish_the_message(coalition, smtp):
    """Fencing: the hand-off is recorded only under the claim that holds the row. A sender overtaken
    (its lease ran out and another took the row) gets LeaseLost before the end of DATA."""
    delivery = prepare(coalition)
    _outcome, first = services.delivery_claim(delivery_id=delivery.pk)
    Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    _outcome, second = services.delivery_claim(delivery_id=delivery.pk)

    with pytest.raises(services.LeaseLost):
        services.delivery_handed_off(delivery=first)
    services.delivery_handed_off(delivery=second)
    assert Delivery.objects.get(pk=delivery.pk).handed_off_at == second.handed_off_at


def test_a_database_error_at_the_hand_off_drops_the_smtp_session_at_once_and_is_tried_again(
    coalition, smtp, monkeypatch
):
    """The mark cannot be written (the database restarts): the message is not finished, the connection
    closes without waiting on QUIT, the delivery is not failed, and the next attempt sends it once."""
    import time

    from django.db import OperationalError

    delivery = prepare(coalition)
    real = services.delivery_handed_off
    calls = []

    def broken_once(*, delivery):
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise OperationalError("the database system is starting up")
        return real(delivery=delivery)

    monkeypatch.setattr(services, "delivery_handed_off", broken_once)
    monkeypatch.setattr(tasks, "database_countdown", lambda retries: 0)
    started = time.monotonic()

    assert run_deliver(delivery) == "busy"  # the retry finds the first attempt's lease still running
    assert time.monotonic() - started < 2, "no SMTP session was left waiting for its timeout"
    delivery.refresh_from_db()
    assert delivery.status == D.SENDING and delivery.handed_off_at is None and delivery.last_error == ""
    assert smtp.received() == []

    Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert run_deliver(delivery) == "sent"
    assert len(smtp.received()) == 1


def test_a_database_error_after_the_server_accepted_the_message_is_tried_again_in_place(coalition, smtp, monkeypatch):
    """The database restarts between the server's 250 and the sent mark (the fault drill's PostgreSQL
    restart hit it): the mark is tried again by the same run, with nothing sent again and no retry
    through the broker (a broker that loses its queue would lose what only this run knows)."""
    from django.db import OperationalError

    delivery = prepare(coalition)
    real = services.delivery_sent
    calls = []

    def broken_once(*, delivery_id, attempt):
        calls.append(attempt)
        if len(calls) == 1:
            raise OperationalError("terminating connection due to administrator command")
        return real(delivery_id=delivery_id, attempt=attempt)

    monkeypatch.setattr(services, "delivery_sent", broken_once)
    monkeypatch.setattr(tasks.deliver, "retry", lambda **kwargs: pytest.fail("retried through the broker"))

    assert run_deliver(delivery) == "sent"
    assert calls == [1, 1]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.lease_until) == (D.SENT, 1, None)
    assert delivery.handed_off_at is not None and delivery.sent_at is not None
    assert len(smtp.received()) == 1


def test_a_sent_mark_still_failing_when_the_lease_ends_is_retried_with_the_attempt_and_wins_over_unconfirmed(
    coalition, smtp, monkeypatch, settings
):
    """The database stays away past the claim's lease: the retry carries the accepted attempt and
    records it, even over the ``unconfirmed`` a sweep's claim wrote meanwhile; no second claim, no
    second message."""
    from django.db import OperationalError

    settings.REPORTS_SEND_LEASE = 1
    delivery = prepare(coalition)
    real = services.delivery_sent
    calls = []

    def broken_past_the_lease(*, delivery_id, attempt):
        calls.append(attempt)
        row = Delivery.objects.get(pk=delivery_id)
        if row.status != D.UNCONFIRMED and timezone.now() < row.lease_until:
            raise OperationalError("the database system is starting up")
        if row.status != D.UNCONFIRMED:
            # Meanwhile the sweep found the row handed off with its lease run out.
            Delivery.objects.filter(pk=delivery_id).update(status=D.UNCONFIRMED)
            raise OperationalError("the database system is starting up")
        return real(delivery_id=delivery_id, attempt=attempt)

    monkeypatch.setattr(services, "delivery_sent", broken_past_the_lease)
    monkeypatch.setattr(tasks, "database_countdown", lambda retries: 0)

    assert run_deliver(delivery) == "sent"
    assert set(calls) == {1} and len(calls) > 2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.lease_until) == (D.SENT, 1, None)
    assert len(smtp.received()) == 1


def test_a_fan_out_that_meets_a_database_error_runs_again_instead_of_failing_for_good(
    coalition, member_a, secretariat, monkeypatch
):
    """tests/reports/test_worker.py saw the notice's fan-out deadlock at its commit against a write to
    its pledge: failing for good, its outbox row was done with the error and the notice never went."""
    from django.db import OperationalError

    from tests import factories

    pledge = factories.make_pledge(coalition=coalition, member=member_a, status="confirmed")
    real = services.deliveries_prepare
    calls = []

    def deadlocked_once(**kwargs):
        calls.append(kwargs["period"])
        if len(calls) == 1:
            raise OperationalError("deadlock detected")
        return real(**kwargs)

    monkeypatch.setattr(services, "deliveries_prepare", deadlocked_once)
    saved, celery_app.conf.task_eager_propagates = celery_app.conf.task_eager_propagates, False
    try:
        result = tasks.send_confirmation_notice.apply(kwargs={"pledge_id": pledge.pk})
    finally:
        celery_app.conf.task_eager_propagates = saved

    assert result.successful(), result.traceback
    assert calls == [f"pledge-{pledge.pk}-confirmed"] * 2
    assert Delivery.objects.filter(report=Report.NOTICE, pledge=pledge).exists()


def test_only_deliveries_past_their_attempt_or_their_lease_count_as_stalled(coalition):
    now = timezone.now()
    rows = [prepare(coalition, email=f"r{n}@example.org") for n in range(7)]
    old, recent, retry_later, leased, lease_ran_out, sent, failed = rows
    Delivery.objects.filter(pk__in=[row.pk for row in rows if row is not recent]).update(
        created_at=now - timedelta(hours=2)
    )
    Delivery.objects.filter(pk=retry_later.pk).update(next_attempt_at=now + timedelta(minutes=10))
    Delivery.objects.filter(pk=leased.pk).update(status=D.SENDING, lease_until=now + timedelta(seconds=30))
    Delivery.objects.filter(pk=lease_ran_out.pk).update(status=D.SENDING, lease_until=now - timedelta(minutes=5))
    Delivery.objects.filter(pk=sent.pk).update(status=D.SENT)
    Delivery.objects.filter(pk=failed.pk).update(status=D.FAILED)

    assert services.deliveries_stalled(grace=60, now=now) == [old.pk, lease_ran_out.pk]
    assert recent.pk in services.deliveries_stalled(grace=60, now=now + timedelta(minutes=2))


def test_a_stalled_delivery_is_queued_again_once_per_grace_not_at_every_sweep(coalition):
    """Rows of a long batch wait their turn in the broker past the grace: each sweep queued them all
    again (the fault drill saw 331, then 300 extra tasks). Queued again, a row waits another grace."""
    now = timezone.now()
    waiting, abandoned = prepare(coalition, email="a@example.org"), prepare(coalition, email="b@example.org")
    Delivery.objects.filter(pk=waiting.pk).update(created_at=now - timedelta(minutes=5))
    Delivery.objects.filter(pk=abandoned.pk).update(status=D.SENDING, lease_until=now - timedelta(minutes=5))

    assert services.deliveries_requeue_stalled(grace=60, now=now) == [waiting.pk, abandoned.pk]
    assert services.deliveries_requeue_stalled(grace=60, now=now + timedelta(seconds=30)) == []
    assert services.deliveries_requeue_stalled(grace=60, now=now + timedelta(seconds=61)) == [waiting.pk, abandoned.pk]
    abandoned.refresh_from_db()
    assert (abandoned.status, abandoned.lease_until) == (D.SENDING, now + timedelta(seconds=61))  # still expired


def test_the_requeue_sweep_sends_a_delivery_whose_task_was_lost(
    coalition, settings, django_capture_on_commit_callbacks
):
    settings.REPORTS_REQUEUE_GRACE = 60
    lost = prepare(coalition)  # rows written, the deliver task never queued (or lost by the broker)
    Delivery.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.requeue_stalled_deliveries.delay().get() == 1

    lost.refresh_from_db()
    assert (lost.status, lost.attempts) == (D.SENT, 1)
    assert [m.to for m in mail.outbox] == [["reader@example.org"]]
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.requeue_stalled_deliveries.delay().get() == 0
