"""Fixtures of the report-email tests: in-process (eager) tasks, a real SMTP server that can be told to
fail, a real Celery worker process on the real Redis broker, and a coalition with something to report."""

import email
import email.policy
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.utils import timezone

from config.celery_app import app as celery_app
from contributions import services as contribution_services
from meetings import services as meeting_services
from meetings.models import Attendance
from tests import factories
from tests.reports.dashboard_data import held_meeting, known  # noqa: F401 - the dashboard tests' fixtures

ROOT = Path(settings.BASE_DIR)
#: Every queue the settings route tasks to: the test worker consumes them all.
QUEUES = (
    settings.CELERY_TASK_DEFAULT_QUEUE,
    *sorted({route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} - {settings.CELERY_TASK_DEFAULT_QUEUE}),
)


# --- A real SMTP server ------------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that keeps every accepted message and follows a failure plan: each new
    transaction (MAIL FROM) takes the next action of ``plan``; with the plan empty it accepts.

    Actions: ``451-data`` (refuse at the end of DATA), ``421-mail`` (refuse MAIL FROM, close),
    ``drop-rcpt`` (close the connection at RCPT TO, no reply), ``drop-after-data`` (accept the
    message, then close without replying: the ambiguous case), ``550-data`` (permanent refusal).
    """

    def __init__(self):
        self.messages = []
        self.plan = deque()
        self.transactions = 0
        self.lock = threading.Lock()

    def reset(self, plan=()):
        with self.lock:
            self.messages.clear()
            self.plan = deque(plan)
            self.transactions = 0

    def received(self, report=None):
        with self.lock:
            messages = list(self.messages)
        if report is None:
            return messages
        return [m for m in messages if m["X-Coalition-Report"].startswith(report)]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            self.transactions += 1
            session.action = self.plan.popleft() if self.plan else "ok"
        if session.action == "421-mail":
            return "421 4.3.2 Service shutting down, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if getattr(session, "action", "ok") == "drop-rcpt":
            server.transport.abort()
            return "421 4.4.2 connection dropped"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        action = getattr(session, "action", "ok")
        if action == "451-data":
            return "451 4.3.0 Temporary failure, try again later"
        if action == "550-data":
            return "550 5.7.1 Message refused"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        if action == "drop-after-data":
            server.transport.abort()
        return "250 2.0.0 OK queued"


@pytest.fixture(scope="module")
def smtp_server():
    """A real SMTP server on 127.0.0.1 (a free port) for the module's tests; reset before each use."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.mailbox = mailbox
    yield controller
    controller.stop()


@pytest.fixture
def smtp(smtp_server, settings):
    """The SMTP server, emptied, and this process's Django mail pointed at it."""
    smtp_server.mailbox.reset()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.hostname
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    return smtp_server.mailbox


def wait_for(condition, timeout, interval=0.1, message="condition"):
    """Poll ``condition`` until it is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"Timed out after {timeout} s waiting for {message() if callable(message) else message}", pytrace=False)


# --- A real Celery worker ----------------------------------------------------------------------------


def _database_url():
    from django.db import connection

    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def purge_broker():
    """Empty this Redis DB's task queue and unacknowledged messages (left by an earlier run or by other
    tests that queued reports with no worker running)."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        client.delete(*QUEUES, "unacked", "unacked_index", "unacked_mutex")
    finally:
        client.close()


class WorkerProcess:
    """``celery -A config.celery_app worker`` in its own process group, on the pytest test database."""

    def __init__(self, smtp_port, log_dir, concurrency=2, control_app=None, **env):
        #: The Celery app whose broker reaches the worker (the fault drill's worker has its own Redis).
        self.control_app = control_app or celery_app
        self.name = f"reports-test-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
        self.log_path = Path(log_dir) / f"{self.name.split('@')[0]}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}?timeout=5",
            "SITE_URL": settings.SITE_URL,
            "SECRET_KEY": settings.SECRET_KEY,
            # Small, bounded waits: retries within seconds, a dead worker's messages back within ~5 s.
            "REPORTS_RETRY_BACKOFF": "1",
            "REPORTS_RETRY_BACKOFF_MAX": "2",
            "REPORTS_MAX_RETRIES": "2",
            # The visibility timeout must outlast the longest retry wait of every task (settings check).
            "WEBHOOKS_RETRY_BACKOFF": "1",
            "WEBHOOKS_RETRY_BACKOFF_MAX": "2",
            "CELERY_VISIBILITY_TIMEOUT": "4",
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            "CELERY_UNACKED_RESTORE_THROTTLE": "1",
            "REPORTS_REQUEUE_EVERY": "2",
            "REPORTS_REQUEUE_GRACE": "3",
            "REPORTS_SEND_LEASE": "6",
            "OUTBOX_SWEEP_EVERY": "2",
            **env,
        }
        self.concurrency = concurrency
        self.process = None

    def start(self, timeout=40):
        command = [
            sys.executable, "-m", "celery", "-A", "config.celery_app", "worker", "--loglevel=INFO",
            "--pool=prefork", f"--concurrency={self.concurrency}", "--without-gossip", "--without-mingle",
            "--without-heartbeat", f"--hostname={self.name}", f"--queues={','.join(QUEUES)}",
            # Beat inside the worker: the ledger's requeue sweep runs every 2 s (the digest's Monday
            # 08:00 entry is not due).
            "--beat", f"--schedule={self.log_path.with_suffix('.beat')}",
        ]  # fmt: skip
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

        def answers():
            if self.process.poll() is not None:
                pytest.fail(f"The worker exited with {self.process.returncode}; see {self.log_path}", pytrace=False)
            return self.control_app.control.ping(destination=[self.name], timeout=0.5)

        wait_for(answers, timeout, interval=0.2, message=f"worker {self.name} to answer a ping")
        return self

    def kill(self):
        """SIGKILL the whole worker (main process and pool children), as an OOM killer would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.log.close()

    def log_text(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_idle(worker, timeout=30):
    """Until the queue is empty and the worker has nothing running, reserved or waiting to retry."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)

    def idle():
        if any(client.llen(queue) for queue in QUEUES) or client.zcard("unacked_index"):
            return False
        inspect = celery_app.control.inspect([worker.name], timeout=1)
        busy = [inspect.active(), inspect.reserved(), inspect.scheduled()]
        return all(reply is not None and not any(reply.values()) for reply in busy)

    try:
        wait_for(idle, timeout, interval=0.3, message="the worker to finish its tasks")
    finally:
        client.close()


def task_result(worker, result, timeout=30):
    """The return value a task logged (there is no result backend: the worker's log says it)."""
    pattern = re.compile(rf"\[{re.escape(result.id)}\] succeeded in [0-9.]+s: (.*)")
    match = wait_for(lambda: pattern.search(worker.log_text()), timeout, message=f"task {result.id} to succeed")
    return match.group(1).strip()


@pytest.fixture(scope="module")
def worker_log_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("celery-workers")


@pytest.fixture(scope="module")
def worker(request, smtp_server, worker_log_dir, django_db_setup, django_db_blocker):
    """One real worker process for the module, on Redis and the test database, mailing smtp_server."""
    from tests.conftest import _redis_available, require

    require(_redis_available(), "Redis is not reachable (set REDIS_URL=redis://127.0.0.1:6379/0)")
    with django_db_blocker.unblock():
        from django.db import connection

        require(connection.vendor == "postgresql", "PostgreSQL is not configured (set DATABASE_URL=postgres://...)")
        purge_broker()
        process = WorkerProcess(smtp_server.port, worker_log_dir).start()
    yield process
    process.stop()


@pytest.fixture
def real_broker():
    """Tasks go to the broker (not run in-process), as in production."""
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = saved


# --- Something to report -----------------------------------------------------------------------------


@pytest.fixture
def subscriber(coalition, steering):
    """The steering persona (subscribed by default to the digest and meeting summaries)."""
    return steering


@pytest.fixture
def report_world(coalition, member_a, member_b, secretariat, rates):
    """A coalition with pledges in every state, a disbursement, priorities, a held meeting with
    attendance, decisions and action items, and a planned next meeting."""
    now = timezone.now()
    held = meeting_services.meeting_create(
        acting_user=secretariat,
        coalition=coalition,
        title="First steering group",
        starts_at=now - timedelta(days=3),
        location="Tallinn",
    )
    meeting_services.attendance_set(
        acting_user=secretariat, meeting=held, member=member_a, role=Attendance.Role.CHAIR, status="present"
    )
    meeting_services.attendance_set(acting_user=secretariat, meeting=held, member=member_b, status="apologies")
    meeting_services.decision_record(acting_user=secretariat, meeting=held, text="Priorities set: connectivity first.")
    meeting_services.action_item_add(
        acting_user=secretariat,
        meeting=held,
        text="Draft the procurement roadmap",
        owner=member_b,
        due_on=date(2024, 4, 30),
    )
    held = meeting_services.meeting_mark_held(acting_user=secretariat, meeting=held)
    upcoming = meeting_services.meeting_create(
        acting_user=secretariat,
        coalition=coalition,
        title="Second steering group",
        starts_at=now + timedelta(days=10),
        location="Luxembourg",
    )
    confirmed = factories.make_pledge(
        coalition=coalition,
        member=member_b,
        amount=Decimal("5000000.00"),
        currency="EUR",
        status="announced",
        title="Luxembourg cyber package",
    )
    confirmed = contribution_services.pledge_confirm(acting_user=secretariat, pledge=confirmed, meeting=held)
    announced = factories.make_pledge(
        coalition=coalition,
        member=member_a,
        amount=Decimal("1000000.00"),
        currency="USD",
        status="announced",
        title="Estonian e-governance",
    )
    withdrawn = factories.make_pledge(
        coalition=coalition, member=member_a, amount=Decimal("250000.00"), status="announced", title="Withdrawn one"
    )
    contribution_services.pledge_withdraw(acting_user=secretariat, pledge=withdrawn)
    factories.make_pledge(
        coalition=coalition, member=member_a, amount=Decimal("999.00"), status="draft", title="Secret draft"
    )
    disbursement = contribution_services.disbursement_record(
        acting_user=secretariat, pledge=confirmed, amount=Decimal("1200000.00"), date=date(2024, 3, 1)
    )
    priority = contribution_services.priority_create(
        acting_user=secretariat,
        coalition=coalition,
        title="Secure connectivity",
        rank=1,
        estimated_cost_eur=Decimal("8000000.00"),
    )
    contribution_services.allocation_set(
        acting_user=secretariat, pledge=confirmed, priority=priority, amount_eur=Decimal("2000000.00")
    )
    return {
        "held": held,
        "upcoming": upcoming,
        "confirmed": confirmed,
        "announced": announced,
        "withdrawn": withdrawn,
        "disbursement": disbursement,
        "priority": priority,
        "since": now - timedelta(days=7),
        "now": datetime.now(UTC),
    }
