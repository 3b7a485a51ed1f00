"""Celery tasks of the lowest layer: the outbox's sweep, and the security log's retention (daily)."""

from celery import shared_task

from coalition import outbox, services


@shared_task(acks_late=True)
def outbox_sweep():
    """Beat's pass over the outbox: hand the broker every task a write asked for that has not run yet."""
    return outbox.dispatch(outbox.due())


@shared_task(name="coalition.tasks.security_log_purge")
def security_log_purge():
    """Delete security events older than SECURITY_LOG_RETENTION_DAYS; returns how many."""
    return services.security_log_purge()
