"""Webhooks ride the change rows: a transaction that wrote some asks, once, for a fan-out after it
commits (an outbox row of that same transaction, so a rolled-back write asks for nothing). Without any
active endpoint nothing is asked; beat's ``webhooks-fanout`` pass catches what a race left behind."""

from django.db import connection, transaction
from django.dispatch import receiver

from coalition import changes, outbox
from feed.models import WebhookEndpoint


def _fan_out_asked():
    """Marks the current transaction as having asked (found again in its on-commit callbacks)."""


@receiver(changes.changes_recorded, dispatch_uid="feed-fan-out-on-commit")
def ask_for_fan_out(sender, **kwargs):
    if connection.in_atomic_block:
        # Asked already in a part of this transaction still open (a savepoint released since is not).
        open_savepoints = set(connection.savepoint_ids)
        if any(func is _fan_out_asked and set(sids) <= open_savepoints for sids, func, *_ in connection.run_on_commit):
            return
    if not WebhookEndpoint.objects.filter(is_active=True).exists():
        return
    outbox.enqueue("webhooks.fanout")
    transaction.on_commit(_fan_out_asked)
