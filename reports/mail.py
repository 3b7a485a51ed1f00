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


class _HandoffMixin:
    before_end_of_data = None

    def data(self, msg):
        """smtplib.SMTP.data, with ``before_end_of_data`` called before the terminating ``.``."""
        if self.before_end_of_data is None:
            return super().data(msg)
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        if isinstance(msg, str):
            msg = smtplib._fix_eols(msg).encode("ascii")
        body = smtplib._quote_periods(msg)
        if body[-2:] != smtplib.bCRLF:
            body += smtplib.bCRLF
        self.send(body)
        self.before_end_of_data()
        self.send(b"." + smtplib.bCRLF)
        return self.getreply()


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

    Backends without SMTP (console, locmem, file) have no such point: the hook runs before sending.
    """
    connection = getattr(backend, "connection", None)
    if isinstance(connection, _HandoffMixin):
        connection.before_end_of_data = on_handoff
        try:
            sent = backend.send_messages([message])
        finally:
            connection.before_end_of_data = None
    else:
        on_handoff()
        sent = backend.send_messages([message])
    if not sent:
        raise NothingSent("The mail backend sent nothing.")
