"""Report emails: subscriptions, the language preference, and the delivery ledger's transitions.

Exactly once per (report, coalition, period, recipient): the ledger row is created once (unique key),
claimed under a PostgreSQL advisory lock held for the whole send (so two workers never send the
same row; a dead worker's lock dies with its connection), marked ``sending`` with the attempt counted
in a committed transaction before SMTP, stamped ``handed_off_at`` just before the end of DATA, and
marked ``sent`` right after the server's reply. See README "Report emails" for what this guarantees.
"""

import hashlib
import zlib
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from coalition import permissions
from coalition.models import Coalition, Profile
from reports.models import Delivery, Report, Subscription

D = Delivery.Status
#: PostgreSQL advisory locks take (int4, int4): this namespace and the delivery id.
LOCK_NAMESPACE = zlib.crc32(b"reports.delivery") & 0x7FFFFFFF
UNSUBSCRIBE_SALT = "reports.unsubscribe"
ERROR_LENGTH = 2000


# --- Subscriptions ---------------------------------------------------------------------------------


def _ensure_own(acting_user, user):
    a = permissions.actor(acting_user)
    permissions.ensure(
        a.is_superuser or getattr(acting_user, "pk", None) == user.pk,
        _("You may only change your own subscriptions."),
    )


@transaction.atomic
def report_subscribe(*, acting_user, user, coalition, report):
    """Send ``report`` of ``coalition`` to ``user`` from now on (idempotent)."""
    _ensure_own(acting_user, user)
    if report not in Report.values:
        raise ValidationError({"report": _("Unknown report %(report)s.") % {"report": report}})
    if not permissions.can_receive_report(user, coalition, report):
        raise ValidationError(
            {
                "report": _("%(user)s may not receive this report of %(coalition)s.")
                % {"user": user, "coalition": coalition}
            }
        )
    subscription, _created = Subscription.objects.get_or_create(user=user, coalition=coalition, report=report)
    return subscription


@transaction.atomic
def report_unsubscribe(*, acting_user, user, coalition, report):
    """Stop sending ``report`` of ``coalition`` to ``user``; whether there was anything to stop."""
    _ensure_own(acting_user, user)
    deleted, _detail = Subscription.objects.filter(user=user, coalition=coalition, report=report).delete()
    return bool(deleted)


@transaction.atomic
def subscriptions_set(*, acting_user, user, wanted):
    """Make the user's subscriptions exactly ``wanted`` (``{(coalition, report)}``); returns
    ``(added, removed)`` counts."""
    _ensure_own(acting_user, user)
    current = set(Subscription.objects.filter(user=user).values_list("coalition_id", "report"))
    wanted_keys = {(coalition.pk, report): coalition for coalition, report in wanted}
    added = 0
    for (coalition_id, report), coalition in wanted_keys.items():
        if (coalition_id, report) not in current:
            report_subscribe(acting_user=acting_user, user=user, coalition=coalition, report=report)
            added += 1
    removed = [key for key in current if key not in wanted_keys]
    for coalition_id, report in removed:
        Subscription.objects.filter(user=user, coalition_id=coalition_id, report=report).delete()
    return added, len(removed)


@transaction.atomic
def profile_language_set(*, acting_user, user, language):
    """The language the user's report emails (and nothing else) are written in."""
    _ensure_own(acting_user, user)
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose one of the portal's languages.")})
    profile, _created = Profile.objects.get_or_create(user=user)
    if profile.language != language:
        profile.language = language
        profile.save(update_fields=["language"])
    return profile


def unsubscribe_token(*, report, coalition_id, email, user_id=None):
    """A signed, URL-safe token naming one subscription; it never expires (old emails keep working)."""
    return signing.dumps({"r": report, "c": coalition_id, "e": email, "u": user_id}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_token_read(token):
    """The token's ``{"r", "c", "e", "u"}``; BadSignature if it was not made here."""
    return signing.loads(token, salt=UNSUBSCRIBE_SALT)


@transaction.atomic
def unsubscribe_by_token(*, token):
    """Unsubscribe whoever the token names (the token is the authority: no sign-in needed)."""
    data = unsubscribe_token_read(token)
    if data.get("u") is None:
        return False
    deleted, _detail = Subscription.objects.filter(user_id=data["u"], coalition_id=data["c"], report=data["r"]).delete()
    return bool(deleted)


# --- The ledger ------------------------------------------------------------------------------------


def message_id_for(*, report, coalition_id, period, recipient):
    """A Message-ID derived from the ledger key, so any resend would carry the same one."""
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:16]
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<{report}.{coalition_id}.{period}.{digest}@{domain}>"


def digest_window(coalition, now=None):
    """``(period, start, end)`` of the digest due now: the ISO week (in the digest's time zone) names
    it; it covers what changed since the last digest's window closed (a week back for the first one).
    A period already started keeps its window, so everyone gets the same figures for it."""
    now = now or timezone.now()
    year, week, _day = now.astimezone(ZoneInfo(settings.REPORTS_DIGEST_TIME_ZONE)).isocalendar()
    period = f"{year}-W{week:02d}"
    digests = Delivery.objects.filter(report=Report.DIGEST, coalition=coalition)
    existing = digests.filter(period=period).exclude(period_end=None).values("period_start", "period_end").first()
    if existing:
        return period, existing["period_start"], existing["period_end"]
    previous_end = digests.exclude(period=period).aggregate(end=Max("period_end"))["end"]
    return period, previous_end or now - timedelta(days=7), now


@transaction.atomic
def deliveries_prepare(
    *, report, coalition, period, recipients, meeting=None, pledge=None, period_start=None, period_end=None
):
    """Write the ledger rows of one report and period (existing ones are kept as they are) and return
    the ids still to send. Serialised per coalition so concurrent requests agree on the rows."""
    Coalition.objects.select_for_update().filter(pk=coalition.pk).first()
    rows = {}
    for recipient in recipients:
        rows.setdefault(
            recipient.email,
            Delivery(
                report=report,
                coalition=coalition,
                period=period,
                period_start=period_start,
                period_end=period_end,
                meeting=meeting,
                pledge=pledge,
                recipient=recipient.email,
                user=recipient.user,
                language=recipient.language,
                message_id=message_id_for(
                    report=report, coalition_id=coalition.pk, period=period, recipient=recipient.email
                ),
            ),
        )
    Delivery.objects.bulk_create(rows.values(), ignore_conflicts=True)
    return list(
        Delivery.objects.filter(report=report, coalition=coalition, period=period, recipient__in=rows)
        .exclude(status__in=Delivery.DONE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def delivery_retry(*, acting_user, delivery):
    """Give a failed delivery another round of attempts (the secretariat's decision)."""
    permissions.ensure_can_manage(acting_user, delivery.coalition_id)
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status != D.FAILED:
        raise ValidationError({"status": _("Only a failed delivery can be sent again.")})
    delivery.status = D.PENDING
    delivery.save(update_fields=["status"])
    return delivery


@contextmanager
def delivery_lock(delivery_id):
    """Whether this process may send the delivery: a session-level advisory lock, held until the
    block ends or the process's database connection dies (a SIGKILLed worker frees it at once).
    Other databases (SQLite, in-process tasks) have one sender anyway: always True."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = (LOCK_NAMESPACE, (delivery_id + 2**31) % 2**32 - 2**31)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)


def _error_text(error):
    if isinstance(error, BaseException):
        smtp_code = getattr(error, "smtp_code", None)
        smtp_error = getattr(error, "smtp_error", None)
        if smtp_code is not None:
            reply = smtp_error.decode("utf-8", "replace") if isinstance(smtp_error, bytes) else str(smtp_error)
            error = f"{error.__class__.__name__}: {smtp_code} {reply}"
        else:
            error = f"{error.__class__.__name__}: {error}"
    return str(error)[:ERROR_LENGTH]


def delivery_claim(*, delivery_id, now=None):
    """Take a delivery for one attempt (call under ``delivery_lock``): the row to send, or None when
    there is nothing to send. Commits ``sending`` and the attempt before any SMTP traffic.

    A row found ``sending`` had a sender that died (the lock says no one holds it): before the
    hand-off the server holds no message, so it is sent again; after it the outcome is unknown and
    the row becomes ``unconfirmed`` rather than risk a duplicate.
    """
    now = now or timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status in Delivery.DONE:
            return None
        if delivery.status == D.SENDING and delivery.handed_off_at is not None:
            delivery.status = D.UNCONFIRMED
            delivery.last_error = _(
                "The sender stopped after handing the message to the mail server at %(time)s, before its "
                "reply was recorded: probably delivered, not sent again to avoid a duplicate."
            ) % {"time": delivery.handed_off_at.isoformat(timespec="milliseconds")}
            delivery.save(update_fields=["status", "last_error"])
            return None
        delivery.status = D.SENDING
        delivery.attempts += 1
        delivery.claimed_at = now
        delivery.handed_off_at = None
        delivery.save(update_fields=["status", "attempts", "claimed_at", "handed_off_at"])
    return Delivery.objects.select_related("coalition", "user", "meeting", "pledge").get(pk=delivery_id)


@contextmanager
def _quick_commit():
    """A transaction whose COMMIT does not wait for the WAL flush (PostgreSQL's synchronous_commit off):
    ~0.5 ms instead of ~3 ms here. The marks below sit between two SMTP steps, so every millisecond
    is time in which a dying worker leaves an ambiguous row. Only a crash of PostgreSQL itself (not of
    a worker) can lose such a commit, and the state it falls back to is the one before the mark."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def delivery_handed_off(*, delivery):
    """The end of DATA is about to be written: from here a retry could duplicate the message."""
    delivery.handed_off_at = timezone.now()
    with _quick_commit():
        Delivery.objects.filter(pk=delivery.pk, status=D.SENDING).update(handed_off_at=delivery.handed_off_at)


def delivery_sent(*, delivery):
    """The server accepted the message."""
    delivery.status, delivery.sent_at = D.SENT, timezone.now()
    with _quick_commit():
        Delivery.objects.filter(pk=delivery.pk).update(status=D.SENT, sent_at=delivery.sent_at)


def delivery_attempt_failed(*, delivery, error, server_replied):
    """Record a failed attempt; whether to retry it. Refused or never handed over: back to
    ``pending`` for the next attempt. Handed over with no reply (connection lost after the end of
    DATA): ``unconfirmed``, not retried."""
    text = _error_text(error)
    if delivery.handed_off_at is not None and not server_replied:
        delivery.status = D.UNCONFIRMED
        text = _("The connection was lost after the message was handed over; outcome unknown: %(error)s") % {
            "error": text
        }
    else:
        delivery.status = D.PENDING
        delivery.handed_off_at = None
    delivery.last_error = text[:ERROR_LENGTH]
    Delivery.objects.filter(pk=delivery.pk).update(
        status=delivery.status, handed_off_at=delivery.handed_off_at, last_error=delivery.last_error
    )
    return delivery.status == D.PENDING


def deliveries_stalled(*, older_than, now=None):
    """Ids of deliveries still pending or sending ``older_than`` seconds after they were queued or
    last claimed: their task was lost, or is far behind; either way another one is harmless."""
    cutoff = (now or timezone.now()) - timedelta(seconds=older_than)
    return list(
        Delivery.objects.filter(status__in=(D.PENDING, D.SENDING))
        .annotate(last_activity=Coalesce("claimed_at", "created_at"))
        .filter(last_activity__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def delivery_fail(*, delivery_id, error):
    """No attempt is left: the delivery failed with ``error``, for the secretariat to see."""
    Delivery.objects.filter(pk=delivery_id).exclude(status__in=(D.SENT, D.UNCONFIRMED)).update(
        status=D.FAILED, last_error=_error_text(error)
    )


@transaction.atomic
def digest_prepare(*, coalition, recipients, now=None):
    """The ledger rows of the digest due now (window chosen under the coalition's lock); ids to send."""
    Coalition.objects.select_for_update().filter(pk=coalition.pk).first()
    period, start, end = digest_window(coalition, now)
    return deliveries_prepare(
        report=Report.DIGEST,
        coalition=coalition,
        period=period,
        recipients=recipients,
        period_start=start,
        period_end=end,
    )


#: The reports a role receives once the user serves a coalition (they can unsubscribe).
DEFAULT_SUBSCRIPTIONS = {
    permissions.SECRETARIAT: (Report.DIGEST, Report.MEETING, Report.NOTICE),
    permissions.STEERING: (Report.DIGEST, Report.MEETING),
}


def subscriptions_default(*, user, coalitions):
    """Subscribe a user newly seated in ``coalitions`` to what their role there receives by default."""
    permissions.forget(user)
    a = permissions.actor(user)
    rows = [
        Subscription(user=user, coalition=coalition, report=report)
        for coalition in coalitions
        for report in sorted(DEFAULT_SUBSCRIPTIONS.get(a.role_in(coalition.pk), ()))
        if permissions.can_receive_report(user, coalition, report)
    ]
    Subscription.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
