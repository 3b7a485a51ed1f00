"""The hand-off hook rides on smtplib's public ``data`` and ``send``: on this Python, the hook runs
once, after the whole dot-stuffed message and before the final ``.`` line, and nothing else changes.
If a Python release sends DATA differently, these tests fail rather than the hand-off mark drifting."""

import io
import smtplib

import pytest
from django.core.mail import EmailMessage

from reports import mail


class RecordingSocket:
    """Stands in for the server's socket: records what is sent, in order, between hook calls."""

    def __init__(self, events):
        self.events = events

    def sendall(self, data):
        self.events.append(bytes(data))

    def close(self):
        self.events.append("closed")


def connection(events, replies=b"354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Queued\r\n"):
    """A HandoffSMTP on a recording socket whose server answers ``replies``; the hook is recorded too."""
    smtp = mail.HandoffSMTP()
    smtp.sock = RecordingSocket(events)
    smtp.file = io.BytesIO(replies)
    smtp.before_end_of_data = lambda: events.append("hand-off")
    return smtp


@pytest.mark.parametrize(
    ("message", "on_the_wire"),
    [
        (b"Subject: x\r\n\r\nbody", b"Subject: x\r\n\r\nbody\r\n"),
        (b"Subject: x\r\n\r\n.\r\n.hidden\r\nend\r\n", b"Subject: x\r\n\r\n..\r\n..hidden\r\nend\r\n"),
        ("Subject: x\n\nlone\nnewlines\r", b"Subject: x\r\n\r\nlone\r\nnewlines\r\n"),
        (b"", b"\r\n"),
    ],
)
def test_the_hook_runs_once_after_the_whole_message_and_before_the_final_dot(message, on_the_wire):
    events = []

    reply = connection(events).data(message)

    assert reply == (250, b"2.0.0 Queued")
    hook = events.index("hand-off")
    assert events.count("hand-off") == 1
    assert b"".join(events[:hook]) == b"data\r\n" + on_the_wire
    assert events[hook + 1 :] == [b".\r\n"]


def test_without_a_hook_data_is_smtplibs_own():
    events = []
    smtp = connection(events)
    smtp.before_end_of_data = None

    assert smtp.data(b"Subject: x\r\n\r\nbody") == (250, b"2.0.0 Queued")
    assert events == [b"data\r\n", b"Subject: x\r\n\r\nbody\r\n.\r\n"]


def test_a_refused_data_command_sends_no_message_and_runs_no_hook():
    events = []

    with pytest.raises(smtplib.SMTPDataError):
        connection(events, replies=b"554 5.5.1 No valid recipients\r\n").data(b"Subject: x\r\n\r\nbody")

    assert events == [b"data\r\n"]


def test_a_final_line_split_across_sends_is_refused_before_the_server_has_it():
    events = []
    smtp = connection(events)
    smtp._data_tail = b""

    smtp.send(b"Subject: x\r\n\r\nbody\r\n.\r")
    with pytest.raises(smtplib.SMTPException, match="end of DATA was sent in pieces"):
        smtp.send(b"\n")

    assert "hand-off" not in events
    assert b"".join(e for e in events if isinstance(e, bytes)).endswith(b"\r\n.\r")


def test_a_real_server_receives_the_message_intact(smtp):
    handed_off = []
    body = "Dots at the start of lines:\n.\n.hidden\n..two\nend"
    message = EmailMessage("Dots", body, "portal@coalition.invalid", ["reader@example.org"])

    with mail.mail_connection() as backend:
        assert isinstance(backend.connection, mail.HandoffSMTP)
        mail.send(backend, message, on_handoff=lambda: handed_off.append(len(smtp.received())))

    assert handed_off == [0], "the hook ran before the server had the message"
    (received,) = smtp.received()
    assert received.get_content().rstrip("\n").splitlines() == body.splitlines()
