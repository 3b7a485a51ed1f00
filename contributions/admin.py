"""Admin for pledges, disbursements, priorities, allocations and exchange rates.

Writes go through contributions.services: what the services compute (EUR value, rate, disbursed
totals, status, rank, version) is shown read-only; lifecycle steps are admin actions.
"""

from django import forms
from django.contrib import admin
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from coalition.admin_services import ReadOnlyAdminMixin, ServiceAdminMixin, ServiceInline, VersionedServiceForm, changes
from contributions import selectors, services
from contributions.models import (
    Allocation,
    Disbursement,
    ExchangeRate,
    Pledge,
    PledgeExport,
    PledgeImport,
    PledgeMonthTotal,
    PledgeTotal,
    PriorityPurchase,
    PriorityTotal,
)
from contributions.services.allocations import ALLOCATABLE
from contributions.services.pledges import INITIAL_STATUSES
from contributions.services.priorities import TRANSITIONS as PRIORITY_TRANSITIONS

# --- Inlines -------------------------------------------------------------------------------------


class DisbursementInline(ServiceInline):
    model = Disbursement
    form = VersionedServiceForm
    fields = (*Disbursement.editable_fields, "created_by", "loaded_version")
    readonly_fields = ("created_by",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")

    def service_save(self, request, form, original, parent=None):
        return _save_disbursement(request, form, original, parent)

    def service_delete(self, request, obj):
        services.disbursement_delete(
            acting_user=request.user, disbursement=obj, version=getattr(obj, "_loaded_version", None)
        )


class _AllocationInline(ServiceInline):
    model = Allocation
    form = VersionedServiceForm

    def service_save(self, request, form, original, parent=None):
        data = form.cleaned_data
        pledge, priority = (original.pledge, original.priority) if original else self.pair(parent, data)
        return services.allocation_set(
            acting_user=request.user,
            pledge=pledge,
            priority=priority,
            amount_eur=data["amount_eur"],
            note=data["note"],
            version=data.get("loaded_version"),
        )

    def service_delete(self, request, obj):
        services.allocation_delete(
            acting_user=request.user, allocation=obj, version=getattr(obj, "_loaded_version", None)
        )


class PledgeAllocationInline(_AllocationInline):
    fields = ("priority", *Allocation.editable_fields, "loaded_version")
    autocomplete_fields = ("priority",)
    locked_on_change = ("priority",)
    verbose_name_plural = _("allocations to priorities")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("priority")

    def pair(self, parent, data):
        return parent, data["priority"]


class PriorityAllocationInline(_AllocationInline):
    fields = ("pledge", *Allocation.editable_fields, "loaded_version")
    autocomplete_fields = ("pledge",)
    locked_on_change = ("pledge",)
    verbose_name_plural = _("allocated pledges")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("pledge__member")

    def pair(self, parent, data):
        return data["pledge"], parent


def _save_disbursement(request, form, original, pledge):
    data = form.cleaned_data
    if original is None:
        return services.disbursement_record(
            acting_user=request.user,
            pledge=pledge,
            amount=data["amount"],
            date=data["date"],
            reference=data["reference"],
            note=data["note"],
        )
    return services.disbursement_update(
        acting_user=request.user,
        disbursement=original,
        version=data["loaded_version"],
        **changes(form, ("amount", "date", "reference", "note")),
    )


# --- Pledges -------------------------------------------------------------------------------------


class PledgeForm(VersionedServiceForm):
    explicit_rate = forms.DecimalField(
        label=capfirst(_("explicit rate (units per EUR)")),
        required=False,
        max_digits=20,
        decimal_places=8,
        help_text=_("Only for a currency the ECB does not publish; leave empty to use the ECB rate."),
    )
    explicit_rate_source = forms.CharField(
        label=capfirst(_("source of the explicit rate")), required=False, max_length=200
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "status" in self.fields:
            self.fields["status"].choices = [
                (value, label) for value, label in Pledge.Status.choices if value in INITIAL_STATUSES
            ]


PLEDGE_COMPUTED = (
    "amount_eur",
    "exchange_rate",
    "exchange_rate_date",
    "exchange_rate_source",
    "disbursed_amount",
    "disbursed_eur",
    "status_changed_at",
    "status_changed_by",
    "version",
    "created_at",
    "updated_at",
)
#: The service's editable fields but the explicit rate, which the form names explicit_rate(_source).
PLEDGE_EDITABLE = tuple(
    name for name in Pledge.editable_fields if name not in ("exchange_rate", "exchange_rate_source")
)


@admin.register(Pledge)
class PledgeAdmin(ServiceAdminMixin, SimpleHistoryAdmin):
    form = PledgeForm
    list_display = (
        "title",
        "member",
        "coalition",
        "status",
        "amount",
        "currency",
        "amount_eur",
        "disbursed_eur",
        "announced_on",
        "confirmed_on",
    )
    list_filter = ("coalition", "status", "kind", "channel", "currency", "member")
    search_fields = ("title", "description", "member__code", "member__name", "external_ref", "source")
    list_select_related = ("coalition", "member")
    autocomplete_fields = ("member", "confirmed_at_meeting")
    date_hierarchy = "announced_on"
    inlines = (DisbursementInline, PledgeAllocationInline)
    actions = ("announce", "confirm", "withdraw")
    error_fields = {"exchange_rate": "explicit_rate", "exchange_rate_source": "explicit_rate_source"}

    def get_fieldsets(self, request, obj=None):
        money = ("amount", "currency", "explicit_rate", "explicit_rate_source")
        if obj is None:
            return (
                (None, {"fields": ("coalition", "member", "title", "description", "kind", "channel", "status")}),
                (_("Money"), {"fields": money}),
                (
                    _("Dates and sources"),
                    {"fields": ("announced_on", "confirmed_on", "confirmed_at_meeting", "source", "external_ref")},
                ),
            )
        return (
            (
                None,
                {
                    "fields": (
                        "coalition",
                        "member",
                        "title",
                        "description",
                        "kind",
                        "channel",
                        "status",
                        "loaded_version",
                    )
                },
            ),
            (_("Money"), {"fields": (*money, *PLEDGE_COMPUTED[:6])}),
            (
                _("Dates and sources"),
                {"fields": ("announced_on", "confirmed_on", "confirmed_at_meeting", "source", "external_ref")},
            ),
            (_("Record"), {"fields": PLEDGE_COMPUTED[6:]}),
        )

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("coalition", "member", "status", *PLEDGE_COMPUTED)

    def get_queryset(self, request):
        return SimpleHistoryAdmin.get_queryset(self, request).visible_to(request.user)

    def get_search_results(self, request, queryset, search_term):
        # The allocation inline's autocomplete offers only pledges whose money can be earmarked.
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.path.endswith("/autocomplete/") and request.GET.get("model_name") == "allocation":
            queryset = queryset.filter(status__in=ALLOCATABLE)
        return queryset, may_have_duplicates

    def service_save(self, request, form, original, parent=None):
        data = form.cleaned_data
        rate = {}
        if data.get("explicit_rate") is not None:
            rate = {
                "exchange_rate": data["explicit_rate"],
                "exchange_rate_source": data.get("explicit_rate_source", ""),
            }
        if original is None:
            return services.pledge_create(
                acting_user=request.user,
                coalition=data["coalition"],
                member=data["member"],
                title=data["title"],
                amount=data["amount"],
                currency=data["currency"],
                announced_on=data["announced_on"],
                status=data["status"],
                description=data["description"],
                kind=data["kind"],
                channel=data["channel"],
                confirmed_on=data["confirmed_on"],
                confirmed_at_meeting=data["confirmed_at_meeting"],
                source=data["source"],
                external_ref=data["external_ref"],
                **rate,
            )
        return services.pledge_update(
            acting_user=request.user,
            pledge=original,
            version=data["loaded_version"],
            **changes(form, PLEDGE_EDITABLE),
            **rate,
        )

    def service_delete(self, request, obj):
        services.pledge_delete(acting_user=request.user, pledge=obj)

    @admin.action(description=_("Announce the selected pledges"))
    def announce(self, request, queryset):
        self.run_service_action(
            request,
            queryset,
            lambda pledge: services.pledge_announce(acting_user=request.user, pledge=pledge),
            _("%(count)s pledges announced."),
        )

    @admin.action(description=_("Confirm the selected pledges (today)"))
    def confirm(self, request, queryset):
        self.run_service_action(
            request,
            queryset,
            lambda pledge: services.pledge_confirm(acting_user=request.user, pledge=pledge),
            _("%(count)s pledges confirmed."),
        )

    @admin.action(description=_("Withdraw the selected pledges"))
    def withdraw(self, request, queryset):
        self.run_service_action(
            request,
            queryset,
            lambda pledge: services.pledge_withdraw(acting_user=request.user, pledge=pledge),
            _("%(count)s pledges withdrawn."),
        )


# --- Disbursements and allocations ---------------------------------------------------------------


@admin.register(Disbursement)
class DisbursementAdmin(ServiceAdminMixin, SimpleHistoryAdmin):
    list_display = ("pledge", "amount", "currency", "date", "reference", "created_by")
    list_filter = ("pledge__coalition", "pledge__member", "date")
    search_fields = ("reference", "note", "pledge__title", "pledge__member__code", "pledge__member__name")
    list_select_related = ("pledge", "pledge__member", "created_by")
    autocomplete_fields = ("pledge",)
    date_hierarchy = "date"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("pledge", *Disbursement.editable_fields)
        return ("pledge", *Disbursement.editable_fields, "created_by", "version", "created_at", "loaded_version")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("pledge", "created_by", "version", "created_at")

    @admin.display(description=_("currency"), ordering="pledge__currency")
    def currency(self, obj):
        return obj.pledge.currency

    def service_save(self, request, form, original, parent=None):
        return _save_disbursement(request, form, original, original.pledge if original else form.cleaned_data["pledge"])

    def service_delete(self, request, obj):
        services.disbursement_delete(acting_user=request.user, disbursement=obj)


@admin.register(Allocation)
class AllocationAdmin(ServiceAdminMixin, SimpleHistoryAdmin):
    list_display = ("priority", "pledge", "amount_eur", "note")
    list_filter = ("priority__coalition", "priority__status")
    search_fields = ("note", "priority__title", "pledge__title", "pledge__member__code")
    list_select_related = ("priority", "pledge", "pledge__member")
    autocomplete_fields = ("pledge", "priority")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("pledge", "priority", *Allocation.editable_fields)
        return ("pledge", "priority", *Allocation.editable_fields, "version", "updated_at", "loaded_version")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("pledge", "priority", "version", "updated_at")

    def service_save(self, request, form, original, parent=None):
        data = form.cleaned_data
        return services.allocation_set(
            acting_user=request.user,
            pledge=original.pledge if original else data["pledge"],
            priority=original.priority if original else data["priority"],
            amount_eur=data["amount_eur"],
            note=data["note"],
            version=data.get("loaded_version"),
        )

    def service_delete(self, request, obj):
        services.allocation_delete(acting_user=request.user, allocation=obj)


# --- Priority purchases --------------------------------------------------------------------------


class PriorityForm(VersionedServiceForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "rank" in self.fields:
            self.fields["rank"].required = False
            self.fields["rank"].help_text = _("Empty: after the last active priority.")
        if "status" in self.fields:
            self.fields["status"].choices = [
                (value, label)
                for value, label in PriorityPurchase.Status.choices
                if value in (PriorityPurchase.Status.PROPOSED, PriorityPurchase.Status.APPROVED)
            ]


@admin.register(PriorityPurchase)
class PriorityPurchaseAdmin(ServiceAdminMixin, SimpleHistoryAdmin):
    form = PriorityForm
    list_display = (
        "rank",
        "title",
        "coalition",
        "category",
        "status",
        "estimated_cost_eur",
        "allocated",
        "target_date",
    )
    list_display_links = ("title",)
    list_filter = ("coalition", "status", "category")
    search_fields = ("title", "description", "category")
    list_select_related = ("coalition", "approved_at_meeting")
    autocomplete_fields = ("approved_at_meeting",)
    ordering = ("coalition", "rank")
    inlines = (PriorityAllocationInline,)
    actions = ("advance", "drop")

    def get_fields(self, request, obj=None):
        fields = ("coalition", *PriorityPurchase.editable_fields, "rank", "status")
        return fields if obj is None else (*fields, "version", "updated_at", "loaded_version")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("coalition", "rank", "status", "version", "updated_at")

    def get_queryset(self, request):
        # The dashboard's figure: allocations count only while their pledge counts.
        return selectors.with_coverage(super().get_queryset(request))

    @admin.display(description=_("allocated (EUR)"), ordering="allocated_eur")
    def allocated(self, obj):
        return obj.allocated_eur

    def service_save(self, request, form, original, parent=None):
        data = form.cleaned_data
        if original is None:
            return services.priority_create(
                acting_user=request.user,
                coalition=data["coalition"],
                title=data["title"],
                estimated_cost_eur=data["estimated_cost_eur"],
                rank=data["rank"],
                description=data["description"],
                category=data["category"],
                status=data["status"],
                approved_at_meeting=data["approved_at_meeting"],
                target_date=data["target_date"],
            )
        return services.priority_update(
            acting_user=request.user,
            priority=original,
            version=data["loaded_version"],
            **changes(form, PriorityPurchase.editable_fields),
        )

    def service_delete(self, request, obj):
        services.priority_delete(acting_user=request.user, priority=obj)

    @admin.action(description=_("Move the selected priorities one step on (approve, procure, contract, deliver)"))
    def advance(self, request, queryset):
        def step(priority):
            forward = [
                status for status in PRIORITY_TRANSITIONS[priority.status] if status != PriorityPurchase.Status.DROPPED
            ]
            target = forward[0] if forward else PriorityPurchase.Status.DELIVERED
            services.priority_transition(acting_user=request.user, priority=priority, to_status=target)

        self.run_service_action(request, queryset.order_by("rank"), step, _("%(count)s priorities moved on."))

    @admin.action(description=_("Drop the selected priorities"))
    def drop(self, request, queryset):
        self.run_service_action(
            request,
            queryset.order_by("rank"),
            lambda priority: services.priority_transition(
                acting_user=request.user, priority=priority, to_status=PriorityPurchase.Status.DROPPED
            ),
            _("%(count)s priorities dropped."),
        )


# --- Exchange rates ------------------------------------------------------------------------------


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """ECB reference rates are imported (``manage.py import_rates``), never typed."""

    list_display = ("date", "currency", "rate", "source")
    list_filter = ("currency", "source")
    search_fields = ("currency",)
    date_hierarchy = "date"


@admin.register(PledgeImport)
class PledgeImportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Uploaded pledge files, their preview and outcome: made and run from the pledge import page."""

    list_display = (
        "filename",
        "coalition",
        "status",
        "created_by",
        "total_rows",
        "created_count",
        "updated_count",
        "unchanged_count",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "coalition")
    search_fields = ("filename", "created_by__username")
    list_select_related = ("coalition", "created_by")
    date_hierarchy = "created_at"
    exclude = ("rows",)

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)


@admin.register(PledgeTotal)
class PledgeTotalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The totals the dashboard reads, kept by the write services (rebuild_aggregates repairs them)."""

    list_display = ("coalition", "member", "status", "kind", "channel", "currency", "count", "amount_eur")
    list_filter = ("coalition", "status", "kind", "channel")
    list_select_related = ("coalition", "member")


@admin.register(PledgeMonthTotal)
class PledgeMonthTotalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Published pledges by month announced and month confirmed, kept by the write services."""

    list_display = ("coalition", "basis", "month", "status", "count", "amount_eur")
    list_filter = ("coalition", "basis", "status")
    list_select_related = ("coalition",)


@admin.register(PriorityTotal)
class PriorityTotalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What is allocated to each priority by its pledges' status, kept by the allocation services."""

    list_display = ("coalition", "priority", "status", "count", "amount_eur")
    list_filter = ("coalition", "status")
    list_select_related = ("coalition", "priority")


@admin.register(PledgeExport)
class PledgeExportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Large pledge exports written by a task; their files are for their requesters (the list page)."""

    list_display = ("created_by", "format", "status", "row_count", "created_at", "finished_at")
    list_filter = ("status", "format")
    list_select_related = ("created_by",)
    exclude = ("file",)

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)
