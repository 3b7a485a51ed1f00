"""Webhook endpoints partners register, and the ledger of what was sent to each."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class WebhookEndpoint(models.Model):
    """A URL that receives the change feed's events its owner may see, signed per Standard Webhooks.

    ``position_txid`` and ``position_id`` are the feed position it has been given every event up to:
    events are fanned out from there, in the feed's order, so none is skipped or queued twice. The
    signing secret is kept in clear (it must sign); a rotated-out one keeps signing beside it until
    ``previous_secret_until``.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="webhook_endpoints", verbose_name=_("owner")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list, blank=True, help_text=_("Empty: every event."))
    secret = models.CharField(_("signing secret"), max_length=100)
    previous_secret = models.CharField(_("previous signing secret"), max_length=100, blank=True)
    previous_secret_until = models.DateTimeField(_("previous secret signs until"), null=True, blank=True)
    position_txid = models.BigIntegerField(_("events given up to (transaction)"), default=0)
    position_id = models.BigIntegerField(_("events given up to (change)"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failed deliveries in a row"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self):
        return f"{self.url} ({self.owner})"

    @property
    def position(self):
        return self.position_txid, self.position_id

    @position.setter
    def position(self, value):
        self.position_txid, self.position_id = value

    def wants(self, event):
        """Whether the endpoint asked for ``event`` (no list: every event)."""
        if not self.events:
            return True
        names = {event["type"]}
        if event.get("action"):
            names.add(f"{event['resource']}.{event['action']}")
        return bool(names & set(self.events))


class WebhookDelivery(models.Model):
    """One event owed to one endpoint: its body as fanned out, and how sending it went."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    endpoint = models.ForeignKey(WebhookEndpoint, models.CASCADE, related_name="deliveries", verbose_name=_("endpoint"))
    seq = models.BigIntegerField(_("event"))
    event_type = models.CharField(_("event type"), max_length=64)
    payload = models.JSONField(_("body"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveIntegerField(_("last response code"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "seq"], name="webhookdelivery_once_per_event"),
        ]
        indexes = [
            models.Index(fields=["status"], condition=Q(status="pending"), name="webhookdelivery_pending"),
        ]

    def __str__(self):
        return f"{self.event_type} #{self.seq} to {self.endpoint_id}: {self.status}"

    @property
    def message_id(self):
        """The Standard Webhooks ``webhook-id``: the same for every attempt and redelivery."""
        return f"msg_{self.endpoint_id}_{self.seq}"
