"""Admin for report subscriptions and the delivery ledger (read-only: rows change only by sending)."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reports import services, tasks
from reports.models import Delivery, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("user", "coalition", "report", "created_at")
    list_filter = ("report", "coalition")
    search_fields = ("user__username", "user__email", "coalition__name")
    autocomplete_fields = ("user",)
    list_select_related = ("user", "coalition")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "report", "coalition", "period", "recipient", "status", "attempts", "sent_at")
    list_filter = ("status", "report", "coalition")
    search_fields = ("recipient", "period", "message_id", "last_error")
    date_hierarchy = "created_at"
    list_select_related = ("coalition",)
    actions = ["send_again"]
    readonly_fields = [field.name for field in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send the selected failed deliveries again"), permissions=["view"])
    def send_again(self, request, queryset):
        queued = []
        for delivery in queryset.filter(status=Delivery.Status.FAILED):
            try:
                services.delivery_retry(acting_user=request.user, delivery=delivery)
            except ValidationError:
                continue
            queued.append(delivery.pk)
        tasks.queue_deliveries(queued)
        self.message_user(
            request,
            ngettext("%(count)d delivery queued again.", "%(count)d deliveries queued again.", len(queued))
            % {"count": len(queued)},
            messages.SUCCESS,
        )
