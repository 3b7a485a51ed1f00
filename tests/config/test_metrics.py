"""/metrics: off unless configured, a 403 without the token or from elsewhere, and the portal's gauges
(queue lengths, deliveries by status, the outbox) beside django-prometheus's request metrics."""

import ipaddress

import pytest
import redis
from django.core.exceptions import ImproperlyConfigured

from coalition import outbox, permissions
from config.env import env_networks
from reports import services
from reports.mail_selectors import Recipient
from reports.models import Report

TOKEN = "s3cret-scrape-token"  # noqa: S105 - a test value
LOCAL = [ipaddress.ip_network("127.0.0.0/8")]


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    return settings


def scrape(client, token=TOKEN, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get("/metrics", **headers, **extra)


def test_metrics_do_not_exist_unless_a_token_or_networks_are_set(client, settings, db):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    assert scrape(client).status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN, "Bearer"])
def test_a_scrape_without_the_right_bearer_token_is_refused(client, metrics_on, db, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/metrics", **extra)
    assert response.status_code == 403
    assert b"coalition_" not in response.content


def test_the_networks_setting_admits_its_addresses_only(client, settings, db):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = LOCAL
    assert scrape(client, token=None).status_code == 200  # the test client is 127.0.0.1
    assert scrape(client, token=None, REMOTE_ADDR="10.1.2.3").status_code == 403
    settings.METRICS_TOKEN = TOKEN  # both set: both needed
    assert scrape(client, token=None).status_code == 403
    assert scrape(client).status_code == 200


def test_the_access_rule_in_the_permissions_layer():
    decide = permissions.metrics_access
    assert decide(f"bearer {TOKEN}", "127.0.0.1", token=TOKEN, networks=[]) == "allowed"
    assert decide(None, "not-an-address", token="", networks=LOCAL) == "refused"
    assert decide(None, "::1", token="", networks=LOCAL) == "refused"
    assert decide(None, None, token="", networks=[]) == "off"


def test_the_networks_setting_is_checked_at_start(monkeypatch):
    monkeypatch.setenv("METRICS_ALLOWED_NETWORKS", "10.0.0.0/8, 192.168.1.7")
    assert env_networks("METRICS_ALLOWED_NETWORKS") == [
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.1.7/32"),
    ]
    monkeypatch.setenv("METRICS_ALLOWED_NETWORKS", "10.0.0.0/8,intranet")
    with pytest.raises(ImproperlyConfigured, match="METRICS_ALLOWED_NETWORKS: 'intranet'"):
        env_networks("METRICS_ALLOWED_NETWORKS")


def test_the_page_has_request_metrics_deliveries_by_status_and_the_outbox(client, metrics_on, coalition):
    services.deliveries_prepare(
        report=Report.DIGEST,
        coalition=coalition,
        period="2024-W23",
        recipients=[Recipient(email="a@example.org"), Recipient(email="b@example.org")],
    )
    outbox.enqueue("reports.tasks.send_digest", coalition_id=coalition.pk)  # committed with no broker to run it
    client.get("/health/live")

    response = scrape(client)
    text = response.content.decode()

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert 'coalition_report_deliveries{status="pending"} 2.0' in text
    assert 'coalition_report_deliveries{status="failed"} 0.0' in text
    assert "coalition_outbox_pending 1.0" in text
    assert "django_http_requests_total_by_view_transport_method_total" in text
    assert 'view="health_live"' in text


@pytest.mark.redis
def test_the_queue_lengths_are_read_from_redis(client, metrics_on, db, settings):
    import os

    settings.REDIS_URL = os.environ["REDIS_URL"]
    broker = redis.Redis.from_url(settings.REDIS_URL)
    try:
        broker.delete("imports")
        broker.rpush("imports", "one", "two", "three")
        text = scrape(client).content.decode()
    finally:
        broker.delete("imports")
        broker.close()
    assert 'coalition_celery_queue_length{queue="imports"} 3.0' in text
    assert 'coalition_celery_queue_length{queue="reports"}' in text
    assert "coalition_broker_up 1.0" in text


def test_a_broker_that_does_not_answer_is_reported_not_a_500(client, metrics_on, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = scrape(client)
    assert response.status_code == 200
    assert "coalition_broker_up 0.0" in response.content.decode()


def test_the_web_pods_are_annotated_for_prometheus_at_the_metrics_path():
    from pathlib import Path

    import yaml
    from django.conf import settings
    from django.urls import resolve

    documents = yaml.safe_load_all((Path(settings.BASE_DIR) / "deploy/kubernetes/base/web.yaml").read_text())
    web = next(d for d in documents if d and d["kind"] == "Deployment")
    annotations = web["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert resolve(annotations["prometheus.io/path"]).url_name == "metrics"
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert int(annotations["prometheus.io/port"]) == container["ports"][0]["containerPort"]
