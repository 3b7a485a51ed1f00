from django.contrib import admin

from feed.models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "owner", "is_active", "consecutive_failures", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "owner__username")
    # The secrets sign; an administrator has no need to read them (rotate through the API instead).
    exclude = ("secret", "previous_secret")
    readonly_fields = (
        "position_txid",
        "position_id",
        "disabled_at",
        "consecutive_failures",
        "previous_secret_until",
        "created_at",
    )
    raw_id_fields = ("owner", "created_by")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("endpoint", "seq", "event_type", "status", "attempts", "last_status_code", "last_attempt_at")
    list_filter = ("status",)
    search_fields = ("endpoint__url", "event_type")
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False
