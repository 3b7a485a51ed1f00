"""The id of the request being served, carried into the tasks it queues and into every log line.

The web takes a client's or proxy's ``X-Request-ID`` when it is sane (1-128 letters, digits and
``._:-``), else makes one, and echoes it in the response (config.middleware.RequestIdMiddleware).
A task published while an id is current carries it in its message headers (``request_id``); the
outbox stores it on its row, so a task the sweep hands over later carries it too. The worker makes
the task's id current while it runs and says so in its log, and ``Filter`` puts the current id on
every log record (``-`` when none).
"""

import contextvars
import logging
import re
import uuid

HEADER = "request_id"
SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
current = contextvars.ContextVar("request_id", default="")
logger = logging.getLogger(__name__)


def from_header(value):
    """The client's id if it is sane, else a new one."""
    return value if value and SANE.fullmatch(value) else uuid.uuid4().hex


class Filter(logging.Filter):
    """Puts ``request_id`` on every record (the logging configuration's filter)."""

    def filter(self, record):
        record.request_id = current.get() or "-"
        return True


def task_headers():
    """The headers that carry the current id into a task (None when there is none)."""
    request_id = current.get()
    return {HEADER: request_id} if request_id else None


def on_publish(headers=None, **kwargs):
    """``before_task_publish``: a task queued while serving a request (or a task) carries its id."""
    request_id = current.get()
    if request_id and headers is not None:
        headers.setdefault(HEADER, request_id)


def _of(task):
    request = task.request
    return getattr(request, HEADER, None) or (getattr(request, "headers", None) or {}).get(HEADER) or ""


def on_task_start(task=None, task_id=None, **kwargs):
    """``task_prerun``: the task's request id is current while it runs, and its log says whose it is."""
    request_id = _of(task) if task is not None else ""
    current.set(request_id if request_id and SANE.fullmatch(request_id) else "")
    if current.get():
        logger.info("Task %s[%s] runs for request %s", task.name, task_id, request_id)


def on_task_end(**kwargs):
    """``task_postrun``: nothing is current between tasks."""
    current.set("")
