"""The portal through PgBouncer in transaction mode (Debian's pgbouncer, pool_mode=transaction, two
server connections for every client): a gunicorn web and a Celery worker on the pooler with
DATABASE_POOLER=transaction, while many more clients than server connections sign in, write pledges
through the API, import a file and get their report emails exactly once. Each transaction may run on
another server connection, so anything that keeps session state (a session advisory lock, a WITH HOLD
cursor, a prepared statement, a session SET) breaks here first."""

import re
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from coalition.services import api_key_create
from contributions.models import Pledge, PledgeImport
from reports.models import Delivery
from tests import factories
from tests.reports.conftest import WorkerProcess, purge_broker, smtp_server, wait_for  # noqa: F401 - fixture
from tests.servers import (
    Browser,
    PgBouncer,
    collect_static,
    free_port,
    gunicorn,
    portal_env,
    server_database_url,
    set_real_password,
    wait_serving,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

POOL_SIZE = 2
CLIENTS = 6
ROUNDS = 2


@pytest.fixture(scope="module")
def pooler(django_db_setup, django_db_blocker):
    from tests.conftest import _redis_available, require

    with django_db_blocker.unblock():
        from django.db import connection

        require(connection.vendor == "postgresql", "PostgreSQL is not configured (set DATABASE_URL=postgres://...)")
        db = connection.settings_dict
        bouncer = PgBouncer(
            free_port(), db["HOST"] or "127.0.0.1", db["PORT"] or 5432, db["USER"], pool_size=POOL_SIZE
        ).start()
    require(_redis_available(), "Redis is not reachable (set REDIS_URL=redis://127.0.0.1:6379/0)")
    yield bouncer
    bouncer.stop()


@pytest.fixture(scope="module")
def portal(pooler, smtp_server, tmp_path_factory, django_db_blocker):  # noqa: F811 - the fixture above
    """A web replica and a worker, both on the pooler only."""
    logs = tmp_path_factory.mktemp("pgbouncer-portal")
    with django_db_blocker.unblock():
        url = server_database_url(port=pooler.port)
        purge_broker()
    collect_static()
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    email = f"smtp://127.0.0.1:{smtp_server.port}?timeout=5"
    web = gunicorn(
        "web", port, portal_env(url, site, DATABASE_POOLER="transaction", EMAIL_URL=email), logs, workers=2, threads=4
    )
    worker = WorkerProcess(
        smtp_server.port, logs, concurrency=4, DATABASE_URL=url, DATABASE_POOLER="transaction", SITE_URL=site
    )
    try:
        wait_serving(web, port)
        worker.start()
        yield {"port": port, "web": web, "worker": worker, "pooler": pooler, "logs": logs}
    finally:
        worker.stop()
        web.stop()


@pytest.fixture
def people(coalition, member_a, member_b, secretariat, editor_a, rates):
    for user in (secretariat, editor_a):
        set_real_password(user, factories.PASSWORD)
    return {"secretariat": secretariat, "editor_a": editor_a}


def pools(pooler):
    """The pooler's clients and server connections for the test database."""
    name = server_database_url().rsplit("/", 1)[1]
    rows = [row for row in pooler.show("POOLS") if row["database"] == name]
    clients = sum(int(row["cl_active"]) + int(row["cl_waiting"]) for row in rows)
    servers = sum(int(row[k]) for row in rows for k in ("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"))
    return clients, servers


def multipart(fields, files):
    """A multipart/form-data body (what a browser sends with a file) and its content type."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: text/csv\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_signed_in_people_read_pages_and_exports_concurrently_on_two_server_connections(
    portal, people, coalition, member_a
):
    for n in range(40):
        factories.make_pledge(coalition=coalition, member=member_a, title=f"P{n}")

    def session(n):
        browser = Browser(portal["port"])
        browser.sign_in("secretariat" if n % 2 else "editor_a", factories.PASSWORD)
        seen = Counter()
        for _ in range(ROUNDS):
            for path in ("/", "/pledges/", "/pledges/export.csv", f"/coalitions/{coalition.slug}/"):
                response = browser.get(path)
                seen[response.status] += 1
                if path.endswith(".csv"):
                    assert response.text.count("\n") >= 41, response
        return seen

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(session, range(CLIENTS)))

    # "/" sends a person to their coalition's dashboard; every other page answers itself.
    assert sum(results, Counter()) == {200: CLIENTS * ROUNDS * 3, 302: CLIENTS * ROUNDS}
    clients, servers = pools(portal["pooler"])
    print(f"through PgBouncer: {clients} client connections on {servers} server connections")
    assert servers <= POOL_SIZE
    assert clients > POOL_SIZE, "the web's connections were multiplexed on fewer server connections"


def test_api_writes_and_transitions_through_the_pooler_deliver_each_notice_exactly_once(
    portal,
    people,
    coalition,
    smtp_server,  # noqa: F811 - the fixture above
):
    smtp_server.mailbox.reset()
    _key, raw = api_key_create(owner=people["secretariat"], name="pooler")
    count = 12

    def write(n):
        api = Browser(portal["port"], headers={"Authorization": f"Token {raw}"})
        created = api.post(
            "/api/v1/pledges/",
            json={
                "coalition": coalition.slug, "member": "EE", "title": f"Servers {n}", "amount": f"{1000 + n}.50",
                "currency": "USD", "announced_on": "2024-02-02", "status": "draft", "external_ref": f"PGB-{n}",
            },
        )  # fmt: skip
        assert created.status == 201, created
        pledge = created.json()
        announced = api.post(f"/api/v1/pledges/{pledge['id']}/announce/", json={"version": pledge["version"]})
        assert announced.status == 200, announced
        confirmed = api.post(
            f"/api/v1/pledges/{pledge['id']}/confirm/",
            json={"version": announced.json()["version"], "confirmed_on": "2024-03-01"},
        )
        assert confirmed.status == 200, confirmed
        return confirmed.json()

    with ThreadPoolExecutor(CLIENTS) as pool:
        pledges = list(pool.map(write, range(count)))

    assert {p["status"] for p in pledges} == {"confirmed"}
    assert Pledge.objects.filter(external_ref__startswith="PGB-", status="confirmed").count() == count
    for pledge in Pledge.objects.filter(external_ref__startswith="PGB-"):
        n = int(pledge.external_ref.removeprefix("PGB-"))
        assert pledge.amount == Decimal(f"{1000 + n}.50") and pledge.amount_eur is not None
        assert [h.history_type for h in pledge.history.order_by("history_id")] == ["+", "~", "~"]

    wait_for(
        lambda: Delivery.objects.filter(report="notice", status="sent").count() == count,
        90,
        message=lambda: f"{count} notices sent: {Counter(Delivery.objects.values_list('status', flat=True))}",
    )
    received = smtp_server.mailbox.received()
    ids = [m["Message-ID"] for m in received]
    assert len(received) == count and len(set(ids)) == count
    assert Delivery.objects.exclude(status="sent").count() == 0
    assert {m["To"] for m in received} == {people["secretariat"].email}
    assert "prepared statement" not in portal["worker"].log_text()


def test_an_import_is_previewed_on_the_web_and_written_by_the_worker_through_the_pooler(portal, people, coalition):
    browser = Browser(portal["port"])
    browser.sign_in("secretariat", factories.PASSWORD)
    rows = "\n".join(f"EE,Laptops {n},{n}00.00,EUR,announced,2024-02-02,,,,IMP-{n}" for n in range(1, 201))
    header = "member,title,amount,currency,status,announced_on,confirmed_on,kind,channel,external_ref"
    content = f"{header}\n{rows}\n".encode()
    page = browser.get("/pledges/import/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    body, content_type = multipart(
        {"csrfmiddlewaretoken": token, "coalition": coalition.pk}, {"file": ("pledges.csv", content)}
    )
    uploaded = browser.post("/pledges/import/", body=body, headers={"Content-Type": content_type})
    assert uploaded.status == 302, uploaded
    preview = uploaded.headers["Location"]
    assert "Import 200 rows" in browser.get(preview).text
    _page, confirmed = browser.submit(preview)
    assert confirmed.status == 302, confirmed

    pledge_import = PledgeImport.objects.get()
    wait_for(
        lambda: PledgeImport.objects.filter(pk=pledge_import.pk, status__in=["done", "failed"]).exists(),
        90,
        message="the worker to run the import",
    )
    pledge_import.refresh_from_db()
    assert (pledge_import.status, pledge_import.created_count) == ("done", 200), pledge_import.errors
    assert Pledge.objects.filter(external_ref__startswith="IMP-").count() == 200
    assert "200 pledges created" in browser.get(preview).text


def test_nothing_in_the_portal_takes_a_session_level_lock():
    """A session advisory lock is held by a server connection the pooler gives to others: none anywhere."""
    offenders = []
    apps = ("config", "coalition", "meetings", "contributions", "reports", "demo")
    for path in (path for app in apps for path in (Path(settings.BASE_DIR) / app).rglob("*.py")):
        text = path.read_text()
        if re.search(
            r"pg_(try_)?advisory_lock|pg_advisory_unlock|(?<!UPDATE )\bSET\s+(SESSION\s+)?(?!LOCAL)\w+\s+(TO|=)", text
        ):
            offenders.append(str(path))
    assert offenders == []
