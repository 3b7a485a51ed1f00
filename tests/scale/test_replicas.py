"""Three web replicas of this checkout (gunicorn) behind HAProxy (Debian's package), round-robin, with
the balancer naming the replica of every answer in X-Served-By. Nothing a person's next request needs
lives in one replica: sessions and the CSRF secret are in PostgreSQL and the cookie, messages in the
session, the cache and the sign-in and API allowances in Redis, so a sign-in, a form, its message and
the record it wrote are seen whichever replica answers next. A replica SIGKILLed in the middle of
concurrent API writes leaves no half-written record, and HAProxy's health check (/health/live) takes
it out while the other two go on serving."""

import os
import signal
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from coalition.models import OutboxMessage
from coalition.services import api_key_create
from contributions.models import Pledge
from tests import factories
from tests.reports.conftest import purge_broker
from tests.servers import (
    Browser,
    HAProxy,
    collect_static,
    free_port,
    gunicorn,
    portal_env,
    server_database_url,
    set_real_password,
    wait_serving,
    wait_until,
    wrk,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

REPLICAS = ("web1", "web2", "web3")


@pytest.fixture(scope="module")
def balancer(django_db_setup, django_db_blocker, tmp_path_factory):
    """HAProxy on a port of its own in front of three replicas on the test database and Redis."""
    import redis

    from tests.conftest import _redis_available, require

    with django_db_blocker.unblock():
        from django.db import connection

        require(connection.vendor == "postgresql", "PostgreSQL is not configured (set DATABASE_URL=postgres://...)")
        url = server_database_url()
    require(_redis_available(), "Redis is not reachable (set REDIS_URL=redis://127.0.0.1:6379/0)")
    redis_url = os.environ["REDIS_URL"]
    redis.Redis.from_url(redis_url).flushdb()
    collect_static()
    logs = tmp_path_factory.mktemp("replicas")
    front = free_port()
    # The load run below makes more API requests in seconds than the default hourly allowance.
    env = portal_env(url, f"http://127.0.0.1:{front}", BEHIND_PROXY=1, API_THROTTLE_KEY="1000000/hour")
    ports = {name: free_port() for name in REPLICAS}
    replicas = {name: gunicorn(name, port, env, logs) for name, port in ports.items()}
    proxy = HAProxy(front, ports, logs)
    try:
        for name, server in replicas.items():
            wait_serving(server, ports[name])
        proxy.start()
        wait_until(lambda: set(proxy.states().values()) == {"UP"}, 30, lambda: f"every replica UP: {proxy.states()}")
        yield {"port": front, "replicas": replicas, "proxy": proxy}
    finally:
        proxy.stop()
        for server in replicas.values():
            server.stop()
        redis.Redis.from_url(redis_url).flushdb()
        with django_db_blocker.unblock():
            purge_broker()


@pytest.fixture
def signed_in(balancer, secretariat, member_a, rates):
    set_real_password(secretariat, factories.PASSWORD)
    browser = Browser(balancer["port"])
    browser.sign_in("secretariat", factories.PASSWORD)
    return browser


def test_a_signed_in_person_is_served_by_every_replica_and_reads_their_write_on_another(
    balancer, signed_in, coalition, member_a
):
    served = [signed_in.get("/pledges/") for _ in range(6)]
    assert {r.status for r in served} == {200}
    assert {r.served_by for r in served} == set(REPLICAS), "round-robin over three replicas, one session"
    assert all("secretariat" in r.text for r in served)

    # A form: its CSRF token from one replica, the POST on the next, the message and record on a third.
    form, created = signed_in.submit(
        "/pledges/new/",
        {
            "coalition": coalition.pk, "member": member_a.pk, "title": "Field radios", "amount": "125000.00",
            "currency": "EUR", "announced_on": "2024-02-02", "status": "announced", "kind": "financial",
            "channel": "bilateral",
        },
    )  # fmt: skip
    assert created.status == 302, created
    pledge = Pledge.objects.get(title="Field radios")
    assert created.headers["Location"] == f"/pledges/{pledge.pk}/"
    detail = signed_in.get(created.headers["Location"])
    assert len({form.served_by, created.served_by, detail.served_by}) == 3
    assert detail.status == 200 and "Field radios" in detail.text and "Pledge recorded." in detail.text
    assert "Pledge recorded." not in signed_in.get(created.headers["Location"]).text, "a message is shown once"


def test_an_api_write_on_one_replica_is_read_on_the_next(balancer, secretariat, coalition, member_a, rates):
    _key, raw = api_key_create(owner=secretariat, name="replicas")
    api = Browser(balancer["port"], headers={"Authorization": f"Token {raw}"})
    for n in range(3):
        created = api.post(
            "/api/v1/pledges/",
            json={"coalition": coalition.slug, "member": "EE", "title": f"Generators {n}", "amount": "5000.00",
                  "currency": "USD", "announced_on": "2024-02-02", "status": "announced"},
        )  # fmt: skip
        assert created.status == 201, created
        read = api.get(f"/api/v1/pledges/{created.json()['id']}/")
        assert read.served_by != created.served_by
        assert read.status == 200 and read.json() == created.json()
        listed = api.get(f"/api/v1/pledges/?coalition={coalition.slug}&count=true")
        assert listed.json()["count"] == n + 1


def test_failed_sign_ins_are_counted_across_replicas(balancer, secretariat):
    set_real_password(secretariat, factories.PASSWORD)
    browser = Browser(balancer["port"])
    replicas = set()
    for _ in range(5):
        page, refused = browser.submit("/accounts/login/", {"login": "secretariat", "password": "wrong-password"})
        assert refused.status == 200 and "sessionid" not in browser.cookies
        replicas |= {page.served_by, refused.served_by}
    _page, locked = browser.submit("/accounts/login/", {"login": "secretariat", "password": factories.PASSWORD})
    assert replicas == set(REPLICAS)
    assert locked.status == 200 and "Too many failed login attempts" in locked.text
    assert "sessionid" not in browser.cookies


def test_a_short_load_run_through_the_balancer_gets_only_2xx_answers(balancer, partner, coalition, member_a, rates):
    """What benchmarks/replicas.py measures (3 replicas against 1), briefly, for its errors: none."""
    for n in range(20):
        factories.make_pledge(coalition=coalition, member=member_a, title=f"Load {n}", status="confirmed")
    _key, raw = api_key_create(owner=partner, name="load")
    path = f"/api/v1/pledges/?coalition={coalition.slug}"
    rate, non_2xx, errors, requests, _cpu = wrk(balancer["port"], raw, 2, 4, path=path)
    print(f"wrk through HAProxy, 3 replicas: {requests} requests, {rate:.1f}/s, {non_2xx} non-2xx, {errors} errors")
    assert requests > 0 and (non_2xx, errors) == (0, 0)
    assert {Browser(balancer["port"]).get("/health/live").served_by for _ in range(3)} == set(REPLICAS)


def test_sigkill_of_a_replica_during_writes_leaves_no_half_written_record_and_the_others_serve(
    balancer, secretariat, coalition, member_a, rates
):
    _key, raw = api_key_create(owner=secretariat, name="kill")
    threads, per_thread = 6, 12
    answers = {}
    lock = threading.Lock()
    kill_after = threads * per_thread // 3
    killed = threading.Event()

    def write(t):
        api = Browser(balancer["port"], headers={"Authorization": f"Token {raw}"})
        for n in range(per_thread):
            ref = f"KILL-{t}-{n}"
            try:
                response = api.post(
                    "/api/v1/pledges/",
                    json={"coalition": coalition.slug, "member": "EE", "title": f"Drones {ref}", "amount": "7500.00",
                          "currency": "USD", "announced_on": "2024-02-02", "status": "confirmed",
                          "confirmed_on": "2024-03-01", "external_ref": ref},
                )  # fmt: skip
                outcome = (response.status, response.served_by, killed.is_set())
            except OSError as exc:
                outcome = (type(exc).__name__, None, killed.is_set())
            with lock:
                answers[ref] = outcome
                if len(answers) == kill_after and not killed.is_set():
                    balancer["replicas"]["web2"].kill(signal.SIGKILL)
                    killed.set()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(write, range(threads)))

    statuses = Counter(status for status, _server, _after in answers.values())
    print(f"{len(answers)} POSTs, web2 SIGKILLed after {kill_after}: {dict(statuses)}")
    assert killed.is_set() and not balancer["replicas"]["web2"].alive()
    assert set(statuses) <= {201, 502}, statuses
    assert statuses[502] <= threads, "only requests web2 was serving when it died may be lost"
    late = {server for status, server, after in answers.values() if after and status == 201}
    assert late and "web2" not in late, "after the kill the other replicas answered"

    # Nothing half-written: every pledge is whole (its history row, its confirmation notice in the
    # outbox), every 201 is a pledge, and a pledge whose answer was lost is whole too, or absent.
    pledges = {p.external_ref: p for p in Pledge.objects.filter(external_ref__startswith="KILL-")}
    created = {ref for ref, (status, _s, _a) in answers.items() if status == 201}
    assert created <= set(pledges) <= set(answers)
    assert set(pledges) - created <= {ref for ref, (status, _s, _a) in answers.items() if status == 502}
    history = Counter(Pledge.history.filter(external_ref__startswith="KILL-").values_list("external_ref", flat=True))
    assert history == dict.fromkeys(pledges, 1)
    notices = Counter(OutboxMessage.objects.filter(task__contains="notice").values_list("kwargs__pledge_id", flat=True))
    assert notices == {p.pk: 1 for p in pledges.values()}
    assert all(p.amount_eur is not None and p.status == "confirmed" for p in pledges.values())

    wait_until(lambda: balancer["proxy"].states()["web2"].startswith("DOWN"), 10, "HAProxy to mark web2 DOWN")
    after = [Browser(balancer["port"], headers={"Authorization": f"Token {raw}"}).get("/api/v1/pledges/?count=true")
             for _ in range(6)]  # fmt: skip
    assert {r.status for r in after} == {200}
    assert {r.served_by for r in after} == {"web1", "web3"}
    assert {r.json()["count"] for r in after} == {len(pledges)}
