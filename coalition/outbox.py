"""The transactional outbox: side effects of a write (report emails, an import to run, webhooks) are
rows written in the writer's transaction and handed to the broker from there.

``enqueue`` is called inside the transaction; after the commit the task is sent at once, and if the
broker is unreachable the row simply waits: beat's ``outbox_sweep`` (every ``OUTBOX_SWEEP_EVERY``
seconds) sends every row not yet sent, and again any row sent ``OUTBOX_RESEND_AFTER`` seconds ago
whose task has not run (a broker restarted without its data loses queued messages). A task's run
marks its row done (``task_postrun``, matched by the Celery task id ``outbox-<id>-<n>``).
"""

import logging

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from coalition import requestid
from coalition.models import OutboxMessage

logger = logging.getLogger(__name__)
TASK_ID_PREFIX = "outbox-"
ERROR_LENGTH = 2000


def enqueue(task, **kwargs):
    """Ask for ``task`` (its registered name) with JSON ``kwargs`` once the current transaction commits."""
    message = OutboxMessage.objects.create(task=task, kwargs=kwargs, request_id=requestid.current.get())
    transaction.on_commit(lambda: dispatch([message.pk]))
    return message


def _task(name):
    """The registered task ``name``. Outside a worker Celery imports the apps' tasks modules lazily, on
    its loader's first pass: make that pass before looking the task up."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[name]


def dispatch(ids):
    """Hand the rows' tasks to the broker; a row the broker refuses waits for the sweep. Returns the
    number handed over."""
    sent = 0
    for message in OutboxMessage.objects.filter(pk__in=ids, done_at__isnull=True).order_by("pk"):
        task_id = f"{TASK_ID_PREFIX}{message.pk}-{message.dispatches + 1}"
        task = _task(message.task)
        # Without a broker the task runs here and now: its retries run here too, and its failure is its
        # own (recorded on the row) rather than the error of the request that committed the write.
        eager = {"throw": False} if task.app.conf.task_always_eager else {}
        try:
            # The request that wrote the row, even when the sweep hands it over later.
            headers = {requestid.HEADER: message.request_id} if message.request_id else None
            task.apply_async(kwargs=message.kwargs, task_id=task_id, headers=headers, **eager)
        except Exception as exc:  # noqa: BLE001 - the broker being down is why the outbox exists
            logger.warning("Outbox message %s not handed to the broker yet: %r", message.pk, exc)
            OutboxMessage.objects.filter(pk=message.pk).update(last_error=f"{exc!r}"[:ERROR_LENGTH])
            continue
        # A task that ran eagerly (no broker) has marked the row done already; keep that.
        OutboxMessage.objects.filter(pk=message.pk).update(dispatched_at=timezone.now(), dispatches=F("dispatches") + 1)
        sent += 1
    return sent


def pending_count():
    """How many messages have not run yet (handed to the broker or not)."""
    return OutboxMessage.objects.filter(done_at__isnull=True).count()


def due(now=None):
    """Ids of the rows to hand to the broker now: never sent, or sent long ago without having run."""
    now = now or timezone.now()
    resend_before = now - timezone.timedelta(seconds=settings.OUTBOX_RESEND_AFTER)
    return list(
        OutboxMessage.objects.filter(done_at__isnull=True)
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=resend_before))
        .order_by("pk")
        .values_list("pk", flat=True)[: settings.OUTBOX_SWEEP_BATCH]
    )


def mark_done(task_id, error=""):
    """The task of ``task_id`` ran (``error``: it failed for good, and says why)."""
    if not task_id or not task_id.startswith(TASK_ID_PREFIX):
        return
    message_id = task_id.removeprefix(TASK_ID_PREFIX).split("-", 1)[0]
    if message_id.isdigit():
        OutboxMessage.objects.filter(pk=int(message_id), done_at__isnull=True).update(
            done_at=timezone.now(), last_error=str(error)[:ERROR_LENGTH]
        )
