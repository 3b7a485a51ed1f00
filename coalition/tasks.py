"""Celery tasks of the lowest layer: the outbox's sweep."""

from celery import shared_task

from coalition import outbox


@shared_task(acks_late=True)
def outbox_sweep():
    """Beat's pass over the outbox: hand the broker every task a write asked for that has not run yet."""
    return outbox.dispatch(outbox.due())
