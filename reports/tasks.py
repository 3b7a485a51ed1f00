"""Celery tasks of the report emails. They take ids (JSON arguments), load what they need and call
the services. A report fans out into one ``deliver`` task per recipient, so a retry, a lost worker
or a slow server touches one email, never the batch."""

import logging
import smtplib

from celery import Task, shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from coalition.models import Coalition
from contributions.models import Pledge
from meetings.models import Meeting
from reports import emails, mail, mail_selectors, services
from reports.models import Report, Subscription

logger = logging.getLogger(__name__)

#: What is worth another attempt: the server refused for now, or the network failed.
RETRYABLE = (smtplib.SMTPException, ConnectionError, OSError)
#: A fan-out that could not reach the broker or the database runs again (it is idempotent).
FAN_OUT_OPTIONS = {"autoretry_for": (BrokerError,), "retry_backoff": 5, "max_retries": 5}


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
        if delivery_id is not None:
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
    """One deliver task per ledger row, queued once the rows are committed."""
    ids = list(delivery_ids)
    transaction.on_commit(lambda: [deliver.delay(delivery_id) for delivery_id in ids])
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
    """Beat's safety net: a new deliver task for each delivery whose task seems lost."""
    ids = services.deliveries_stalled(older_than=settings.REPORTS_REQUEUE_AFTER)
    if ids:
        logger.warning("Queueing %d stalled report deliveries again: %s", len(ids), ids[:20])
    return queue_deliveries(ids)


@shared_task(bind=True, base=DeliveryTask)
def deliver(self, delivery_id):
    """Send one ledger row, at most once: ``sent``, ``skipped`` (done already), ``busy`` (another
    worker is sending it right now and owns the outcome) or ``unconfirmed``."""
    with services.delivery_lock(delivery_id) as acquired:
        if not acquired:
            return "busy"
        delivery = services.delivery_claim(delivery_id=delivery_id)
        if delivery is None:
            return "skipped"
        message = emails.build_message(delivery)
        try:
            with mail.mail_connection() as backend:
                mail.send(backend, message, on_handoff=lambda: services.delivery_handed_off(delivery=delivery))
                services.delivery_sent(delivery=delivery)
        except RETRYABLE as exc:
            replied = isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused)
            if not services.delivery_attempt_failed(delivery=delivery, error=exc, server_replied=replied):
                return "unconfirmed"
            if _permanent(exc):
                services.delivery_fail(delivery_id=delivery_id, error=exc)
                return "failed"
            error = exc
        else:
            return "sent"
    # Retried once the lock is released: without a broker the retry runs at once, inside this call.
    raise self.retry(exc=error, countdown=retry_countdown(self.request.retries))


def _permanent(exc):
    """A 5xx reply: the server will refuse again, so the delivery fails now instead of retrying."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _reply in exc.recipients.values()]
    else:
        codes = [getattr(exc, "smtp_code", 0)]
    return bool(codes) and all(500 <= code < 600 for code in codes)
