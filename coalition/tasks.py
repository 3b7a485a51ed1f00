"""Periodic upkeep of the coalition app: the security log's retention (Celery beat, daily)."""

from celery import shared_task

from coalition import services


@shared_task(name="coalition.tasks.security_log_purge")
def security_log_purge():
    """Delete security events older than SECURITY_LOG_RETENTION_DAYS; returns how many."""
    return services.security_log_purge()
