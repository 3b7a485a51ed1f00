"""Health for orchestrators and balancers.

``/health/live``: the process answers (a liveness probe restarts a replica that does not).
``/health/ready``: the replica can serve: the database and the broker answer and every migration of
this code is applied (a readiness probe takes it out of the balancer until then). Whether a Celery
worker answers is reported there too but does not make a web replica unready: workers restarting
must not take every web replica out. ``/health/`` is the readiness answer, for what already uses it.
"""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from reports.health import check_worker

#: What a check returns when its service is not configured: healthy, but said plainly.
NOT_CONFIGURED_BROKER = "not configured (tasks run in-process)"


def check_database():
    """The database answers a query."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
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


_migrated = False


def check_migrations():
    """Every migration of this code is applied (remembered once true: migrations are not unapplied
    under a running release)."""
    global _migrated
    if not _migrated:
        loader = MigrationLoader(connections[DEFAULT_DB_ALIAS])
        pending = sorted(key for key in loader.graph.nodes if key not in loader.applied_migrations)
        if pending:
            names = ", ".join(f"{app}.{name}" for app, name in pending[:5])
            raise RuntimeError(f"{len(pending)} migrations not applied: {names}")
        _migrated = True
    return "ok"


#: ``(name, function, needs_broker, decides_readiness)``. A function returns "ok" and raises when its
#: service is unreachable; one that needs the broker reports NOT_CONFIGURED_BROKER without REDIS_URL.
HEALTH_CHECKS = [
    ("database", check_database, False, True),
    ("migrations", check_migrations, False, True),
    ("broker", check_broker, True, True),
    ("worker", check_worker, True, False),
]


def run_health_checks():
    """``(ready, {name: result})``: every check run, failures reported as ``error: ...``; only the
    checks that decide readiness make it false."""
    results = {}
    ready = True
    for name, check, needs_broker, decides in HEALTH_CHECKS:
        if needs_broker and not settings.REDIS_URL:
            results[name] = NOT_CONFIGURED_BROKER
            continue
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - a health check reports any failure
            ready = ready and not decides
            results[name] = f"error: {exc.__class__.__name__}: {exc}"
    return ready, results


@never_cache
def live(request):
    """200 while the process answers; nothing else is asked."""
    return JsonResponse({"status": "ok"})


@never_cache
def ready(request):
    """200 when this replica can serve, 503 naming what it waits for; the worker is reported only."""
    is_ready, checks = run_health_checks()
    return JsonResponse({"status": "ok" if is_ready else "error", "checks": checks}, status=200 if is_ready else 503)
