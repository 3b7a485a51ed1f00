"""Shared fixtures: the personas every test speaks of, and the rule for tests that need real services.

A test marked ``postgres``, ``redis``, ``worker`` or ``browser`` is skipped with a one-line reason on
a bare machine; under ``CI=true`` the same missing service fails the test instead.
"""

import os
import shutil
from datetime import date
from decimal import Decimal

import pytest

from tests import factories

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(available, reason):
    """Skip (locally) or fail (under CI=true) when a service the test needs is missing."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def _redis_available():
    url = os.environ.get("REDIS_URL")
    if not url:
        return False
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False


def _chromium_path():
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def compile_translations():
    """Compile each locale/*/LC_MESSAGES/*.po whose .mo is missing or older (the .mo files are built,
    not committed), so the Ukrainian pages are tested as they are served. Returns False without msgfmt."""
    import subprocess
    from pathlib import Path

    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        return False
    for po in (Path(__file__).resolve().parent.parent / "locale").glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            subprocess.run([msgfmt, "--check-format", "-o", str(mo), str(po)], check=True)
    return True


TRANSLATIONS_COMPILED = compile_translations()


def pytest_runtest_setup(item):
    markers = {mark.name for mark in item.iter_markers()}
    if "postgres" in markers:
        from django.db import connection

        require(connection.vendor == "postgresql", "PostgreSQL is not configured (set DATABASE_URL=postgres://...)")
    if markers & {"redis", "worker"}:
        require(_redis_available(), "Redis is not reachable (set REDIS_URL=redis://127.0.0.1:6379/0)")
    if "translations" in markers:
        require(TRANSLATIONS_COMPILED, "GNU gettext's msgfmt is not installed (apt-get install gettext)")
    if "browser" in markers:
        require(_chromium_path() is not None, "Chromium is not installed (apt-get install chromium)")


@pytest.fixture
def chromium_path():
    return _chromium_path()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Personas get real passwords; PBKDF2's deliberate slowness would cost a second per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _language_reset():
    """LocaleMiddleware activates a request's language in the test's thread and nothing resets it:
    without this, one Ukrainian page would leave later tests' messages in Ukrainian."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def eager_tasks():
    """Tasks run in the test process, as with no broker (make run), whatever REDIS_URL says: a test
    that wants the broker and a worker asks for ``real_broker`` (tests/reports/conftest.py), which
    runs after this fixture and turns it off for that test."""
    from config.celery_app import app as celery_app

    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


# --- Personas ------------------------------------------------------------------------------------


@pytest.fixture
def coalition(db):
    return factories.CoalitionFactory(slug="test-coalition", name="Test Coalition", target_eur=Decimal("100000000"))


@pytest.fixture
def other_coalition(db):
    return factories.CoalitionFactory(slug="other-coalition", name="Other Coalition")


@pytest.fixture
def member_a(coalition):
    member = factories.MemberFactory(code="EE", name="Estonia")
    factories.MembershipFactory(member=member, coalition=coalition, role="lead")
    return member


@pytest.fixture
def member_b(coalition):
    member = factories.MemberFactory(code="LU", name="Luxembourg")
    factories.MembershipFactory(member=member, coalition=coalition, role="lead")
    return member


@pytest.fixture
def rates(db):
    """ECB rates for a few currencies around the dates tests use."""
    return factories.standard_rates()


@pytest.fixture
def secretariat(coalition):
    return factories.persona("secretariat", "secretariat", coalitions=[coalition])


@pytest.fixture
def editor_a(coalition, member_a):
    return factories.persona("editor_a", "member-editor", member=member_a, coalitions=[coalition])


@pytest.fixture
def editor_b(coalition, member_b):
    return factories.persona("editor_b", "member-editor", member=member_b, coalitions=[coalition])


@pytest.fixture
def steering(coalition):
    return factories.persona("steering", "steering", coalitions=[coalition])


@pytest.fixture
def partner(coalition):
    return factories.persona("partner", "partner", coalitions=[coalition])


@pytest.fixture
def outsider(db):
    """A signed-in user with no role and no coalition."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("outsider", password=factories.PASSWORD)


@pytest.fixture
def admin_user(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("admin", "admin@example.org", factories.PASSWORD)


@pytest.fixture
def personas(secretariat, editor_a, editor_b, steering, partner, outsider):
    return {
        "secretariat": secretariat,
        "editor_a": editor_a,
        "editor_b": editor_b,
        "steering": steering,
        "partner": partner,
        "outsider": outsider,
    }


@pytest.fixture
def pledge_a(coalition, member_a, secretariat, rates):
    """An announced USD pledge of member A."""
    return factories.make_pledge(
        coalition=coalition,
        member=member_a,
        amount=Decimal("1000000.00"),
        currency="USD",
        announced_on=date(2024, 2, 2),
        status="announced",
    )


@pytest.fixture
def pledge_b(coalition, member_b, secretariat, rates):
    """A confirmed EUR pledge of member B."""
    return factories.make_pledge(
        coalition=coalition,
        member=member_b,
        amount=Decimal("5000000.00"),
        currency="EUR",
        announced_on=date(2024, 2, 2),
        status="confirmed",
    )
