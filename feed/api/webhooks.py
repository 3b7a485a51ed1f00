"""``/api/v1/webhooks/``: register, list, remove and rotate webhook endpoints; their delivery ledger."""

from django.contrib.auth import get_user_model
from django.core.validators import RegexValidator
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from coalition import changes, permissions
from coalition.api import schema
from coalition.api.conditional import ConditionalGetMixin
from coalition.api.parsers import DecimalJSONParser
from coalition.api.renderers import BrowsableAPIRenderer
from coalition.api.serializers import iso_datetime
from feed import services
from feed.models import WebhookDelivery, WebhookEndpoint


class WebhookPermission(BasePermission):
    message = gettext_lazy("You have no role in any coalition, so there is nothing to send you.")

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and permissions.can_register_webhooks(user))


#: What an endpoint's URL may be, said the same in the schema (drf-spectacular shows the validator's
#: pattern) and by the server: http or https, a host name of labels (at most 224 characters, within
#: Django's URLValidator's 253) with a letter TLD, an IPv4 address or localhost, an optional port and
#: path. IPv6 literals are not taken (an endpoint is reached by name).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
ENDPOINT_URL = (
    r"^https?://(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?\.){1,4}[A-Za-z]{2,20}"
    rf"|(?:{_OCTET}\.){{3}}{_OCTET}|localhost)"
    r"(?::[0-9]{1,5})?(?:[/?#][^\s\u0000]*)?$"
)


class WebhookEndpointSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.URLField(
        max_length=500,
        validators=[
            RegexValidator(
                ENDPOINT_URL, message=gettext_lazy("Enter an http or https URL with a host name or an IPv4 address.")
            )
        ],
        help_text="Where the events are POSTed (http or https, public, by host name or IPv4 address).",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=changes.event_types()),
        required=False,
        help_text="`<resource>.<change>` (`pledge.created`, `meeting.held`...); none: every event.",
    )
    owner = serializers.CharField(
        required=False,
        help_text="Username whose view of the data the endpoint receives (default: you). The secretariat may "
        "register endpoints for the people seated in its coalitions.",
    )
    is_active = serializers.BooleanField(read_only=True)
    disabled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    consecutive_failures = serializers.IntegerField(read_only=True)
    previous_secret_until = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, endpoint):
        return {
            "id": endpoint.pk,
            "url": endpoint.url,
            "events": endpoint.events,
            "owner": endpoint.owner.get_username(),
            "is_active": endpoint.is_active,
            "disabled_at": iso_datetime(endpoint.disabled_at),
            "consecutive_failures": endpoint.consecutive_failures,
            "previous_secret_until": iso_datetime(endpoint.previous_secret_until),
            "created_at": iso_datetime(endpoint.created_at),
        }


class WebhookSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="`whsec_...`: shown this once; keep it.")

    def to_representation(self, endpoint):
        return {**super().to_representation(endpoint), "secret": endpoint.secret}


class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    webhook_id = serializers.CharField(help_text="The `webhook-id` header: the same on every attempt.")
    seq = serializers.IntegerField(help_text="The change feed's sequence number of the event.")
    event_type = serializers.CharField()
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices)
    attempts = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    sent_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, d):
        return {
            "id": d.pk,
            "webhook_id": d.message_id,
            "seq": d.seq,
            "event_type": d.event_type,
            "status": d.status,
            "attempts": d.attempts,
            "last_status_code": d.last_status_code,
            "last_error": d.last_error,
            "created_at": iso_datetime(d.created_at),
            "last_attempt_at": iso_datetime(d.last_attempt_at),
            "sent_at": iso_datetime(d.sent_at),
        }


NO_BODY = OpenApiResponse(description="Done.")


@extend_schema_view(
    list=extend_schema(
        summary="Your webhook endpoints (and, for the secretariat, those of its coalitions' people)",
        parameters=[schema.IF_NONE_MATCH],
        responses=schema.read_responses(WebhookEndpointSerializer(many=True), listing=True),
    ),
    retrieve=extend_schema(
        summary="A webhook endpoint",
        parameters=[schema.IF_NONE_MATCH],
        responses=schema.read_responses(WebhookEndpointSerializer),
    ),
    create=extend_schema(
        summary="Register a webhook endpoint",
        description="Deliveries follow Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), "
        "carry the change feed's events that the owner may see, and are retried with backoff. An address that "
        "resolves to a private, loopback or link-local address is refused (400 on `url`).",
        request=WebhookEndpointSerializer,
        responses=schema.write_responses(WebhookSecretSerializer, 201, conflict=False),
    ),
    destroy=extend_schema(
        summary="Remove a webhook endpoint", responses=schema.write_responses(NO_BODY, 204, conflict=False)
    ),
)
class WebhookEndpointViewSet(ConditionalGetMixin, viewsets.GenericViewSet):
    """Webhook endpoints and their delivery ledger."""

    serializer_class = WebhookEndpointSerializer
    permission_classes = [WebhookPermission]
    parser_classes = [DecimalJSONParser]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]
    queryset = WebhookEndpoint.objects.none()

    def get_queryset(self):
        queryset = WebhookEndpoint.objects.select_related("owner").order_by("-created_at", "-id")
        return permissions.webhooks_managed_by(queryset, self.request.user)

    def get_object(self):
        if not str(self.kwargs.get("pk", "")).isdigit():
            raise NotFound()
        return super().get_object()

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        owner = request.user
        if data.get("owner"):
            owner = get_user_model()._default_manager.filter(username=data["owner"]).first()
            if owner is None or not permissions.can_manage_webhooks_for(request.user, owner):
                raise serializers.ValidationError({"owner": [_("No such person among those you manage.")]})
        with transaction.atomic():
            endpoint = services.endpoint_create(
                acting_user=request.user, url=data["url"], events=data.get("events", ()), owner=owner
            )
        return Response(WebhookSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        services.endpoint_delete(acting_user=request.user, endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Rotate the signing secret",
        description="A new secret, shown once; the old one keeps signing beside it (two signatures, "
        "space-separated) until `previous_secret_until`.",
        request=None,
        responses=schema.write_responses(WebhookSecretSerializer, conflict=False),
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint = services.endpoint_rotate_secret(acting_user=request.user, endpoint=self.get_object())
        return Response(WebhookSecretSerializer(endpoint).data)

    @extend_schema(
        summary="Switch a disabled endpoint on again",
        request=None,
        responses=schema.write_responses(WebhookEndpointSerializer, conflict=False),
    )
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        endpoint = services.endpoint_enable(acting_user=request.user, endpoint=self.get_object())
        return Response(self.get_serializer(endpoint).data)

    @extend_schema(
        summary="The endpoint's delivery ledger, newest first",
        parameters=[schema.IF_NONE_MATCH],
        responses=schema.read_responses(WebhookDeliverySerializer(many=True), listing=True),
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        endpoint = self.get_object()
        page = self.paginate_queryset(endpoint.deliveries.select_related("endpoint").order_by("-id"))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(
        summary="Send a delivery again",
        request=None,
        responses=schema.write_responses(WebhookDeliverySerializer, 202, conflict=False),
    )
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>\d+)/redeliver")
    def redeliver(self, request, pk=None, delivery_id=None):
        endpoint = self.get_object()
        delivery = endpoint.deliveries.filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound(_("No such delivery of this endpoint."))
        delivery = services.delivery_redeliver(acting_user=request.user, delivery=delivery)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
