"""The fault drill: a batch of 500 report emails while the portal's PostgreSQL, its Redis and the SMTP
server are each restarted in turn under a real Celery worker; then a pledge confirmed while Redis is
down. Every recipient gets exactly one message, nothing is ``failed`` in the ledger, and the
confirmation notice goes out once Redis is back.

The drill owns what it restarts: its own PostgreSQL cluster (``initdb`` + ``pg_ctl``, the portal's
database migrated there), its own ``redis-server`` (no persistence: a restart loses every queued
message, the harsh case) and an aiosmtpd server, on ports 16600-16699, so the shared servers of the
suite are never touched. The test process reads the drill's ledger with psycopg and writes its data
through ``manage.py shell`` subprocesses, as the web would.

Skipped locally without PostgreSQL/Redis configured (the markers' rule); under CI=true it runs, and a
missing ``initdb`` or ``redis-server`` fails it.
"""

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
import redis
from aiosmtpd.controller import Controller
from celery import Celery
from django.conf import settings

from reports.models import Delivery
from tests.conftest import require
from tests.reports.conftest import QUEUES, Mailbox, WorkerProcess, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker]

ROOT = Path(settings.BASE_DIR)
BATCH = 500
#: The received count of the batch at which each fault is made.
FAULT_AT = {"postgresql": 60, "redis": 200, "smtp": 340}
#: How long Redis and the SMTP server stay down (PostgreSQL: as long as ``pg_ctl restart -m fast`` takes).
OUTAGE = 2.0
PORTS = range(16600, 16700)


def free_ports(count):
    """``count`` ports of the drill's range nobody listens on."""
    found = []
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    pytest.fail(f"fewer than {count} free ports in {PORTS.start}-{PORTS.stop - 1}", pytrace=False)


def postgres_bin():
    """The directory of Debian's PostgreSQL server programs (initdb, pg_ctl), the newest version."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


class OwnPostgres:
    """A throw-away PostgreSQL cluster on 127.0.0.1:``port`` (initdb refuses root: run as postgres)."""

    def __init__(self, bindir, port):
        self.bindir = bindir
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="coalition-drill-pg-"))
        self.data = self.root / "data"
        self.as_owner = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]

    def _run(self, program, *args):
        command = [*self.as_owner, str(self.bindir / program), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self):
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-o", self._options(), "start")
        return self

    def _options(self):
        # fsync off: the drill restarts the server cleanly and never crashes the machine under it.
        return f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40"

    def restart(self):
        # -l again: without it the restarted server would write to (and hold open) pg_ctl's stdout.
        log = str(self.root / "log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-m", "fast", "-o", self._options(), "restart")

    def stop(self):
        if self.data.exists():
            subprocess.run(
                [*self.as_owner, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, name):
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"


class OwnRedis:
    """``redis-server`` on 127.0.0.1:``port`` without persistence: a restart starts it empty."""

    def __init__(self, port):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.dir = tempfile.mkdtemp(prefix="coalition-drill-redis-")
        self.process = None

    def start(self):
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen([*command, "--dir", self.dir], stdout=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        wait_for(lambda: self._pings(client), 20, interval=0.05, message=f"redis-server on {self.port}")
        client.close()
        return self

    @staticmethod
    def _pings(client):
        try:
            return client.ping()
        except redis.RedisError:
            return False

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class ClosingMailbox(Mailbox):
    """The drill's mailbox: while the server is closing, a new transaction (MAIL FROM) is refused with
    421 and the ones under way (MAIL FROM given, DATA not yet answered) are counted until they end."""

    def __init__(self):
        super().__init__()
        self.closing = False
        self.under_way = set()  # the sessions' SMTP protocol objects

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            if self.closing:
                return "421 4.3.2 Service shutting down, try again later"
            self.under_way.add(server)
        return await super().handle_MAIL(server, session, envelope, address, mail_options)

    async def handle_RSET(self, server, session, envelope):
        with self.lock:
            self.under_way.discard(server)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        try:
            return await super().handle_DATA(server, session, envelope)
        finally:
            with self.lock:
                self.under_way.discard(server)

    def open_transactions(self):
        """Transactions under way on connections still open (a client that went away ended its own)."""
        with self.lock:
            self.under_way = {server for server in self.under_way if server.transport is not None}
            return len(self.under_way)


class OwnSMTP:
    """An aiosmtpd server on a fixed port that can be stopped and started again (one mailbox).

    ``stop`` is an orderly shutdown, as an MTA's own (``postfix stop``): no new connection, no new
    transaction, the transactions under way answered, then every connection closed. aiosmtpd's
    ``Controller.stop`` alone cancels every session at once: one caught between the end of its DATA
    and the server's reply is a message whose fate the sender cannot know, which the portal rightly
    records ``unconfirmed`` (tests/reports/test_ledger.py drills that case) and which no sender could
    turn into exactly one message. The drill is about an outage, not about that window.
    """

    #: Longer than the portal's SMTP timeout (5 s): by then every transaction under way has ended.
    DRAIN_TIMEOUT = 10.0

    def __init__(self, port):
        self.port = port
        self.mailbox = ClosingMailbox()
        self.controller = None
        #: Per stop: (transactions under way when it began, seconds until they had ended).
        self.drains = []

    def start(self):
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is None:
            return
        began = time.monotonic()
        with self.mailbox.lock:
            self.mailbox.closing = True
        # The listening socket first: a new connection is refused, as with the server down.
        self.controller.loop.call_soon_threadsafe(self.controller.server.close)
        under_way = self.mailbox.open_transactions()
        while self.mailbox.open_transactions() and time.monotonic() - began < self.DRAIN_TIMEOUT:
            time.sleep(0.005)
        self.drains.append((under_way, time.monotonic() - began))
        self.controller.stop()
        self.controller = None
        with self.mailbox.lock:
            self.mailbox.closing = False


def manage(env, *args, timeout=180):
    """``manage.py`` in a subprocess on the drill's database and Redis; its stdout's last line."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"manage.py {args[0]} exited {result.returncode}:\n{result.stderr[-3000:]}"
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


class Ledger:
    """The drill's ``reports_delivery`` rows read with psycopg; None while the database is away."""

    def __init__(self, url):
        self.url = url

    def statuses(self, report="digest"):
        try:
            with psycopg.connect(self.url, connect_timeout=2, autocommit=True) as conn:
                rows = conn.execute(
                    "SELECT status, count(*) FROM reports_delivery WHERE report = %s GROUP BY status", [report]
                ).fetchall()
        except psycopg.OperationalError:
            return None
        return dict(rows)

    def attempts(self):
        with psycopg.connect(self.url, autocommit=True) as conn:
            rows = conn.execute("SELECT attempts, count(*) FROM reports_delivery GROUP BY attempts").fetchall()
        return dict(rows)

    def not_sent(self, received, report="digest"):
        """Every row not ``sent``, told with what the SMTP server got: what a failure is to be read from."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT id, recipient, status, attempts, handed_off_at IS NOT NULL, last_error FROM reports_delivery "
                "WHERE report = %s AND status <> 'sent' ORDER BY id",
                [report],
            ).fetchall()
        addresses = Counter(m["To"] for m in received)
        return [
            f"delivery {pk} to {to}: {status}, {attempts} attempts, handed off {handed_off}, "
            f"received {addresses[to]} times, last error {error[:300]!r}"
            for pk, to, status, attempts, handed_off, error in rows
        ]


@pytest.fixture
def drill(worker_log_dir):
    """The drill's own PostgreSQL (migrated), Redis and SMTP server, and the environment to reach them."""
    bindir = postgres_bin()
    require(bindir is not None and shutil.which("redis-server"), "initdb or redis-server is not installed")
    pg_port, redis_port, smtp_port = free_ports(3)
    postgres = OwnPostgres(bindir, pg_port)
    broker = OwnRedis(redis_port)
    smtp = OwnSMTP(smtp_port)
    try:
        postgres.start()
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-p", str(pg_port), "-U", "postgres", "coalition_drill"],
            check=True,
            capture_output=True,
        )
        broker.start()
        smtp.start()
        env = {
            **os.environ,
            "DATABASE_URL": postgres.url("coalition_drill"),
            "REDIS_URL": broker.url,
            "SECRET_KEY": settings.SECRET_KEY,
            "SITE_URL": settings.SITE_URL,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}?timeout=5",
        }
        manage(env, "migrate", "--noinput", "-v0")
        yield {"postgres": postgres, "redis": broker, "smtp": smtp, "env": env, "log_dir": worker_log_dir}
    finally:
        smtp.stop()
        broker.close()
        postgres.stop()


def test_500_emails_survive_restarts_of_postgresql_redis_and_smtp_and_a_notice_waits_out_redis(drill):
    """500 digest emails; PostgreSQL restarted (pg_ctl restart -m fast) after 60 were received, Redis
    (down 2 s, restarted empty) after 200, the SMTP server (down 2 s) after 340: 500 received, 0
    duplicates by Message-ID, 0 failed. Then Redis is stopped, a pledge is confirmed (200 to its user,
    the notice a row of the outbox), Redis started: the notice arrives within a minute."""
    postgres, broker, smtp, env = drill["postgres"], drill["redis"], drill["smtp"], drill["env"]
    mailbox = smtp.mailbox
    setup_started = time.monotonic()
    world = json.loads(
        manage(env, "shell", "-c", f"from tests.reports.drill_world import build; build({BATCH})", timeout=300)
    )
    setup_time = time.monotonic() - setup_started
    ledger = Ledger(env["DATABASE_URL"])
    control = Celery("drill", broker=broker.url)
    worker = WorkerProcess(
        smtp.port,
        drill["log_dir"],
        control_app=control,
        DATABASE_URL=env["DATABASE_URL"],
        REDIS_URL=broker.url,
        # An SMTP server away for 2 s must not exhaust the retries (backoff up to 2 s, full jitter).
        REPORTS_MAX_RETRIES="10",
    )
    digests = lambda: len(mailbox.received("digest"))  # noqa: E731
    recovery = {}
    try:
        worker.start()
        started = time.monotonic()
        control.send_task("reports.tasks.send_digest", args=[world["coalition"]], queue="reports")

        def fault(name, action):
            wait_for(lambda: digests() >= FAULT_AT[name], 120, interval=0.02, message=f"{FAULT_AT[name]} received")
            at_fault = digests()
            action()
            back, at_back = time.monotonic(), digests()
            wait_for(
                lambda: digests() >= min(at_back + 3, BATCH),
                90,
                interval=0.05,
                message=lambda: f"sending to resume after the {name} fault; worker log:\n{worker.log_text()[-3000:]}",
            )
            recovery[name] = (at_fault, time.monotonic() - back)

        def outage(stop, start):
            def action():
                stop()
                time.sleep(OUTAGE)
                start()

            return action

        fault("postgresql", postgres.restart)
        fault("redis", outage(broker.stop, broker.start))
        fault("smtp", outage(smtp.stop, smtp.start))
        # The batch has ended when nothing is left to send: every row sent, failed or unconfirmed.
        settled = lambda: sum(count for status, count in (ledger.statuses() or {}).items() if status in Delivery.DONE)  # noqa: E731
        wait_for(
            lambda: settled() >= BATCH,
            180,
            interval=0.5,
            message=lambda: (
                f"the batch to end: ledger {ledger.statuses()}, {digests()} received; worker log:\n"
                f"{worker.log_text()[-3000:]}"
            ),
        )
        batch_time = time.monotonic() - started
        statuses = ledger.statuses()
        attempts = ledger.attempts()
        not_sent = ledger.not_sent(mailbox.received("digest"))

        # A pledge confirmed while Redis is down: the write succeeds, the notice waits in the outbox.
        broker.stop()
        confirmed = json.loads(
            manage(env, "shell", "-c", f"from tests.reports.drill_world import confirm; confirm({world['pledge']})")
        )
        time.sleep(OUTAGE)
        broker.start()
        returned = time.monotonic()
        wait_for(
            lambda: mailbox.received("notice"),
            60,
            interval=0.1,
            message=lambda: f"the confirmation notice after Redis returned; worker log:\n{worker.log_text()[-3000:]}",
        )
        notice_delay = time.monotonic() - returned
    finally:
        worker.stop()
        control.close()

    received = mailbox.received("digest")
    message_ids = Counter(m["Message-ID"] for m in received)
    duplicates = sum(count - 1 for count in message_ids.values())
    figures = "; ".join(
        f"{name} after {at} received: sending again {seconds:.1f} s after it was back"
        for name, (at, seconds) in recovery.items()
    )
    print(
        f"\nfault drill: {len(received)} received, {len(message_ids)} distinct Message-IDs ({duplicates} "
        f"duplicates), ledger {statuses}, attempts {attempts}; {figures}; "
        f"batch {batch_time:.1f} s (its data written in {setup_time:.1f} s); the SMTP stop waited for "
        f"{smtp.drains[0][0]} transactions under way ({smtp.drains[0][1] * 1000:.0f} ms). "
        f"Pledge confirmed with Redis down ({confirmed}): notice received {notice_delay:.1f} s after Redis "
        f"returned; queues {QUEUES}"
    )
    assert confirmed["status"] == "confirmed"
    assert "reports.tasks.send_confirmation_notice" in confirmed["outbox_waiting"]
    assert len(mailbox.received("notice")) == 1
    ledger_rows = "\n".join(not_sent)
    assert len(received) == BATCH, ledger_rows
    assert duplicates == 0, ledger_rows
    readers = {f"reader{n:03d}@example.org" for n in range(BATCH - 1)}
    assert {m["To"] for m in received} == readers | {"drill-secretariat@example.org"}
    assert statuses == {"sent": BATCH}, f"nothing failed, nothing left unconfirmed:\n{ledger_rows}"
