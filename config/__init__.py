"""Project wiring: settings, root URLs, the API router, the Celery app, WSGI/ASGI entry points.

The Celery app is loaded with Django so that ``shared_task`` binds to it.
"""

from config.celery_app import app as celery_app

__all__ = ("celery_app",)
