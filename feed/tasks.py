"""The webhooks' Celery tasks, on the ``webhooks`` queue (``CELERY_TASK_ROUTES``), asked for through the
outbox so a broker that is down or a worker that dies delays them but loses none."""

import random

from celery import shared_task
from django.conf import settings

from feed import services


def backoff(retries):
    """Full jitter: a random wait up to backoff x 2^retries seconds, at most the maximum."""
    ceiling = min(settings.WEBHOOKS_RETRY_BACKOFF * 2**retries, settings.WEBHOOKS_RETRY_BACKOFF_MAX)
    return random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret


@shared_task(name="webhooks.fanout", acks_late=True)
def fanout():
    """Turn the change rows committed since each endpoint's position into deliveries."""
    return services.fan_out()


@shared_task(bind=True, name="webhooks.deliver", acks_late=True, max_retries=None)
def deliver(self, delivery_id, redelivery=False):
    """Send one delivery; retried with backoff and jitter until it is sent or its attempts run out
    (counted on the ledger row, so a task that comes back after a lost worker does not reset them)."""
    status, attempts = services.delivery_attempt(delivery_id=delivery_id)
    # In-process (no broker: make run, the fast tests) the retries follow at once, without waiting.
    while status == "pending" and self.request.is_eager:
        status, attempts = services.delivery_attempt(delivery_id=delivery_id)
    if status == "pending":
        raise self.retry(countdown=backoff(attempts - 1))
    if status == "busy" and not self.request.is_eager:
        # Another attempt holds the row (or a killed worker's did, until PostgreSQL noticed): come back
        # rather than finish, or the outbox would take this task for done while the row stays pending.
        raise self.retry(countdown=1 + settings.WEBHOOKS_RETRY_BACKOFF)
    return status
