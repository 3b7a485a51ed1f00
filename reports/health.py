"""The /health/ check that a Celery worker answers (joined to coalition.views.HEALTH_CHECKS)."""

from django.conf import settings

from coalition.views import NOT_CONFIGURED_BROKER

#: How long /health/ waits for the first worker's answer.
PING_TIMEOUT = 1.0


def check_worker():
    """At least one worker answers a ping within PING_TIMEOUT (when there is a broker at all)."""
    if not settings.REDIS_URL:
        return NOT_CONFIGURED_BROKER
    from coalition.celery import app

    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
        replies = app.control.ping(timeout=PING_TIMEOUT, limit=1, connection=connection)
    if not replies:
        raise RuntimeError(f"no Celery worker answered within {PING_TIMEOUT:g} s")
    return "ok"
