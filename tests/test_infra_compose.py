"""docker-compose.yml against the settings' contract (no Docker engine runs here to start it)."""

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from config.env import CONTRACT

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")
# ${NAME}, ${NAME:-default} and ${NAME-default}: what `docker compose` substitutes from the shell.
INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}")


def resolve(value):
    """A compose value as `docker compose up` sees it with nothing set in the shell."""
    return INTERPOLATION.sub(lambda match: match.group("default") or "", str(value))


def environment(service):
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: resolve(value) for key, value in env.items()}


def command(service):
    cmd = service.get("command", [])
    return cmd.split() if isinstance(cmd, str) else [part for item in cmd for part in str(item).split()]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def test_the_six_services_exist(services):
    assert set(services) >= {"postgres", "redis", "web", "worker", "beat", "mailcatcher"}


def test_web_worker_and_beat_run_one_image_built_by_the_dockerfile(services):
    builds = [services[name].get("build") for name in APP_SERVICES]
    images = {services[name].get("image") for name in APP_SERVICES}

    assert all(builds), "each of web, worker and beat builds (or names) the portal image"
    assert all(build == builds[0] for build in builds)
    context = builds[0]["context"] if isinstance(builds[0], dict) else builds[0]
    dockerfile = builds[0].get("dockerfile", "Dockerfile") if isinstance(builds[0], dict) else "Dockerfile"
    assert (ROOT / context / dockerfile).resolve() == (ROOT / "Dockerfile").resolve()
    assert len(images) == 1
    assert None not in images


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_set_every_variable_of_the_settings_contract(services, name):
    env = environment(services[name])

    missing = [variable for variable in CONTRACT if variable not in env]
    assert not missing, f"{name} does not set {missing}"
    assert env["DEBUG"] in {"0", "false", "False", "off", "no"}, "the compose stack runs as production would"
    assert env["SECRET_KEY"], "DEBUG off without SECRET_KEY refuses to start"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_database_url_points_at_the_postgres_service_with_its_credentials(services, name):
    postgres = environment(services["postgres"])
    url = urlsplit(environment(services[name])["DATABASE_URL"])

    assert url.scheme in {"postgres", "postgresql"}
    assert url.hostname == "postgres"
    assert (url.port or 5432) == 5432
    assert url.username == postgres["POSTGRES_USER"]
    assert url.password == postgres["POSTGRES_PASSWORD"]
    assert url.path.lstrip("/") == postgres["POSTGRES_DB"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_redis_url_points_at_the_redis_service(services, name):
    url = urlsplit(environment(services[name])["REDIS_URL"])

    assert url.scheme == "redis"
    assert url.hostname == "redis"
    assert (url.port or 6379) == 6379


@pytest.mark.parametrize("name", APP_SERVICES)
def test_email_url_points_at_the_mail_catchers_smtp_port(services, name):
    url = urlsplit(environment(services[name])["EMAIL_URL"])

    assert url.scheme == "smtp"
    assert url.hostname == "mailcatcher"
    assert url.port == 1025
    assert "mailpit" in services["mailcatcher"]["image"], "Mailpit listens for SMTP on 1025, its UI on 8025"
    assert any("8025" in str(port) for port in services["mailcatcher"].get("ports", []))


def test_the_settings_load_from_the_compose_environment(services):
    """Django starts with exactly what compose gives web (DEBUG off, so SECRET_KEY must be there)."""
    env = {key: value for key, value in os.environ.items() if key not in CONTRACT}
    env.update(environment(services["web"]), DJANGO_SETTINGS_MODULE="config.settings")
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.DEBUG, settings.EMAIL_HOST, settings.EMAIL_PORT, settings.CACHES['default']['BACKEND'])"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "mailcatcher", "1025", "django.core.cache.backends.redis.RedisCache"]


def test_allowed_hosts_cover_the_site_url_and_the_healthcheck(services):
    env = environment(services["web"])
    hosts = env["ALLOWED_HOSTS"].split(",")

    assert urlsplit(env["SITE_URL"]).hostname in hosts
    healthcheck = " ".join(services["web"]["healthcheck"]["test"])
    assert "/health/" in healthcheck
    assert urlsplit(re.search(r"http://[^'\" ]+", healthcheck).group()).hostname in hosts


def test_web_runs_gunicorn_on_the_wsgi_app_after_migrating(services):
    cmd = " ".join(command(services["web"]))

    assert "migrate" in cmd
    assert "gunicorn config.wsgi" in cmd
    assert any("8000" in str(port) for port in services["web"]["ports"])


def test_worker_and_beat_run_celery_with_the_coalition_app(services):
    worker, beat = command(services["worker"]), command(services["beat"])

    assert worker[:4] == ["celery", "-A", "config.celery_app", "worker"]
    assert beat[:4] == ["celery", "-A", "config.celery_app", "beat"]


def test_the_worker_consumes_every_queue_the_settings_route_to(services):
    from django.conf import settings

    queues = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {settings.CELERY_TASK_DEFAULT_QUEUE}
    worker = command(services["worker"])
    consumed = next(arg for arg in worker if arg.startswith("--queues=")).removeprefix("--queues=").split(",")
    assert queues <= set(consumed)
    makefile = (ROOT / "Makefile").read_text()
    assert f"WORKER_QUEUES := {','.join(consumed)}" in makefile


def test_every_service_has_a_healthcheck(services):
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_app_services_wait_for_healthy_postgres_and_redis(services):
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        for needed in ("postgres", "redis"):
            assert depends[needed]["condition"] == "service_healthy", f"{name} -> {needed}"
    # The worker must not wait for web to be healthy: /health/ reports the worker, a deadlock.
    assert services["worker"]["depends_on"].get("web", {}).get("condition") != "service_healthy"


def test_dockerfile_builds_a_non_root_gunicorn_image_with_collected_static_files():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.MULTILINE)
    assert "pip install --require-hashes -r requirements.txt" in dockerfile
    assert re.search(r"SECRET_KEY=\S+ DEBUG=0 python manage.py collectstatic --noinput", dockerfile)
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users, "the image runs as a named user"
    assert users[-1] not in {"root", "0"}
    assert '"gunicorn", "config.wsgi"' in dockerfile


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())

    assert {".git", ".venv", "db.sqlite3", "staticfiles", ".env"} <= ignored
