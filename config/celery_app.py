"""The Celery application, configured from Django settings (CELERY_* names): ``celery -A config.celery_app``."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("coalition")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _portal_logging(**kwargs):
    """With LOG_FORMAT=json the worker and beat log as the web does (settings.LOGGING: JSON lines with
    the request id). Connected only then: a receiver of setup_logging replaces Celery's own set-up,
    which stays the readable default."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


if os.environ.get("LOG_FORMAT", "text").strip().lower() == "json":
    signals.setup_logging.connect(_portal_logging, weak=False)
