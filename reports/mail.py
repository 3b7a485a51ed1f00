"""Sending one message with a hook at the last moment it can still be retried without a duplicate.

SMTP has no idempotency key: once the server has the end of the DATA (the lone ``.``) it may deliver
the message whether or not its reply reaches us. ``send`` calls ``on_handoff`` right before writing
that final line, so the caller can record the point of no return; any failure before it means the
server holds no message, any failure after it without a reply leaves the outcome unknown.
"""

import smtplib
from contextlib import contextmanager, suppress

from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend

#: What ends DATA (RFC 5321 4.1.1.4). smtplib's dot-stuffing doubles a leading ".", so the sequence
#: cannot occur inside a message.
END_OF_DATA = b"\r\n.\r\n"
FINAL_LINE = b".\r\n"


class _HandoffMixin:
    """smtplib's own ``data`` (line endings, dot-stuffing, replies) with ``send`` watched while it runs:
    the bytes that complete CRLF.CRLF are held back until ``before_end_of_data`` has run."""

    before_end_of_data = None
    _data_tail = None  # the last bytes of the message sent so far, while watching

    def data(self, msg):
        """smtplib.SMTP.data, with ``before_end_of_data`` called before the terminating ``.``."""
        if self.before_end_of_data is not None:
            self._data_tail = b""
        try:
            return super().data(msg)
        finally:
            self._data_tail = None

    def send(self, s):
        """smtplib.SMTP.send; while watching, the final line goes after the hook."""
        # Commands are str (putcmd), message data bytes: only the latter is watched.
        if self._data_tail is None or not isinstance(s, bytes):
            return super().send(s)
        stream = self._data_tail + s
        if not stream.endswith(END_OF_DATA):
            self._data_tail = stream[-len(END_OF_DATA) :]
            return super().send(s)
        self._data_tail = None
        if len(s) < len(FINAL_LINE):
            # Part of the final line has left already, so the hook could no longer come first. The
            # server holds an unfinished message it will drop: failing here is safe to retry.
            raise smtplib.SMTPException("The end of DATA was sent in pieces; the hand-off could not be recorded.")
        if len(s) > len(FINAL_LINE):
            super().send(s[: -len(FINAL_LINE)])
        self.before_end_of_data()
        return super().send(FINAL_LINE)


class HandoffSMTP(_HandoffMixin, smtplib.SMTP):
    pass


class HandoffSMTPSSL(_HandoffMixin, smtplib.SMTP_SSL):
    pass


class HandoffEmailBackend(SMTPBackend):
    """Django's SMTP backend (same EMAIL_* settings) on a connection that reports the hand-off."""

    @property
    def connection_class(self):
        return HandoffSMTPSSL if self.use_ssl else HandoffSMTP


class NothingSent(smtplib.SMTPException):
    """The backend accepted the call but sent nothing (no valid recipient)."""


@contextmanager
def mail_connection():
    """An open connection of the configured backend (SMTP gets the hand-off hook), closed after use."""
    backend = get_connection()
    if type(backend) is SMTPBackend:
        backend = HandoffEmailBackend()
    backend.open()
    try:
        yield backend
    finally:
        # QUIT failing after the message was accepted changes nothing.
        with suppress(smtplib.SMTPException, OSError):
            backend.close()


def send(backend, message, *, on_handoff):
    """Send ``message`` on the open ``backend``, calling ``on_handoff`` at the point of no return.

    If ``on_handoff`` fails (the database is down, the lease ran out) the message is not finished and the
    connection is dropped at once: the server discards a DATA it never saw end, and nobody waits out a
    QUIT the server, still reading DATA, would never answer. Backends without SMTP (console, locmem,
    file) have no such point: the hook runs before sending.
    """
    connection = getattr(backend, "connection", None)
    if isinstance(connection, _HandoffMixin):

        def handoff_or_abort():
            try:
                on_handoff()
            except BaseException:
                connection.close()  # the socket, without QUIT
                backend.connection = None
                raise

        connection.before_end_of_data = handoff_or_abort
        try:
            sent = backend.send_messages([message])
        finally:
            connection.before_end_of_data = None
    else:
        on_handoff()
        sent = backend.send_messages([message])
    if not sent:
        raise NothingSent("The mail backend sent nothing.")
