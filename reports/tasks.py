"""Celery tasks of the report emails. They take ids (JSON arguments), load what they need and call
the services. A report fans out into one ``deliver`` task per recipient, so a retry, a lost worker
or a slow server touches one email, never the batch."""

import logging
import smtplib
import time

from celery import Task, shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from coalition.errors import CONNECTION_ERRORS
from coalition.models import Coalition
from contributions.models import Pledge
from meetings.models import Meeting
from reports import emails, mail, mail_selectors, services
from reports.models import Report, Subscription

logger = logging.getLogger(__name__)

#: What is worth another attempt: the server refused for now, or the network failed.
RETRYABLE = (smtplib.SMTPException, ConnectionError, OSError)
#: A fan-out that could not reach the broker or the database (a restart, a deadlock) runs again (it is
#: idempotent). Failing instead, a fan-out the outbox handed over would leave its row done with the
#: error, and the report would never be sent.
FAN_OUT_OPTIONS = {"autoretry_for": (BrokerError, *CONNECTION_ERRORS), "retry_backoff": 5, "max_retries": 5}


class DeliveryTask(Task):
    """After the last retry (or any other error) the delivery is marked failed with the error.

    The retry settings are read when a retry is decided, not when this module is imported, so
    ``override_settings`` and a changed environment take effect.
    """

    @property
    def max_retries(self):
        """Celery's retry limit, read by ``Task.retry``: REPORTS_MAX_RETRIES as it is now."""
        return settings.REPORTS_MAX_RETRIES

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        delivery_id = kwargs.get("delivery_id", args[0] if args else None)
        if delivery_id is not None and not isinstance(exc, (*CONNECTION_ERRORS, services.LeaseLost)):
            services.delivery_fail(delivery_id=delivery_id, error=exc)
        logger.error("Report delivery %s failed for good: %r", delivery_id, exc)


def retry_countdown(retries):
    """Seconds before retry ``retries + 1``: a random time up to REPORTS_RETRY_BACKOFF x 2^retries (full
    jitter), at most REPORTS_RETRY_BACKOFF_MAX."""
    return get_exponential_backoff_interval(
        factor=settings.REPORTS_RETRY_BACKOFF,
        retries=retries,
        maximum=settings.REPORTS_RETRY_BACKOFF_MAX,
        full_jitter=True,
    )


def queue_deliveries(delivery_ids):
    """One deliver task per ledger row, queued once the rows are committed. The ledger is the record of
    what is owed: a row the broker did not take (it is down) is sent by the requeue sweep, later."""
    ids = list(delivery_ids)

    def publish():
        for delivery_id in ids:
            try:
                deliver.delay(delivery_id)
            except (BrokerError, ConnectionError, OSError) as exc:
                logger.warning("The broker took no deliver task (%r): %d deliveries wait for the sweep.", exc, len(ids))
                return

    transaction.on_commit(publish)
    return len(ids)


def _recipients(report, coalition, to):
    if to:
        return [mail_selectors.recipient_for_address(to)]
    return mail_selectors.report_recipients(report, coalition)


@shared_task(**FAN_OUT_OPTIONS)
def send_digests():
    """Beat's weekly entry: the digest of every coalition with a digest subscriber."""
    coalition_ids = sorted(
        Subscription.objects.filter(report=Report.DIGEST).values_list("coalition_id", flat=True).distinct().order_by()
    )
    for coalition_id in coalition_ids:
        send_digest.delay(coalition_id)
    return len(coalition_ids)


@shared_task(**FAN_OUT_OPTIONS)
def send_digest(coalition_id, to=None):
    """The digest due now of one coalition, to its subscribers (or to the address ``to``)."""
    coalition = Coalition.objects.filter(pk=coalition_id).first()
    if coalition is None:
        logger.warning("Digest of coalition %s not sent: no such coalition.", coalition_id)
        return 0
    ids = services.digest_prepare(coalition=coalition, recipients=_recipients(Report.DIGEST, coalition, to))
    return queue_deliveries(ids)


@shared_task(**FAN_OUT_OPTIONS)
def send_meeting_summary(meeting_id, to=None):
    """The summary of a meeting marked held."""
    meeting = Meeting.objects.select_related("coalition").filter(pk=meeting_id).first()
    if meeting is None or meeting.status != Meeting.Status.HELD:
        logger.warning("Summary of meeting %s not sent: no such meeting, or it is not marked held.", meeting_id)
        return 0
    ids = services.deliveries_prepare(
        report=Report.MEETING,
        coalition=meeting.coalition,
        period=f"meeting-{meeting.pk}",
        meeting=meeting,
        recipients=_recipients(Report.MEETING, meeting.coalition, to),
    )
    return queue_deliveries(ids)


@shared_task(**FAN_OUT_OPTIONS)
def send_confirmation_notice(pledge_id, to=None):
    """The notice of a confirmed pledge, to the coalition's secretariat."""
    pledge = Pledge.objects.select_related("coalition").filter(pk=pledge_id).first()
    if pledge is None or pledge.status not in Pledge.CONFIRMED_STATUSES:
        logger.warning("Notice of pledge %s not sent: no such pledge, or it is not confirmed.", pledge_id)
        return 0
    ids = services.deliveries_prepare(
        report=Report.NOTICE,
        coalition=pledge.coalition,
        period=f"pledge-{pledge.pk}-confirmed",
        pledge=pledge,
        recipients=_recipients(Report.NOTICE, pledge.coalition, to),
    )
    return queue_deliveries(ids)


@shared_task(**FAN_OUT_OPTIONS)
def requeue_stalled_deliveries():
    """Beat's safety net: a new deliver task for each delivery whose task seems lost (the broker lost it,
    or its worker died holding the lease)."""
    ids = services.deliveries_requeue_stalled(grace=settings.REPORTS_REQUEUE_GRACE)
    if ids:
        logger.warning("Queueing %d stalled report deliveries again: %s", len(ids), ids[:20])
    return queue_deliveries(ids)


def database_countdown(retries):
    """Seconds before trying again after a database error: doubling from 1 to 30, with jitter."""
    return get_exponential_backoff_interval(factor=1, retries=retries, maximum=30, full_jitter=True) + 1


def record_sent(delivery, attempt):
    """``services.delivery_sent``, tried again in place while the database is away and the claim's
    lease runs (a restart takes seconds): the server has the message, and only this process knows it.
    While the lease runs no other sender touches the row, so waiting here changes nothing for anyone;
    after it the error goes up, to a retry that carries the attempt. (A connection that broke is
    closed by the failed transaction itself: the next try opens another.)"""
    pause = 0.1
    while True:
        try:
            return services.delivery_sent(delivery_id=delivery.pk, attempt=attempt)
        except CONNECTION_ERRORS as exc:
            left = (delivery.lease_until - timezone.now()).total_seconds()
            if left <= 0:
                raise
            logger.warning("Report delivery %s accepted by the server, recording it in place: %r", delivery.pk, exc)
            time.sleep(min(pause, left))
            pause = min(pause * 2, 2)


@shared_task(bind=True, base=DeliveryTask)
def deliver(self, delivery_id, accepted_attempt=None):
    """Send one ledger row, at most once: ``sent``, ``skipped`` (done already), ``busy`` (another
    sender's lease runs: it owns the outcome) or ``unconfirmed``.

    A database error (a restart, a pooler's hiccup) or a lease that ran out is not the mail server's
    refusal: the task tries again later and the delivery is never marked failed for it; the SMTP
    session is dropped at once rather than left waiting (mail.send aborts when the hand-off cannot be
    recorded). A database error after the server accepted the message is tried again too, but only
    to record it: in place while the claim's lease runs (``record_sent``), then by a retry that carries
    the claim's attempt (``accepted_attempt``) and marks the row sent under it, where a fresh claim
    would find the hand-off and call the row unconfirmed."""
    try:
        if accepted_attempt is not None:
            services.delivery_sent(delivery_id=delivery_id, attempt=accepted_attempt)
            return "sent"
        outcome, delivery = services.delivery_claim(delivery_id=delivery_id)
        if outcome != "claimed":
            return outcome
        message = emails.build_message(delivery)
        with mail.mail_connection() as backend:
            mail.send(backend, message, on_handoff=lambda: services.delivery_handed_off(delivery=delivery))
            accepted_attempt = delivery.attempts
            record_sent(delivery, accepted_attempt)
        return "sent"
    except (*CONNECTION_ERRORS, services.LeaseLost) as exc:
        if accepted_attempt is None:
            logger.warning("Report delivery %s interrupted, trying again: %r", delivery_id, exc)
        else:
            logger.warning("Report delivery %s accepted by the server, recording it again: %r", delivery_id, exc)
        raise self.retry(
            exc=exc,
            kwargs=None if accepted_attempt is None else {**self.request.kwargs, "accepted_attempt": accepted_attempt},
            countdown=database_countdown(self.request.retries),
            max_retries=settings.REPORTS_DB_RETRIES,
        ) from exc
    except RETRYABLE as exc:
        replied = isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused)
        countdown = retry_countdown(self.request.retries)
        if not services.delivery_attempt_failed(
            delivery=delivery, error=exc, server_replied=replied, retry_in=countdown
        ):
            return "unconfirmed"
        if _permanent(exc):
            services.delivery_fail(delivery_id=delivery_id, error=exc)
            return "failed"
        raise self.retry(exc=exc, countdown=countdown) from exc


def _permanent(exc):
    """A 5xx reply: the server will refuse again, so the delivery fails now instead of retrying."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _reply in exc.recipients.values()]
    else:
        codes = [getattr(exc, "smtp_code", 0)]
    return bool(codes) and all(500 <= code < 600 for code in codes)
