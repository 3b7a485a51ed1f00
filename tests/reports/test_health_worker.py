"""/health/ready says whether a Celery worker answers: not needed without a broker, an error reported
(the replica stays ready) when none answers, ok with a real worker running (tests/reports/test_worker.py
runs that one)."""

import os

import pytest

from config import health as config_health
from reports import health

pytestmark = pytest.mark.django_db


def test_the_worker_check_is_part_of_health():
    assert ("worker", health.check_worker, True, False) in config_health.HEALTH_CHECKS


def test_no_broker_means_no_worker_is_needed(client, settings):
    settings.REDIS_URL = ""
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json()["checks"]["worker"] == "not configured (tasks run in-process)"


@pytest.mark.redis
def test_no_worker_answering_is_reported_without_making_the_replica_unready(client, settings):
    """A real ping on the real broker, with no worker running (test_worker.py stops its own)."""
    settings.REDIS_URL = os.environ["REDIS_URL"]

    response = client.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["checks"]["worker"] == "error: RuntimeError: no Celery worker answered within 1 s"
    assert response.json()["checks"]["broker"] == "ok"
