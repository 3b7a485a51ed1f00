"""manage.py backup, restore and verify_totals: a backup's totals are the data it holds, a restore into
a fresh PostgreSQL database brings them back to the last cent, and any difference fails the check."""

import io
import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from contributions import services
from contributions.models import Allocation, Disbursement, Pledge
from reports.backups import backup_kind
from reports.totals import coalition_totals, differences
from tests import factories

ROOT = Path(settings.BASE_DIR)
FAST_HASHER = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def written(coalition, member_a, secretariat, rates):
    """A USD and a EUR pledge, one disbursed against and allocated."""
    usd = factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal("1000000.00"), currency="USD")
    eur = factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal("250000.50"), status="draft")
    usd = services.pledge_confirm(acting_user=secretariat, pledge=usd)
    services.disbursement_record(acting_user=secretariat, pledge=usd, amount=Decimal("1000.25"), date=date(2024, 3, 1))
    priority = services.priority_create(
        acting_user=secretariat, coalition=coalition, title="Secure connectivity", rank=1, estimated_cost_eur=10**6
    )
    services.allocation_set(acting_user=secretariat, pledge=usd, priority=priority, amount_eur=Decimal("500.00"))
    return {"usd": usd, "eur": eur}


def test_the_totals_hold_every_sum_of_each_coalition_in_euro_and_in_the_original_currencies(written, other_coalition):
    totals = coalition_totals()

    ours = totals["test-coalition"]
    assert ours["pledges"]["disbursing"]["by_currency"] == {"USD": "1000000.00"}
    assert ours["pledges"]["disbursing"]["amount_eur"] == str(written["usd"].amount_eur)
    assert ours["pledges"]["draft"] == {
        "count": 1,
        "amount_eur": "250000.50",
        "disbursed_eur": "0.00",
        "by_currency": {"EUR": "250000.50"},
    }
    assert ours["disbursements"] == {"count": 1, "by_currency": {"USD": "1000.25"}}
    assert ours["allocations"] == {"count": 1, "amount_eur": "500.00"}
    assert ours["counts"] == {"members": 1, "priorities": 1, "meetings": 0, "decisions": 0}
    assert totals["other-coalition"]["pledges"] == {}


def test_verify_totals_names_each_difference_and_fails(written, tmp_path):
    snapshot = tmp_path / "totals.json"
    snapshot.write_text(json.dumps(coalition_totals()))
    assert "Equal to" in run("verify_totals", "--against", str(snapshot))

    Allocation.objects.get().delete()
    with pytest.raises(CommandError) as error:
        run("verify_totals", "--against", str(snapshot))
    assert "test-coalition.allocations.count: expected 1, found 0" in str(error.value)
    assert differences({"a": {"b": "1.00"}}, {"a": {"b": "1.00", "c": 2}}) == ["a.c: not expected, found 2"]


def test_verify_totals_refuses_a_file_that_is_no_totals(db, tmp_path):
    broken = tmp_path / "totals.json"
    broken.write_text("{not json")
    with pytest.raises(CommandError, match="Cannot read the totals"):
        run("verify_totals", "--against", str(broken))


def test_restore_is_refused_without_yes_and_names_the_database(db, tmp_path):
    dump = tmp_path / "x.dump"
    dump.write_bytes(b"PGDMP")
    with pytest.raises(CommandError, match="add --yes") as error:
        run("restore", str(dump))
    assert str(connection.settings_dict["NAME"]) in str(error.value)


def test_restore_refuses_a_file_that_is_no_backup(db, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    with pytest.raises(CommandError, match="neither a pg_dump custom-format file nor an SQLite database"):
        run("restore", str(other), "--yes")


@pytest.mark.django_db(transaction=True)
def test_a_backup_writes_the_database_and_its_totals(written, tmp_path):
    output = tmp_path / ("portal.dump" if connection.vendor == "postgresql" else "portal.sqlite3")
    message = run("backup", "--output", str(output))

    assert f"Backed up to {output}" in message
    assert backup_kind(output) == connection.vendor
    assert json.loads(Path(f"{output}.totals.json").read_text()) == coalition_totals()
    if connection.vendor == "sqlite":
        with sqlite3.connect(output) as copy:
            assert copy.execute("SELECT count(*) FROM contributions_pledge").fetchone() == (2,)


# --- The drill: backup, more writes, restore into a fresh database, verify ------------------------------


def _admin_connection():
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


@pytest.fixture
def fresh_database():
    """An empty database beside the test database, dropped afterwards; its DATABASE_URL."""
    db = connection.settings_dict
    name = f"{db['NAME']}_restored"
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    yield f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(database_url, *args):
    """``manage.py`` in a subprocess on another database: (exit code, output)."""
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": settings.SECRET_KEY}
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    return result.returncode, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@FAST_HASHER
def test_backup_then_writes_then_restore_into_a_fresh_database_gives_the_backups_totals(tmp_path, fresh_database):
    """The demo and a few writes, backed up; then a pledge deleted, one confirmed, a disbursement, an
    allocation dropped; restored into an empty database, verify_totals finds the backup's totals to
    the cent, and the same check on the changed database fails."""
    call_command("load_demo", allow_production=True, stdout=io.StringIO())
    secretariat = factories.persona("drill-secretariat", "secretariat", coalitions=[Pledge.objects.first().coalition])
    announced = Pledge.objects.filter(status="announced").first()
    services.pledge_confirm(acting_user=secretariat, pledge=announced)
    output = tmp_path / "portal.dump"
    started = time.monotonic()
    run("backup", "--output", str(output))
    backup_time = time.monotonic() - started
    snapshot = Path(f"{output}.totals.json")
    expected = json.loads(snapshot.read_text())

    services.pledge_delete(acting_user=secretariat, pledge=Pledge.objects.filter(status="draft").first())
    disbursing = Pledge.objects.filter(status="disbursing").first()
    services.disbursement_record(acting_user=secretariat, pledge=disbursing, amount=Decimal("1.00"), date=date.today())
    services.allocation_delete(acting_user=secretariat, allocation=Allocation.objects.first())
    changed = coalition_totals()
    assert differences(expected, changed), "the writes after the backup changed nothing"

    started = time.monotonic()
    code, restore_output = manage(fresh_database, "restore", str(output), "--yes")
    restore_time = time.monotonic() - started
    assert code == 0, restore_output
    code, verified = manage(fresh_database, "verify_totals", "--against", str(snapshot))
    assert code == 0, verified
    assert "Equal to" in verified
    code, migrations = manage(fresh_database, "migrate", "--check")
    assert code == 0, migrations  # the restored schema is this code's, every migration recorded

    with pytest.raises(CommandError, match="difference"):
        run("verify_totals", "--against", str(snapshot))
    print(
        f"\nbackup drill: {sum(s['pledges'][st]['count'] for s in expected.values() for st in s['pledges'])} "
        f"pledges, {Disbursement.objects.count()} disbursements now; backup {backup_time:.1f} s "
        f"({output.stat().st_size} bytes), restore {restore_time:.1f} s; {len(differences(expected, changed))} "
        "differences in the changed database, none in the restored one"
    )
