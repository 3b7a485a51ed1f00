"""Prometheus metrics at ``/metrics``: django-prometheus's request and response metrics, plus the
portal's own gauges, read at each scrape: the length of every Celery queue the settings route to
(Redis LLEN), the report deliveries of the ledger by status and the outbox messages not yet run.

Off (404) unless METRICS_TOKEN or METRICS_ALLOWED_NETWORKS is set; then a scrape without the token
(``Authorization: Bearer ...``) or from outside the networks is a 403 (coalition.permissions decides).
Under gunicorn with PROMETHEUS_MULTIPROC_DIR set, the workers' request metrics are summed there.
"""

import os

import prometheus_client
import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from coalition import outbox, permissions
from reports.selectors import deliveries_by_status


def routed_queues():
    """The default queue and every queue CELERY_TASK_ROUTES names, once each."""
    routed = sorted({route["queue"] for route in settings.CELERY_TASK_ROUTES.values()})
    return list(dict.fromkeys([settings.CELERY_TASK_DEFAULT_QUEUE, *routed]))


class PortalCollector(Collector):
    """The gauges of the portal's own state; a scrape is one LLEN per queue and two queries."""

    def describe(self):
        return []  # nothing is read when the collector is registered, only when scraped

    def collect(self):
        queues = GaugeMetricFamily(
            "coalition_celery_queue_length", "Tasks waiting in each Celery queue (Redis LLEN).", labels=["queue"]
        )
        broker_up = GaugeMetricFamily("coalition_broker_up", "1 if Redis answered the queue lengths' reads.")
        if settings.REDIS_URL:
            client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
            try:
                lengths = [(queue, client.llen(queue)) for queue in routed_queues()]
            except redis.RedisError:
                broker_up.add_metric([], 0)
            else:
                broker_up.add_metric([], 1)
                for queue, length in lengths:
                    queues.add_metric([queue], length)
            finally:
                client.close()
            yield broker_up
        yield queues
        deliveries = GaugeMetricFamily(
            "coalition_report_deliveries", "Report deliveries in the ledger by status.", labels=["status"]
        )
        for status, count in deliveries_by_status().items():
            deliveries.add_metric([status], count)
        yield deliveries
        yield GaugeMetricFamily(
            "coalition_outbox_pending", "Outbox messages whose task has not run yet.", value=outbox.pending_count()
        )


PORTAL = PortalCollector()
prometheus_client.REGISTRY.register(PORTAL)


def _registry():
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(PORTAL)
        return registry
    return prometheus_client.REGISTRY


@login_not_required
@never_cache
def metrics(request):
    """The metrics in Prometheus's text format, for a scraper with the token or from the networks."""
    decision = permissions.metrics_access(
        request.headers.get("Authorization"),
        request.META.get("REMOTE_ADDR"),
        token=settings.METRICS_TOKEN,
        networks=settings.METRICS_ALLOWED_NETWORKS,
    )
    if decision == "off":
        raise Http404
    if decision != "allowed":
        return HttpResponseForbidden(_("Metrics need the token or an allowed address."), content_type="text/plain")
    page = prometheus_client.generate_latest(_registry())
    return HttpResponse(page, content_type=prometheus_client.CONTENT_TYPE_LATEST)
