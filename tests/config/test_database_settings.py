"""The database settings a pooler in transaction mode needs, from DATABASE_POOLER."""

import json

import pytest

from tests.coalition.test_settings import run_django

PRINT = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps({k: {'cursors': v.get('DISABLE_SERVER_SIDE_CURSORS', False), "
    "'prepare': v.get('OPTIONS', {}).get('prepare_threshold', 'default')} for k, v in settings.DATABASES.items()}))"
)
POSTGRES = "postgres://portal@db.internal:5432/portal"


def databases(**env):
    result = run_django(PRINT, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_a_pooler_postgresql_keeps_server_side_cursors_and_prepared_statements():
    assert databases(DATABASE_URL=POSTGRES) == {"default": {"cursors": False, "prepare": "default"}}


def test_a_pooler_in_transaction_mode_turns_off_server_side_cursors_and_prepared_statements():
    assert databases(DATABASE_URL=POSTGRES, DATABASE_POOLER="transaction") == {
        "default": {"cursors": True, "prepare": None}
    }


def test_a_pooler_in_session_mode_changes_nothing():
    assert databases(DATABASE_URL=POSTGRES, DATABASE_POOLER="session") == {
        "default": {"cursors": False, "prepare": "default"}
    }


@pytest.mark.parametrize("value", ["statement", "yes", "pgbouncer"])
def test_an_unknown_pool_mode_is_refused_naming_the_variable(value):
    result = run_django("import django; django.setup()", DATABASE_URL=POSTGRES, DATABASE_POOLER=value)
    assert result.returncode != 0
    assert f"DATABASE_POOLER is '{value}'" in result.stderr
