"""A read replica, for real: a primary initdb'd on a port of ours (wal_level=replica, a replication
role), a hot standby made from it with ``pg_basebackup -R`` streaming from it, and a gunicorn web with
DATABASE_URL on the primary and DATABASE_REPLICA_URL on the standby. The standby's replay is paused
to make its reads visible: a reader's list and summary lag behind while the writer, pinned to the
primary after writing, reads its own write; the standby catches up once replay resumes. Every write
succeeds, so none went to the standby (it refuses writes), and migrate runs with it configured."""

import json
import subprocess
import sys
import time

import pytest

from tests.servers import (
    ROOT,
    Browser,
    free_port,
    gunicorn,
    portal_env,
    primary_and_replica,
    server_dir,
    wait_serving,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

PIN_SECONDS = 3
DATABASE = "portal"
SEED = """
import json
from tests import factories
from coalition.services import api_key_create
coalition = factories.CoalitionFactory(slug="replicated", name="Replicated")
member = factories.MemberFactory(code="EE", name="Estonia")
factories.MembershipFactory(member=member, coalition=coalition, role="lead")
factories.standard_rates()
writer = factories.persona("writer", "secretariat", coalitions=[coalition])
reader = factories.persona("reader", "steering", coalitions=[coalition])
keys = {"writer": api_key_create(owner=writer, name="w")[1], "reader": api_key_create(owner=reader, name="r")[1]}
print(json.dumps(keys))
"""


def manage(env, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def replicated(django_db_setup, django_db_blocker, tmp_path_factory):
    from tests.conftest import _redis_available, require

    with django_db_blocker.unblock():
        from django.db import connection

        require(connection.vendor == "postgresql", "PostgreSQL is not configured (set DATABASE_URL=postgres://...)")
    require(_redis_available(), "Redis is not reachable (set REDIS_URL=redis://127.0.0.1:6379/0)")
    directory = server_dir("replica")
    primary, replica = primary_and_replica(directory, free_port(), free_port())
    web = None
    try:
        primary.sql(f"CREATE DATABASE {DATABASE}")
        wait_until(lambda: replica.sql("SELECT count(*) FROM pg_database WHERE datname = 'portal'") == "1", 30,
                   "the database to reach the replica")  # fmt: skip
        port = free_port()
        env = portal_env(
            primary.url(DATABASE),
            f"http://127.0.0.1:{port}",
            DATABASE_REPLICA_URL=replica.url(DATABASE),
            DATABASE_REPLICA_PIN_SECONDS=PIN_SECONDS,
        )
        migrated = manage(env, "migrate", "--noinput")
        keys = json.loads(manage(env, "shell", "-c", SEED).strip().splitlines()[-1])
        logs = tmp_path_factory.mktemp("read-replica")
        web = gunicorn("web", port, env, logs, workers=1, threads=4)
        wait_serving(web, port)
        yield {"port": port, "primary": primary, "replica": replica, "keys": keys, "migrated": migrated}
    finally:
        if web is not None:
            web.stop()
        replica.stop()
        primary.stop()
        subprocess.run(["rm", "-rf", str(directory)], check=False)


def announce(writer, title, amount, announced_on):
    """An announced EUR pledge of EE in the replicated coalition, POSTed by ``writer``."""
    return writer.post(
        "/api/v1/pledges/",
        json={"coalition": "replicated", "member": "EE", "title": title, "amount": amount, "currency": "EUR",
              "announced_on": announced_on, "status": "announced"},
    )  # fmt: skip


def api(replicated, who):
    return Browser(replicated["port"], headers={"Authorization": f"Token {replicated['keys'][who]}"})


def count(client, path="/api/v1/pledges/?coalition=replicated&count=true"):
    response = client.get(path)
    assert response.status == 200, response
    return response.json()["count"]


def test_reads_go_to_the_replica_and_a_writer_reads_its_own_write_from_the_primary(replicated):
    writer, reader = api(replicated, "writer"), api(replicated, "reader")
    primary, replica = replicated["primary"], replicated["replica"]
    assert count(reader) == count(writer) == 0
    replica.sql("SELECT pg_wal_replay_pause()")
    try:
        created = announce(writer, "Satellite terminals", "250000.00", "2024-02-02")
        assert created.status == 201, created
        assert primary.sql("SELECT count(*) FROM contributions_pledge", DATABASE) == "1"
        assert replica.sql("SELECT count(*) FROM contributions_pledge", DATABASE) == "0"

        # The writer is pinned to the primary: its list and the summary have the pledge.
        assert count(writer) == 1
        summary = writer.get("/api/v1/summary/?coalition=replicated").json()
        assert summary["total_eur"] == "250000.00"
        # The reader's list and summary come from the standby, whose replay is paused.
        assert count(reader) == 0
        assert reader.get("/api/v1/summary/?coalition=replicated").json()["total_eur"] == "0.00"
        # A record's own page is no list: it reads the primary.
        assert reader.get(f"/api/v1/pledges/{created.json()['id']}/").status == 200
        assert int(replica.sql("SELECT count(*) FROM pg_stat_activity WHERE datname = 'portal'")) >= 1
    finally:
        replica.sql("SELECT pg_wal_replay_resume()")
    wait_until(lambda: count(reader) == 1, 30, "the replica to catch up")


def test_the_writers_pin_lapses_and_its_lists_read_the_replica_again(replicated):
    writer = api(replicated, "writer")
    before = count(writer)
    replica = replicated["replica"]
    replica.sql("SELECT pg_wal_replay_pause()")
    try:
        created = announce(writer, "Power banks", "1000.00", "2024-02-02")
        assert created.status == 201, created
        assert count(writer) == before + 1
        time.sleep(PIN_SECONDS + 0.5)
        assert count(writer) == before, "past the pin window the writer's list is the replica's"
    finally:
        replica.sql("SELECT pg_wal_replay_resume()")
    wait_until(lambda: count(writer) == before + 1, 30, "the replica to catch up")


def test_nothing_read_from_a_lagging_replica_is_kept_for_the_cache_generation(replicated):
    """With Redis the API keeps ETags and repeated answers per cache generation (RevalidationMiddleware).
    A list read from a replica that has not replayed the write that replaced the generation must not
    be kept: without the WAL position in the generation, the stale answer was repeated, and the stale
    ETag answered 304, after the replica caught up."""
    writer, reader = api(replicated, "writer"), api(replicated, "reader")
    path = "/api/v1/pledges/?coalition=replicated&page_size=1"
    replica = replicated["replica"]
    replica.sql("SELECT pg_wal_replay_pause()")
    try:
        created = announce(writer, "Routers", "10.00", "2030-01-01")
        assert created.status == 201, created
        stale = [reader.get(path) for _ in range(3)]  # enough askings to be kept, were it kept
        assert all(created.json()["id"] not in ids(response) for response in stale)
    finally:
        replica.sql("SELECT pg_wal_replay_resume()")
    etag = stale[-1].headers["ETag"]
    wait_until(lambda: created.json()["id"] in ids(reader.get(path)), 30, "the new pledge")
    assert reader.get(path, headers={"If-None-Match": etag}).status == 200


def ids(response):
    assert response.status == 200, response
    return [row["id"] for row in response.json()["results"]]


def test_migrate_runs_on_the_primary_with_the_replica_configured(replicated):
    # Every migration ran with the replica configured; any statement sent to the hot standby would
    # have failed (it refuses writes). The standby has the tables by replication.
    assert "Applying contributions.0001_initial... OK" in replicated["migrated"]
    replica = replicated["replica"]
    assert replica.sql("SELECT pg_is_in_recovery()") == "t"
    assert replica.sql("SELECT count(*) > 0 FROM django_migrations", DATABASE) == "t"
