"""Project-level views: the health check."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

#: What a check returns when its service is not configured: healthy, but said plainly.
NOT_CONFIGURED_BROKER = "not configured (tasks run in-process)"


def check_database():
    """The database answers a query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def check_broker():
    """Redis (the cache and the Celery broker) answers a PING, when REDIS_URL is set."""
    if not settings.REDIS_URL:
        return NOT_CONFIGURED_BROKER
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


#: The checks /health/ runs, in order: ``(name, function)``. A function returns "ok" or a note such as
#: "not configured (...)" and raises when its service is unreachable. The reports app appends its
#: worker check here (``HEALTH_CHECKS.append(("worker", check_worker))``) from its AppConfig.ready().
HEALTH_CHECKS = [
    ("database", check_database),
    ("broker", check_broker),
]


def run_health_checks():
    """``(healthy, {name: result})``: every check run, failures reported as ``error: ...``."""
    results = {}
    healthy = True
    for name, check in HEALTH_CHECKS:
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - a health check reports any failure
            healthy = False
            results[name] = f"error: {exc.__class__.__name__}: {exc}"
    return healthy, results


@never_cache
def health(request):
    """Whether the database, the cache/broker (and, once wired, the worker) are reachable: 200 or 503."""
    healthy, checks = run_health_checks()
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
