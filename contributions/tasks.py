"""Celery tasks of the contributions app: they take ids and call a service."""

import logging

from celery import shared_task
from django.conf import settings

from coalition.errors import CONNECTION_ERRORS

logger = logging.getLogger(__name__)
#: A database error (a restart, a failover) interrupts an import's one transaction: nothing is written,
#: and the run starts again this many times, a few seconds apart, before the sweep calls it failed.
DATABASE_RETRIES = 20


@shared_task(name="contributions.pledge_import", bind=True, acks_late=True)
def pledge_import_task(self, pledge_import_id):
    """Write a confirmed pledge import (one transaction; a second delivery finds it done)."""
    from contributions.services.imports import pledge_import_apply

    try:
        pledge_import_apply(pledge_import_id=pledge_import_id)
    except CONNECTION_ERRORS as exc:
        logger.warning("Import %s interrupted by the database, starting it again: %r", pledge_import_id, exc)
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 30), max_retries=DATABASE_RETRIES) from exc


@shared_task(name="contributions.tasks.interrupted_imports")
def interrupted_imports():
    """Beat's sweep: an import still running long after any run could have ended (its worker died, the
    database was gone for good) is failed with the reason, so its page stops waiting."""
    from contributions.services.imports import pledge_imports_interrupted

    return pledge_imports_interrupted(older_than=settings.CELERY_TASK_TIME_LIMIT + 120)


@shared_task(name="contributions.pledge_export", acks_late=True, time_limit=3600, soft_time_limit=3500)
def pledge_export_task(export_id):
    """Write a pledge export too big for a request (a second delivery finds it taken)."""
    from contributions.services.exports import pledge_export_run

    pledge_export_run(export_id=export_id)
