"""Report emails: who asked for which report of which coalition, and the ledger of every delivery."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coalition import permissions
from coalition.models import Coalition
from coalition.permissions import Access, RestrictedQuerySet


class Report(models.TextChoices):
    """The three report emails."""

    DIGEST = "digest", _("weekly digest")
    MEETING = "meeting", _("meeting summary")
    NOTICE = "notice", _("confirmation notice")


class Subscription(models.Model):
    """A user's wish to receive one report of one coalition (no row: not sent to them)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="report_subscriptions", verbose_name=_("user")
    )
    coalition = models.ForeignKey(
        Coalition, models.CASCADE, related_name="report_subscriptions", verbose_name=_("coalition")
    )
    report = models.CharField(_("report"), max_length=16, choices=Report.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(coalition=None, personal="user")

    class Meta:
        ordering = ["coalition", "report", "user"]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "coalition", "report"],
                name="subscription_unique",
                violation_error_message=_("This user already receives this report of this coalition."),
            ),
            models.CheckConstraint(condition=Q(report__in=Report.values), name="subscription_report_valid"),
        ]

    def __str__(self):
        return f"{self.user} gets the {self.report} of {self.coalition.slug}"


class Delivery(models.Model):
    """One report for one period to one recipient: the unique key makes it exactly one email.

    ``pending`` → ``sending`` (claimed for a lease, attempt counted, committed before SMTP) → ``sent``.
    A failure before the message was handed over returns it to ``pending`` for a retry at
    ``next_attempt_at``, and after the last attempt it is ``failed``. ``handed_off_at`` is written just
    before the end of the SMTP DATA, only while the sender's lease holds: a sender that stops after it
    cannot know whether the server took the message, so the row becomes ``unconfirmed`` and is never
    sent again (a duplicate is avoided at the risk of a loss). The lease (``lease_until``), not a
    database session, says who may send: it works through a pooler in transaction mode, and a dead
    sender's row is taken over once its lease has run out.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        UNCONFIRMED = "unconfirmed", _("handed over, unconfirmed")
        FAILED = "failed", _("failed")

    #: Rows nothing will send again (unless the secretariat asks for a failed one again).
    DONE = (Status.SENT, Status.UNCONFIRMED, Status.FAILED)

    report = models.CharField(_("report"), max_length=16, choices=Report.choices)
    coalition = models.ForeignKey(Coalition, models.PROTECT, related_name="deliveries", verbose_name=_("coalition"))
    period = models.CharField(
        _("period"),
        max_length=64,
        help_text=_('The ISO week of a digest ("2024-W23"), "meeting-<id>" or "pledge-<id>-confirmed".'),
    )
    period_start = models.DateTimeField(_("changes since"), null=True, blank=True)
    period_end = models.DateTimeField(_("changes until"), null=True, blank=True)
    meeting = models.ForeignKey(
        "meetings.Meeting",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_deliveries",
        verbose_name=_("meeting"),
    )
    pledge = models.ForeignKey(
        "contributions.Pledge",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_deliveries",
        verbose_name=_("pledge"),
    )
    recipient = models.EmailField(_("recipient"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_deliveries",
        verbose_name=_("user"),
    )
    language = models.CharField(_("language"), max_length=8, default=settings.LANGUAGE_CODE)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("last attempt started at"), null=True, blank=True)
    lease_until = models.DateTimeField(_("being sent until"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    handed_off_at = models.DateTimeField(_("handed to the SMTP server at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    #: The delivery log is the secretariat's.
    access = Access(readers=frozenset({permissions.SECRETARIAT}))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            models.Index(fields=["coalition", "report", "-created_at"]),
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "coalition", "period", "recipient"],
                name="delivery_once_per_period_and_recipient",
                violation_error_message=_("This report for this period has already been sent to this recipient."),
            ),
            models.CheckConstraint(condition=Q(report__in=Report.values), name="delivery_report_valid"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "sending", "sent", "unconfirmed", "failed"]),
                name="delivery_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(recipient=models.functions.Lower("recipient")), name="delivery_recipient_lower"
            ),
        ]

    def __str__(self):
        return f"{self.report} {self.period} of {self.coalition_id} to {self.recipient}: {self.status}"
