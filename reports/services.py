"""Report emails: subscriptions, the language preference, and the delivery ledger's transitions.

Exactly once per (report, coalition, period, recipient): the ledger row is created once (unique key),
claimed for a lease (``sending``, the attempt counted, committed before SMTP; two workers never hold
the same row, and a dead worker's row is taken over once its lease runs out), stamped
``handed_off_at`` just before the end of DATA while the lease holds, and marked ``sent`` right after
the server's reply. No session state is involved, so it holds through a pooler in transaction mode.
See README "Report emails" for what this guarantees.
"""

import hashlib
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from coalition import permissions
from coalition.models import Coalition, Profile
from reports.models import Delivery, Report, Subscription

D = Delivery.Status
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


class LeaseLost(Exception):
    """The sender's lease on a delivery ran out (or another sender took it over) before the hand-off:
    it must not finish the message."""


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
    """Take a delivery for one attempt: ``(outcome, delivery)``. The outcome is ``"claimed"`` (the row is
    ``sending`` under this sender's lease for REPORTS_SEND_LEASE seconds, the attempt counted and
    committed before any SMTP traffic; ``delivery.attempts`` is the claim's fencing token), ``"busy"``
    (another sender's lease still runs: it owns the outcome), ``"skipped"`` (nothing to send) or
    ``"unconfirmed"``.

    A row found ``sending`` with its lease run out had a sender that died: before the hand-off the
    server holds no message, so it is sent again; after it the outcome is unknown and the row becomes
    ``unconfirmed`` rather than risk a duplicate.
    """
    now = now or timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status in Delivery.DONE:
            return "skipped", None
        if delivery.status == D.SENDING and delivery.lease_until is not None and delivery.lease_until > now:
            return "busy", None
        if delivery.status == D.SENDING and delivery.handed_off_at is not None:
            delivery.status = D.UNCONFIRMED
            delivery.last_error = _(
                "The sender stopped after handing the message to the mail server at %(time)s, before its "
                "reply was recorded: probably delivered, not sent again to avoid a duplicate."
            ) % {"time": delivery.handed_off_at.isoformat(timespec="milliseconds")}
            delivery.save(update_fields=["status", "last_error"])
            return "unconfirmed", None
        delivery.status = D.SENDING
        delivery.attempts += 1
        delivery.claimed_at = now
        delivery.lease_until = now + timedelta(seconds=settings.REPORTS_SEND_LEASE)
        delivery.handed_off_at = None
        delivery.save(update_fields=["status", "attempts", "claimed_at", "lease_until", "handed_off_at"])
    return "claimed", Delivery.objects.select_related("coalition", "user", "meeting", "pledge").get(pk=delivery_id)


@contextmanager
def _quick_commit():
    """A transaction whose COMMIT does not wait for the WAL flush (PostgreSQL's synchronous_commit off):
    ~0.5 ms instead of ~3 ms here. The marks below sit between two SMTP steps, so every millisecond
    is time in which a dying worker leaves an ambiguous row. Only a crash of PostgreSQL itself (not of
    a worker) can lose such a commit, and the state it falls back to is the one before the mark.
    ``SET LOCAL`` lasts for the transaction only, so it holds through a pooler in transaction mode."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def _own(delivery):
    """The row as long as this sender's claim holds it."""
    return Delivery.objects.filter(pk=delivery.pk, status=D.SENDING, attempts=delivery.attempts)


def delivery_handed_off(*, delivery):
    """The end of DATA is about to be written: from here a retry could duplicate the message. Recorded
    only while this sender's lease holds; otherwise LeaseLost, and the message must not be finished."""
    now = timezone.now()
    with _quick_commit():
        marked = _own(delivery).filter(lease_until__gt=now).update(handed_off_at=now)
    if not marked:
        raise LeaseLost(f"The lease on delivery {delivery.pk} ran out before the hand-off.")
    delivery.handed_off_at = now


def delivery_sent(*, delivery_id, attempt):
    """The server accepted the message of claim ``attempt`` (whatever became of the lease, or of the
    row since: a sweep may have called it unconfirmed meanwhile, but the server has the message)."""
    with _quick_commit():
        Delivery.objects.filter(pk=delivery_id, attempts=attempt).update(
            status=D.SENT, sent_at=timezone.now(), lease_until=None
        )


def delivery_attempt_failed(*, delivery, error, server_replied, retry_in=0):
    """Record a failed attempt; whether to retry it. Refused or never handed over: back to
    ``pending`` for the next attempt in ``retry_in`` seconds. Handed over with no reply (connection
    lost after the end of DATA): ``unconfirmed``, not retried."""
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
    delivery.next_attempt_at = timezone.now() + timedelta(seconds=retry_in)
    Delivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts).update(
        status=delivery.status,
        handed_off_at=delivery.handed_off_at,
        last_error=delivery.last_error,
        lease_until=None,
        next_attempt_at=delivery.next_attempt_at,
    )
    return delivery.status == D.PENDING


def deliveries_stalled(*, grace, now=None):
    """Ids of deliveries whose task seems lost: pending ``grace`` seconds past the attempt they wait for
    (their queueing, or a retry's time), or sending with the sender's lease run out ``grace`` seconds
    ago. Another task for them is harmless (the lease and the ledger decide who sends)."""
    cutoff = (now or timezone.now()) - timedelta(seconds=grace)
    pending = Q(status=D.PENDING) & Q(due__lt=cutoff)
    abandoned = Q(status=D.SENDING) & (Q(lease_until__lt=cutoff) | Q(lease_until__isnull=True, due__lt=cutoff))
    return list(
        Delivery.objects.filter(status__in=(D.PENDING, D.SENDING))
        .annotate(due=Coalesce("next_attempt_at", "claimed_at", "created_at"))
        .filter(pending | abandoned)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def deliveries_requeue_stalled(*, grace, now=None):
    """The stalled deliveries (``deliveries_stalled``), each stamped as queued again now: the next sweep
    asks again only ``grace`` seconds later. Without the stamp every sweep queued every row of a long
    batch again (the fault drill saw 331 and then 300 extra tasks for rows merely waiting their turn)."""
    now = now or timezone.now()
    ids = deliveries_stalled(grace=grace, now=now)
    if ids:
        rows = Delivery.objects.filter(pk__in=ids)
        rows.filter(status=D.PENDING).update(next_attempt_at=now)
        # An expired lease stays expired (a claim takes the row over); only its age restarts.
        rows.filter(status=D.SENDING).filter(Q(lease_until__lt=now) | Q(lease_until__isnull=True)).update(
            lease_until=now
        )
    return ids


def delivery_fail(*, delivery_id, error):
    """No attempt is left: the delivery failed with ``error``, for the secretariat to see."""
    Delivery.objects.filter(pk=delivery_id).exclude(status__in=(D.SENT, D.UNCONFIRMED)).update(
        status=D.FAILED, last_error=_error_text(error), lease_until=None
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
