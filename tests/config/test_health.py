"""/health/: the database and the cache/broker, 200 when all answer, 503 naming what does not."""

import os

import pytest

from config import health


def test_health_is_ok_without_a_broker_and_says_tasks_run_in_process(db, client, settings):
    settings.REDIS_URL = ""

    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "broker": "not configured (tasks run in-process)",
            "worker": "not configured (tasks run in-process)",
        },
    }
    assert "no-cache" in response["Cache-Control"]


def test_health_fails_when_the_broker_does_not_answer(db, client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = client.get("/health/")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error: ")


def test_health_fails_when_the_database_does_not_answer(db, client, settings, monkeypatch):
    settings.REDIS_URL = ""

    def broken_database():
        raise ConnectionError("connection refused")

    monkeypatch.setattr(
        health, "HEALTH_CHECKS", [("database", broken_database, False), ("broker", health.check_broker, True)]
    )

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "error: ConnectionError: connection refused",
        "broker": "not configured (tasks run in-process)",
    }


def test_a_check_added_to_health_checks_is_reported(db, client, settings, monkeypatch):
    settings.REDIS_URL = ""
    monkeypatch.setattr(health, "HEALTH_CHECKS", [*health.HEALTH_CHECKS, ("disk", lambda: "ok", False)])

    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json()["checks"]["disk"] == "ok"


@pytest.mark.redis
def test_health_pings_redis_when_configured(db, client, settings, monkeypatch):
    settings.REDIS_URL = os.environ["REDIS_URL"]
    # Whether a worker answers is tests/reports/test_health_worker.py's question; here, only Redis.
    monkeypatch.setattr(health, "HEALTH_CHECKS", [c for c in health.HEALTH_CHECKS if c[0] != "worker"])

    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


@pytest.mark.postgres
def test_health_database_check_runs_on_postgresql(db, client, settings):
    settings.REDIS_URL = ""

    assert client.get("/health/").json()["checks"]["database"] == "ok"
