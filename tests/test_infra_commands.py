"""The Makefile and .ci/run: the commands a newcomer and CI rely on do what the README says.

`make` runs here against a stand-in virtualenv whose python, ruff and pytest only record how they
were called, so the tests check the order and the exit codes without installing anything.
"""

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")

STUB = """#!/bin/sh
echo "$(basename "$0") $*" >> "{log}"
case "$(basename "$0") $*" in
  "pytest"*) exit {pytest_status} ;;
esac
exit 0
"""


@pytest.fixture
def fake_venv(tmp_path):
    """A VENV whose tools log their arguments; install stamps newer than the requirements files."""

    def make(pytest_status=0):
        venv = tmp_path / "venv"
        (venv / "bin").mkdir(parents=True, exist_ok=True)
        log = tmp_path / "calls.log"
        for tool in ("python", "ruff", "lint-imports", "pytest", "celery", "uv"):
            path = venv / "bin" / tool
            path.write_text(STUB.format(log=log, pytest_status=pytest_status))
            path.chmod(path.stat().st_mode | stat.S_IXUSR)
        for stamp in (".installed", ".installed-dev"):
            (venv / stamp).touch()
        return venv, log

    return make


def run_make(*args, venv, env=None):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("MAKE")}
    environment.update(env or {})
    return subprocess.run(
        ["make", "--no-print-directory", f"VENV={venv}", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def calls(log):
    return [line.rstrip() for line in log.read_text().splitlines()] if log.exists() else []


def test_make_test_runs_check_makemigrations_ruff_the_layers_then_pytest(fake_venv):
    venv, log = fake_venv()

    result = run_make("test", "PYTEST_ARGS=-x tests/coalition", venv=venv)

    assert result.returncode == 0, result.stderr
    steps = [call for call in calls(log) if "compilemessages" not in call]
    assert steps == [
        "python manage.py check",
        "python manage.py makemigrations --check --dry-run",
        "ruff check .",
        "lint-imports",
        "pytest -x tests/coalition",
    ]


def test_make_test_passes_database_and_redis_urls_through(fake_venv, tmp_path):
    venv, log = fake_venv()
    seen = tmp_path / "env.log"
    pytest_stub = venv / "bin" / "pytest"
    pytest_stub.write_text(f'#!/bin/sh\necho "$DATABASE_URL $REDIS_URL" > "{seen}"\n')

    result = run_make(
        "test",
        venv=venv,
        env={"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x", "REDIS_URL": "redis://127.0.0.1:6379/3"},
    )

    assert result.returncode == 0, result.stderr
    assert seen.read_text().split() == ["postgres://postgres@127.0.0.1:5432/x", "redis://127.0.0.1:6379/3"]
    assert "(database: postgres; broker: redis)" in result.stdout, "make test says what it runs on"
    assert "://" not in result.stdout, "and prints no URL, which may hold a password"


def test_make_test_fails_loudly_when_pytest_collects_nothing(fake_venv):
    venv, _log = fake_venv(pytest_status=5)

    result = run_make("test", venv=venv)

    assert result.returncode != 0
    assert "collected no tests (exit 5)" in result.stderr


def test_make_test_fails_when_a_test_fails(fake_venv):
    venv, _log = fake_venv(pytest_status=1)

    assert run_make("test", venv=venv).returncode != 0


def test_make_test_stops_at_a_failing_check(fake_venv):
    venv, log = fake_venv()
    (venv / "bin" / "ruff").write_text(f'#!/bin/sh\necho "ruff $*" >> "{log}"\nexit 1\n')

    result = run_make("test", venv=venv)

    assert result.returncode != 0
    assert not any(call.startswith("pytest") for call in calls(log)), "pytest must not run after a failed lint"


def test_make_test_fast_runs_the_checks_then_the_quick_tests_in_parallel_and_says_how_long(fake_venv):
    venv, log = fake_venv()
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL"} and not key.startswith("MAKE")
    }

    result = subprocess.run(
        ["make", "--no-print-directory", f"VENV={venv}", "test-fast"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert [call for call in calls(log) if "compilemessages" not in call] == [
        "python manage.py check",
        "python manage.py makemigrations --check --dry-run",
        "ruff check .",
        "lint-imports",
        "pytest -n auto --dist loadfile -m not slow and not (redis or worker)",
    ]
    assert "(database: sqlite; broker: none, tasks in-process)" in result.stdout
    assert re.search(r"^make test-fast: passed in \d+ s$", result.stdout, re.MULTILINE)


def test_make_test_fast_under_redis_runs_the_tests_that_share_it_one_at_a_time_after_the_rest(fake_venv, tmp_path):
    venv, log = fake_venv()
    seen = tmp_path / "redis-url.log"
    (venv / "bin" / "pytest").write_text(f'#!/bin/sh\necho "pytest $* REDIS_URL=$REDIS_URL" >> "{seen}"\n')

    result = run_make("test-fast", "FAST_WORKERS=2", venv=venv, env={"REDIS_URL": "redis://127.0.0.1:6379/3"})

    assert result.returncode == 0, result.stderr
    assert seen.read_text().splitlines() == [
        "pytest -n 2 --dist loadfile -m not slow and not (redis or worker) REDIS_URL=",
        "pytest -p no:xdist -m not slow and (redis or worker) REDIS_URL=redis://127.0.0.1:6379/3",
    ]


@pytest.mark.parametrize(("status", "message"), [(1, "FAILED in"), (5, "collected no tests (exit 5)")])
def test_make_test_fast_fails_when_pytest_does(fake_venv, status, message):
    venv, _log = fake_venv(pytest_status=status)

    result = run_make("test-fast", venv=venv)

    assert result.returncode != 0
    assert message in result.stdout + result.stderr


def test_make_run_migrates_imports_rates_loads_the_demo_then_serves(fake_venv):
    venv, log = fake_venv()

    result = run_make("run", venv=venv)

    assert result.returncode == 0, result.stderr
    steps = [call for call in calls(log) if "compilemessages" not in call]
    assert steps == [
        "python manage.py migrate --noinput --verbosity 0",
        "python manage.py import_rates",
        "python manage.py load_demo",
        "python manage.py runserver 127.0.0.1:8000",
    ]


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, "http://127.0.0.1:8011"), ({"SITE_URL": "https://portal.example.org"}, "https://portal.example.org")],
)
def test_make_run_on_another_port_points_site_url_there_unless_it_is_set(
    fake_venv, tmp_path, monkeypatch, env, expected
):
    """Email links, the trusted CSRF origin and the printed logins follow the port make serves on."""
    monkeypatch.delenv("SITE_URL", raising=False)
    venv, log = fake_venv()
    seen = tmp_path / "site-url.log"
    python_stub = venv / "bin" / "python"
    python_stub.write_text(f'#!/bin/sh\necho "$* $SITE_URL" >> "{seen}"\n')

    result = run_make("run", "PORT=8011", venv=venv, env=env)

    assert result.returncode == 0, result.stderr
    served = [line for line in seen.read_text().splitlines() if "load_demo" in line or "runserver" in line]
    assert served == [f"manage.py load_demo {expected}", f"manage.py runserver 127.0.0.1:8011 {expected}"]


def test_make_run_creates_the_virtualenv_and_installs_when_missing(tmp_path):
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", f"VENV={tmp_path / 'new-venv'}", "run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    plan = result.stdout
    assert f"-m venv {tmp_path / 'new-venv'}" in plan
    assert "pip --disable-pip-version-check install --require-hashes -r requirements.txt" in plan
    assert plan.index("-m venv") < plan.index("-r requirements.txt") < plan.index("manage.py migrate")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("lint", ["ruff check .", "ruff format --check ."]),
        ("format", ["ruff format .", "ruff check --fix ."]),
        ("migrate", ["python manage.py migrate --noinput"]),
        ("demo", ["python manage.py migrate --noinput", "python manage.py import_rates", "python manage.py load_demo"]),
    ],
)
def test_make_targets(fake_venv, target, expected):
    venv, log = fake_venv()

    result = run_make(target, venv=venv)

    assert result.returncode == 0, result.stderr
    assert [call for call in calls(log) if "compilemessages" not in call] == expected


def test_make_lock_compiles_both_locks_with_hashes_for_every_platform(fake_venv):
    venv, log = fake_venv()

    result = run_make("lock", venv=venv)

    assert result.returncode == 0, result.stderr
    options = "pip compile --universal --python-version 3.11 --generate-hashes --quiet"
    options += ' --custom-compile-command "make lock"'
    assert [" ".join(call.replace("make lock", '"make lock"').split()) for call in calls(log)] == [
        f"uv {options} requirements.in -o requirements.txt",
        f"uv {options} requirements-dev.in --constraint requirements.txt -o requirements-dev.txt",
    ]


def test_make_lock_upgrade_moves_only_the_packages_named(fake_venv):
    venv, log = fake_venv()

    result = run_make("lock", "UPGRADE=kombu redis", venv=venv)

    assert result.returncode == 0, result.stderr
    assert all("--upgrade-package kombu --upgrade-package redis " in call for call in calls(log))
    assert not any("--upgrade " in call for call in calls(log))


@pytest.mark.parametrize(("target", "word"), [("worker", "worker"), ("beat", "beat")])
def test_worker_and_beat_need_redis_and_run_celery_with_the_coalition_app(fake_venv, target, word):
    venv, log = fake_venv()
    environment = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}

    refused = subprocess.run(
        ["make", "--no-print-directory", f"VENV={venv}", target],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    started = run_make(target, venv=venv, env={"REDIS_URL": "redis://127.0.0.1:6379/1"})

    assert refused.returncode != 0
    assert "REDIS_URL" in refused.stderr
    assert started.returncode == 0, started.stderr
    assert calls(log)[-1].startswith(f"celery -A config.celery_app {word}")


def test_make_messages_covers_english_and_ukrainian(fake_venv):
    venv, log = fake_venv()

    result = run_make("messages", venv=venv)

    assert result.returncode == 0, result.stderr
    makemessages = next(call for call in calls(log) if "makemessages" in call)
    assert "--locale=en" in makemessages
    assert "--locale=uk" in makemessages
    assert f"--ignore={venv}" in makemessages


def test_ci_run_is_an_executable_strict_bash_script_that_runs_make_test():
    script = ROOT / ".ci" / "run"
    text = script.read_text()

    assert os.access(script, os.X_OK)
    assert text.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in text
    assert "export CI=true" in text
    assert "postgres://postgres@127.0.0.1:5432/coalition_ci" in text
    assert "redis://127.0.0.1:6379/0" in text
    assert "make --no-print-directory test" in text
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert syntax.returncode == 0, syntax.stderr
