"""The /health/ check that a Celery worker answers (config.health runs it when there is a broker)."""

from celery import current_app

#: How long /health/ waits for the first worker's answer.
PING_TIMEOUT = 1.0


def check_worker():
    """At least one worker answers a ping within PING_TIMEOUT."""
    with current_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
        replies = current_app.control.ping(timeout=PING_TIMEOUT, limit=1, connection=connection)
    if not replies:
        raise RuntimeError(f"no Celery worker answered within {PING_TIMEOUT:g} s")
    return "ok"
