"""``/health/``: whether the database, the cache/broker and a Celery worker answer."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from reports.health import check_worker

#: What a check returns when its service is not configured: healthy, but said plainly.
NOT_CONFIGURED_BROKER = "not configured (tasks run in-process)"


def check_database():
    """The database answers a query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def check_broker():
    """Redis (the cache and the Celery broker) answers a PING."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


#: The checks /health/ runs, in order: ``(name, function, needs_broker)``. A function returns "ok" and
#: raises when its service is unreachable; one that needs the broker reports NOT_CONFIGURED_BROKER
#: without REDIS_URL (tasks then run in-process: nothing to check).
HEALTH_CHECKS = [
    ("database", check_database, False),
    ("broker", check_broker, True),
    ("worker", check_worker, True),
]


def run_health_checks():
    """``(healthy, {name: result})``: every check run, failures reported as ``error: ...``."""
    results = {}
    healthy = True
    for name, check, needs_broker in HEALTH_CHECKS:
        if needs_broker and not settings.REDIS_URL:
            results[name] = NOT_CONFIGURED_BROKER
            continue
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - a health check reports any failure
            healthy = False
            results[name] = f"error: {exc.__class__.__name__}: {exc}"
    return healthy, results


@never_cache
def health(request):
    """200 when every configured service answers, 503 naming the one that does not."""
    healthy, checks = run_health_checks()
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
