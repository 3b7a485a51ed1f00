"""Every write of the webhooks: endpoints registered, rotated and removed; events fanned out into the
delivery ledger; each delivery attempted, retried, redelivered; a failing endpoint disabled."""

import base64
import json
import logging
import secrets as random_secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from standardwebhooks import Webhook

from coalition import changes, outbox, permissions
from feed import events as feed_events
from feed import outbound
from feed.models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)
FANOUT_TASK = "webhooks.fanout"
DELIVER_TASK = "webhooks.deliver"
FANOUT_BATCH = 500
D = WebhookDelivery.Status


def new_secret():
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(random_secrets.token_bytes(32)).decode()


def _clean_events(names):
    known = set(changes.event_types())
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValidationError(
            {
                "events": _("Unknown events: %(names)s. Name them <resource>.<change>, e.g. pledge.created.")
                % {"names": ", ".join(unknown)}
            }
        )
    return sorted(set(names))


@transaction.atomic
def endpoint_create(*, acting_user, url, events=(), owner=None):
    """Register ``url`` for ``owner``'s events (default: the acting user's); returns the endpoint, whose
    ``secret`` the caller shows once. It gets the events committed from now on."""
    owner = owner or acting_user
    permissions.ensure(permissions.can_register_webhooks(owner), _("This person has no seat: nothing to send."))
    permissions.ensure(
        permissions.can_manage_webhooks_for(acting_user, owner),
        _("Only the secretariat of a coalition they sit in may register webhooks for someone else."),
    )
    try:
        outbound.check(url)
    except outbound.Refused as exc:
        raise ValidationError({"url": str(exc)}) from exc
    start = feed_events.horizon()
    return WebhookEndpoint.objects.create(
        owner=owner,
        created_by=acting_user,
        url=url,
        events=_clean_events(events),
        secret=new_secret(),
        position_txid=start[0],
        position_id=start[1],
    )


@transaction.atomic
def endpoint_delete(*, acting_user, endpoint):
    permissions.ensure(permissions.can_manage_webhooks_for(acting_user, endpoint.owner))
    endpoint.delete()


@transaction.atomic
def endpoint_rotate_secret(*, acting_user, endpoint):
    """A new secret; the old one keeps signing beside it for ``WEBHOOKS_SECRET_OVERLAP`` seconds."""
    permissions.ensure(permissions.can_manage_webhooks_for(acting_user, endpoint.owner))
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = timezone.now() + timedelta(seconds=settings.WEBHOOKS_SECRET_OVERLAP)
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    return endpoint


@transaction.atomic
def endpoint_enable(*, acting_user, endpoint):
    """Switch a disabled endpoint back on (its failures forgotten); it resumes from where it stopped."""
    permissions.ensure(permissions.can_manage_webhooks_for(acting_user, endpoint.owner))
    endpoint.is_active, endpoint.disabled_at, endpoint.consecutive_failures = True, None, 0
    endpoint.save(update_fields=["is_active", "disabled_at", "consecutive_failures"])
    transaction.on_commit(lambda: outbox.dispatch([outbox.enqueue(FANOUT_TASK).pk]))
    return endpoint


@transaction.atomic
def delivery_redeliver(*, acting_user, delivery):
    """Send a delivery again (same ``webhook-id``, so a receiver that has it already can tell)."""
    permissions.ensure(permissions.can_manage_webhooks_for(acting_user, delivery.endpoint.owner))
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status = D.PENDING
    delivery.save(update_fields=["status"])
    outbox.enqueue(DELIVER_TASK, delivery_id=delivery.pk, redelivery=True)
    return delivery


# --- Fan-out -----------------------------------------------------------------------------------------


def fan_out():
    """Give every active endpoint the events after its position that it asked for: one ledger row and
    one queued delivery each, written with the new position in one transaction. Returns rows made."""
    made = 0
    for endpoint_id in WebhookEndpoint.objects.filter(is_active=True).values_list("pk", flat=True):
        made += _fan_out_one(endpoint_id)
    return made


def _fan_out_one(endpoint_id):
    made = 0
    has_more = True
    while has_more:
        with transaction.atomic():
            # The row lock makes concurrent fan-outs of one endpoint take turns: no event twice.
            endpoint = (
                WebhookEndpoint.objects.select_for_update().select_related("owner").filter(pk=endpoint_id).first()
            )
            if endpoint is None or not endpoint.is_active:
                return made
            page, position, has_more = feed_events.page(endpoint.owner, endpoint.position, FANOUT_BATCH)
            rows = [
                WebhookDelivery(endpoint=endpoint, seq=event["seq"], event_type=event["type"], payload=event)
                for event in page
                if endpoint.wants(event)
            ]
            WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
            created = WebhookDelivery.objects.filter(
                endpoint=endpoint, seq__in=[row.seq for row in rows], status=D.PENDING, attempts=0
            ).values_list("pk", flat=True)
            for delivery_id in created:
                outbox.enqueue(DELIVER_TASK, delivery_id=delivery_id)
            endpoint.position = position
            endpoint.save(update_fields=["position_txid", "position_id"])
            made += len(rows)
    return made


# --- Sending -----------------------------------------------------------------------------------------


def signature(endpoint, message_id, timestamp, body, now=None):
    """The ``webhook-signature`` header: ``v1,<base64>`` by the current secret, and by the previous
    one while it overlaps, space-separated (the specification's way to rotate)."""
    now = now or timezone.now()
    keys = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        keys.append(endpoint.previous_secret)
    return " ".join(Webhook(key).sign(message_id, timestamp, body) for key in keys)


def body_of(delivery):
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)


def delivery_attempt(*, delivery_id):
    """One attempt at a delivery: ``(status, attempts)`` after it (``pending``: try again later), or
    ``busy`` when another attempt of it is running. The attempt after ``WEBHOOKS_MAX_RETRIES`` retries
    is the last: its failure marks the row failed."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("endpoint", "endpoint__owner")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            exists = WebhookDelivery.objects.filter(pk=delivery_id).exists()
            return ("busy" if exists else "gone"), 0
        if delivery.status != D.PENDING:
            return delivery.status, delivery.attempts
        endpoint = delivery.endpoint
        now = timezone.now()
        delivery.attempts += 1
        delivery.last_attempt_at = now
        if not endpoint.is_active:
            delivery.status, delivery.last_error = D.FAILED, _("The endpoint is disabled.")
            delivery.save(update_fields=["status", "attempts", "last_attempt_at", "last_error"])
            return delivery.status, delivery.attempts
        body = body_of(delivery)
        headers = {
            "content-type": "application/json",
            "user-agent": "CoalitionPortal-Webhooks/1",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature(endpoint, delivery.message_id, now, body, now),
        }
        code, error = outbound.post(endpoint.url, body.encode(), headers)
        delivery.last_status_code, delivery.last_error = code, error
        if code is not None and 200 <= code < 300:
            delivery.status, delivery.sent_at, delivery.last_error = D.SENT, timezone.now(), ""
            if endpoint.consecutive_failures:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
        elif delivery.attempts > settings.WEBHOOKS_MAX_RETRIES:
            delivery.status = D.FAILED
            _count_failure(endpoint)
        delivery.save(
            update_fields=["status", "attempts", "last_attempt_at", "last_status_code", "last_error", "sent_at"]
        )
        return delivery.status, delivery.attempts


def _count_failure(endpoint):
    endpoint = WebhookEndpoint.objects.select_for_update().select_related("owner").get(pk=endpoint.pk)
    endpoint.consecutive_failures += 1
    fields = ["consecutive_failures"]
    if endpoint.is_active and endpoint.consecutive_failures >= settings.WEBHOOKS_DISABLE_AFTER:
        endpoint.is_active, endpoint.disabled_at = False, timezone.now()
        fields += ["is_active", "disabled_at"]
        transaction.on_commit(lambda: _tell_owner_disabled(endpoint))
    endpoint.save(update_fields=fields)


def _tell_owner_disabled(endpoint):
    owner = endpoint.owner
    if not owner.email:
        return
    language = getattr(getattr(owner, "profile", None), "language", settings.LANGUAGE_CODE)
    with translation.override(language):
        subject = _("Your webhook endpoint was disabled")
        text = _(
            "The last %(count)s deliveries to %(url)s all failed, so the portal stopped sending to it. "
            "Its events are kept: switch it on again from the API (POST /api/v1/webhooks/%(id)s/enable/) once "
            "it answers, and the deliveries that failed can be sent again from its delivery list."
        ) % {"count": endpoint.consecutive_failures, "url": endpoint.url, "id": endpoint.pk}
    try:
        send_mail(subject, text, None, [owner.email])
    except Exception:  # noqa: BLE001 - the endpoint is disabled whatever the mail server says
        logger.exception("Could not tell %s that webhook endpoint %s was disabled", owner, endpoint.pk)
