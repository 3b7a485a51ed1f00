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
    """Send one delivery; retried with backoff and jitter until it is sent or the retries run out."""
    retries = self.request.retries
    status = services.delivery_attempt(delivery_id=delivery_id, final=retries >= settings.WEBHOOKS_MAX_RETRIES)
    if status == "pending" and self.request.is_eager:
        # In-process (no broker: make run, the fast tests) the retries follow at once, without waiting.
        while status == "pending":
            retries += 1
            status = services.delivery_attempt(delivery_id=delivery_id, final=retries >= settings.WEBHOOKS_MAX_RETRIES)
    if status == "pending":
        raise self.retry(countdown=backoff(retries))
    return status
