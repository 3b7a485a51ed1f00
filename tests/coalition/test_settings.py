"""Settings from the environment: safe defaults on a bare machine, refusal to start without a secret
in production, malformed values rejected. Each case runs Django in a fresh process with its own env."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import CONTRACT, env_bool, env_int, env_list, parse_email_url

BASE_DIR = Path(__file__).resolve().parents[2]
SMTP = "django.core.mail.backends.smtp.EmailBackend"

PRINT_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ENGINE": db["ENGINE"],
    "NAME": str(db["NAME"]),
    "HOST": db.get("HOST", ""),
    "USER": db.get("USER", ""),
    "CELERY_TASK_ALWAYS_EAGER": settings.CELERY_TASK_ALWAYS_EAGER,
    "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    "CACHE": settings.CACHES["default"]["BACKEND"],
    "EMAIL_BACKEND": settings.EMAIL_BACKEND,
    "EMAIL_HOST": getattr(settings, "EMAIL_HOST", None),
    "EMAIL_PORT": getattr(settings, "EMAIL_PORT", None),
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "SITE_URL": settings.SITE_URL,
    "TIME_ZONE": settings.TIME_ZONE,
    "SECRET_KEY": settings.SECRET_KEY,
    "STATICFILES": settings.STORAGES["staticfiles"]["BACKEND"],
}))
"""


def run_django(code, **env):
    """Run ``code`` in a new interpreter whose environment holds nothing of the contract but ``env``."""
    clean = {key: value for key, value in os.environ.items() if key not in CONTRACT and not key.startswith("EMAIL")}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=120
    )


def load_settings(**env):
    result = run_django(PRINT_SETTINGS, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_nothing_set_the_portal_runs_on_sqlite_with_tasks_in_process_and_console_email():
    config = load_settings()

    assert config["DEBUG"] is True
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(BASE_DIR / "db.sqlite3")
    assert config["CELERY_TASK_ALWAYS_EAGER"] is True
    assert config["CELERY_BROKER_URL"] == "memory://localhost/"
    assert config["CACHE"] == "django.core.cache.backends.locmem.LocMemCache"
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert config["SITE_URL"] == "http://127.0.0.1:8000"
    assert config["TIME_ZONE"] == "Europe/Kyiv"


def test_debug_off_without_secret_key_refuses_to_start_and_says_what_to_set():
    result = run_django("import django; django.setup()", DEBUG="0")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is not set" in result.stderr
    assert "set SECRET_KEY" in result.stderr


def test_manage_py_check_also_refuses_without_secret_key():
    clean = {key: value for key, value in os.environ.items() if key not in CONTRACT}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env={**clean, "DEBUG": "false"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_settings_from_the_environment():
    config = load_settings(
        DEBUG="off",
        SECRET_KEY="a-long-random-production-secret-for-the-test",
        DATABASE_URL="postgres://portal:pw@db.internal:5432/portal",
        REDIS_URL="redis://cache.internal:6379/2",
        ALLOWED_HOSTS="portal.example.org, www.portal.example.org",
        SITE_URL="https://portal.example.org/",
        TIME_ZONE="Europe/Tallinn",
        EMAIL_URL="smtp://mail.internal:2525",
    )

    assert config["DEBUG"] is False
    assert config["SECRET_KEY"] == "a-long-random-production-secret-for-the-test"
    assert (config["ENGINE"], config["HOST"], config["USER"], config["NAME"]) == (
        "django.db.backends.postgresql",
        "db.internal",
        "portal",
        "portal",
    )
    assert config["CELERY_TASK_ALWAYS_EAGER"] is False
    assert config["CELERY_BROKER_URL"] == "redis://cache.internal:6379/2"
    assert config["CACHE"] == "django.core.cache.backends.redis.RedisCache"
    assert config["ALLOWED_HOSTS"] == ["portal.example.org", "www.portal.example.org"]
    assert config["SITE_URL"] == "https://portal.example.org"
    assert config["TIME_ZONE"] == "Europe/Tallinn"
    assert (config["EMAIL_BACKEND"], config["EMAIL_HOST"], config["EMAIL_PORT"]) == (SMTP, "mail.internal", 2525)
    assert config["STATICFILES"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.mark.parametrize("value", ["maybe", "2", "enabled"])
def test_a_malformed_debug_value_is_refused(value):
    result = run_django("import django; django.setup()", DEBUG=value, SECRET_KEY="x" * 50)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"DEBUG={value!r} is not a boolean" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REPORTS_DIGEST_HOUR", "eight", "REPORTS_DIGEST_HOUR='eight' is not a whole number."),
        ("REPORTS_DIGEST_HOUR", "24", "REPORTS_DIGEST_HOUR=24 must be at least 0 and at most 23."),
        ("REPORTS_RETRY_BACKOFF", "0", "REPORTS_RETRY_BACKOFF=0 must be at least 1."),
    ],
)
def test_a_malformed_number_is_refused_at_startup_naming_the_variable(variable, value, message):
    result = run_django("import django; django.setup()", **{variable: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_env_int_default_and_bounds(monkeypatch):
    monkeypatch.delenv("SOME_NUMBER", raising=False)
    assert env_int("SOME_NUMBER", 7) == 7
    monkeypatch.setenv("SOME_NUMBER", " 12 ")
    assert env_int("SOME_NUMBER", 7, maximum=12) == 12
    with pytest.raises(ImproperlyConfigured, match="SOME_NUMBER=12 must be at least 13"):
        env_int("SOME_NUMBER", 7, minimum=13)


def test_a_malformed_email_url_is_refused_at_startup():
    result = run_django("import django; django.setup()", EMAIL_URL="ftp://mail.example.org")

    assert result.returncode != 0
    assert "EMAIL_URL scheme 'ftp' is not supported" in result.stderr


# --- config.env, in process -------------------------------------------------------------------


def test_parse_email_url_smtp_with_credentials_and_tls():
    config = parse_email_url("smtp://user%40example.org:p%40ss@mail.example.org:587?tls=1&timeout=5")

    assert config == {
        "EMAIL_BACKEND": SMTP,
        "EMAIL_HOST": "mail.example.org",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "user@example.org",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_SSL": False,
        "EMAIL_USE_TLS": True,
        "EMAIL_TIMEOUT": 5,
    }


def test_parse_email_url_mail_catcher():
    config = parse_email_url("smtp://127.0.0.1:1025")

    assert (config["EMAIL_HOST"], config["EMAIL_PORT"]) == ("127.0.0.1", 1025)
    assert not config["EMAIL_USE_TLS"]
    assert not config["EMAIL_USE_SSL"]
    assert config["EMAIL_HOST_USER"] == ""


@pytest.mark.parametrize(
    ("url", "port", "ssl", "tls"), [("smtps://m", 465, True, False), ("submission://m", 587, False, True)]
)
def test_parse_email_url_default_ports(url, port, ssl, tls):
    config = parse_email_url(url)

    assert (config["EMAIL_PORT"], config["EMAIL_USE_SSL"], config["EMAIL_USE_TLS"]) == (port, ssl, tls)


@pytest.mark.parametrize(
    ("url", "backend"),
    [("console:", "console"), ("locmem:", "locmem"), ("dummy:", "dummy")],
)
def test_parse_email_url_local_backends(url, backend):
    assert parse_email_url(url) == {"EMAIL_BACKEND": f"django.core.mail.backends.{backend}.EmailBackend"}


@pytest.mark.parametrize("url", ["ftp://mail.example.org", "mail.example.org", "http://x:25"])
def test_parse_email_url_refuses_other_schemes(url):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL scheme"):
        parse_email_url(url)


def test_parse_email_url_refuses_a_bad_port():
    with pytest.raises(ImproperlyConfigured, match="invalid port"):
        parse_email_url("smtp://mail.example.org:port")


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("TRUE", True), ("on", True), ("0", False), ("no", False)])
def test_env_bool(monkeypatch, raw, expected):
    monkeypatch.setenv("SOME_FLAG", raw)
    assert env_bool("SOME_FLAG") is expected


def test_env_bool_default_and_refusal(monkeypatch):
    monkeypatch.delenv("SOME_FLAG", raising=False)
    assert env_bool("SOME_FLAG", default=True) is True
    monkeypatch.setenv("SOME_FLAG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG='perhaps' is not a boolean"):
        env_bool("SOME_FLAG")


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example.org, ,b.example.org ,")
    assert env_list("HOSTS") == ["a.example.org", "b.example.org"]
