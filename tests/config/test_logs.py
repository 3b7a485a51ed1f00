"""The request id: taken from X-Request-ID when sane, else made; echoed; on the request's log line, on
the outbox row of what it asked for, and current in the task that runs it; JSON lines with LOG_FORMAT=json."""

import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from coalition import requestid
from coalition.models import OutboxMessage

ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def request_lines(settings, caplog):
    settings.LOG_REQUESTS = True
    caplog.set_level(logging.INFO, logger="config.requests")
    return caplog


def test_a_sane_request_id_is_kept_echoed_and_on_the_requests_log_line(client, db, request_lines):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="lb-7f3a:0001.b")

    assert response["X-Request-ID"] == "lb-7f3a:0001.b"
    (line,) = [r for r in request_lines.records if r.name == "config.requests"]
    assert line.request_id == "lb-7f3a:0001.b"
    assert (line.method, line.path, line.status) == ("GET", "/health/live", 200)


@pytest.mark.parametrize("given", [None, "", "two words", "x" * 129, "<script>", "id\nforged log line"])
def test_an_absent_or_insane_request_id_is_replaced_by_a_new_one(client, db, given):
    extra = {"HTTP_X_REQUEST_ID": given} if given is not None else {}
    made = client.get("/health/live", **extra)["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert made != client.get("/health/live", **extra)["X-Request-ID"]


def test_a_confirmation_carries_the_request_id_to_its_outbox_row_and_the_task_log(
    client, secretariat, pledge_a, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.INFO, logger="coalition.requestid")
    client.force_login(secretariat)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("pledges:transition", args=[pledge_a.pk]),
            {"to": "confirmed", "version": pledge_a.version},
            HTTP_X_REQUEST_ID="confirm-42",
        )

    assert response.status_code == 302
    message = OutboxMessage.objects.get(task="reports.tasks.send_confirmation_notice")
    assert message.request_id == "confirm-42"
    assert message.done_at is not None
    task_lines = [r for r in caplog.records if r.name == "coalition.requestid"]
    assert [r.getMessage() for r in task_lines] == [
        f"Task reports.tasks.send_confirmation_notice[outbox-{message.pk}-1] runs for request confirm-42"
    ]
    assert task_lines[0].request_id == "confirm-42"
    assert requestid.current.get() == ""  # nothing stays current after the request and its task


def test_with_log_format_json_each_line_is_a_json_object_with_the_request_id():
    """A fresh process (the logging configuration is made at start) logs one JSON object a line."""
    code = (
        "import django, logging; django.setup();"
        "from coalition import requestid; requestid.current.set('json-req-1');"
        "logging.getLogger('reports.tasks').warning('Delivery %s interrupted', 7, extra={'delivery': 7})"
    )
    env = {"LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "config.settings", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["request_id"] == "json-req-1"
    assert (line["level"], line["logger"], line["message"], line["delivery"]) == (
        "WARNING",
        "reports.tasks",
        "Delivery 7 interrupted",
        7,
    )
    assert "time" in line


def test_log_format_is_checked_at_start():
    env = {"LOG_FORMAT": "xml", "DJANGO_SETTINGS_MODULE": "config.settings", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "LOG_FORMAT must be text or json, not 'xml'" in result.stderr
