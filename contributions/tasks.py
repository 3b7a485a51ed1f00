"""Celery tasks of the contributions app: they take ids and call a service."""

from celery import shared_task


@shared_task(name="contributions.pledge_import", acks_late=True)
def pledge_import_task(pledge_import_id):
    """Write a confirmed pledge import (one transaction; a second delivery finds it done)."""
    from contributions.services.imports import pledge_import_apply

    pledge_import_apply(pledge_import_id=pledge_import_id)
