"""/health/live (the process answers), /health/ready (database, migrations, broker; the worker only
reported) and /health/, the readiness answer kept for what already uses it."""

import os

import pytest

from config import health

pytestmark = pytest.mark.django_db


def test_live_answers_without_asking_anything(client, monkeypatch):
    def broken():
        raise ConnectionError("the database is down")

    monkeypatch.setattr(health, "check_database", broken)

    response = client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("url", ["/health/ready", "/health/"])
def test_ready_without_a_broker_says_tasks_run_in_process(client, settings, url):
    settings.REDIS_URL = ""

    response = client.get(url)

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "migrations": "ok",
            "broker": "not configured (tasks run in-process)",
            "worker": "not configured (tasks run in-process)",
        },
    }


def test_ready_fails_when_the_broker_does_not_answer(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = client.get("/health/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error: ")


def test_ready_fails_when_the_database_does_not_answer(client, settings, monkeypatch):
    settings.REDIS_URL = ""

    def broken_database():
        raise ConnectionError("connection refused")

    checks = [
        (name, broken_database if name == "database" else check, *rest) for name, check, *rest in health.HEALTH_CHECKS
    ]
    monkeypatch.setattr(health, "HEALTH_CHECKS", checks)

    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error: ConnectionError: connection refused"


def test_ready_waits_for_unapplied_migrations(client, settings, monkeypatch):
    """A replica of a new release is not ready until its migrations ran."""
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    settings.REDIS_URL = ""
    monkeypatch.setattr(health, "_migrated", False)
    recorder = MigrationRecorder(connection)
    recorder.record_unapplied("reports", "0001_initial")

    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["migrations"].startswith("error: RuntimeError: ")
    assert "reports.0001_initial" in response.json()["checks"]["migrations"]
    recorder.record_applied("reports", "0001_initial")
    assert client.get("/health/ready").status_code == 200


def test_a_missing_worker_is_reported_but_the_replica_stays_ready(client, settings, monkeypatch):
    settings.REDIS_URL = "redis://configured"

    def no_worker():
        raise RuntimeError("no Celery worker answered within 1 s")

    checks = [
        (name, {"broker": lambda: "ok", "worker": no_worker}.get(name, check), *rest)
        for name, check, *rest in health.HEALTH_CHECKS
    ]
    monkeypatch.setattr(health, "HEALTH_CHECKS", checks)

    response = client.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["checks"]["worker"] == "error: RuntimeError: no Celery worker answered within 1 s"


@pytest.mark.redis
def test_ready_pings_redis_when_configured(client, settings, monkeypatch):
    settings.REDIS_URL = os.environ["REDIS_URL"]
    monkeypatch.setattr(health, "HEALTH_CHECKS", [c for c in health.HEALTH_CHECKS if c[0] != "worker"])

    response = client.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok", "broker": "ok"}


@pytest.mark.postgres
def test_ready_database_check_runs_on_postgresql(client, settings):
    settings.REDIS_URL = ""

    assert client.get("/health/ready").json()["checks"]["database"] == "ok"
