"""Pledges, disbursements, priority purchases, allocations and exchange rates over the API.

Reads go through contributions.selectors (scoped by coalition.permissions), writes through
contributions.services; a record the user may not see is a 404, one they may see but not change 403.
"""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from coalition.api import schema
from coalition.api.serializers import VersionSerializer
from coalition.api.viewsets import APIViewSet, CreateMixin, DestroyMixin, UpdateMixin
from contributions import selectors, services
from contributions.api.serializers import (
    PLEDGE_ROW,
    AllocationSerializer,
    AllocationUpdateSerializer,
    DisbursementSerializer,
    DisbursementUpdateSerializer,
    ExchangeRateSerializer,
    PledgeConfirmSerializer,
    PledgeSerializer,
    PledgeUpdateSerializer,
    PriorityRerankSerializer,
    PrioritySerializer,
    PriorityTransitionSerializer,
    PriorityUpdateSerializer,
)
from contributions.filtersets import (
    AllocationFilterSet,
    DisbursementFilterSet,
    ExchangeRateFilterSet,
    PledgeFilterSet,
    PriorityFilterSet,
)
from contributions.models import Allocation, Disbursement, Pledge, PriorityPurchase


@schema.crud_schema(
    "pledge",
    PledgeSerializer,
    PledgeUpdateSerializer,
    create_doc="The EUR value is computed at the ECB rate of `announced_on` (or the last one published in the "
    "14 days before). A currency or date the ECB has no rate for needs `exchange_rate` and "
    "`exchange_rate_source`; without them the answer is 400 naming the currency and the date. "
    "Member editors record pledges of their own member only.",
    delete_doc="Only a pledge nothing has been disbursed against; otherwise withdraw it.",
)
class PledgeViewSet(CreateMixin, UpdateMixin, DestroyMixin, APIViewSet):
    """Pledges of your coalitions; drafts only to the secretariat and the member's own editors."""

    fingerprint_models = (Pledge,)

    serializer_class = PledgeSerializer
    update_serializer_class = PledgeUpdateSerializer
    action_serializers = {
        "announce": VersionSerializer,
        "confirm": PledgeConfirmSerializer,
        "withdraw": VersionSerializer,
    }
    filterset_class = PledgeFilterSet
    write_scope = "pledges"

    def get_queryset(self):
        return selectors.pledge_list(self.request.user)

    def list_rows(self, queryset):
        # A partner's pull of thousands of pledges is the API's hot path: plain rows of the columns
        # shown, rather than a pledge, a coalition, a member and a meeting instance per row.
        return queryset.values(*PLEDGE_ROW)

    def perform_create(self, data):
        return services.pledge_create(acting_user=self.request.user, **data)

    def perform_update(self, pledge, data, *, version):
        return services.pledge_update(acting_user=self.request.user, pledge=pledge, version=version, **data)

    def perform_destroy(self, pledge, *, version):
        services.pledge_delete(acting_user=self.request.user, pledge=pledge, version=version)

    def _transition(self, service, **extra):
        pledge = self.get_object()
        data = self.validated(require_version=True)
        pledge = service(acting_user=self.request.user, pledge=pledge, version=data.pop("version"), **extra, **data)
        return self.represent_response(pledge)

    @extend_schema(
        summary="Announce a draft pledge", request=VersionSerializer, responses=schema.write_responses(PledgeSerializer)
    )
    @action(detail=True, methods=["post"])
    def announce(self, request, pk=None):
        return self._transition(services.pledge_announce)

    @extend_schema(
        summary="Confirm a pledge",
        description="Records the date (default today, or the meeting's day) and the meeting that confirmed it.",
        request=PledgeConfirmSerializer,
        responses=schema.write_responses(PledgeSerializer),
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        pledge = self.get_object()
        data = self.validated(require_version=True)
        pledge = services.pledge_confirm(
            acting_user=request.user,
            pledge=pledge,
            version=data["version"],
            on_date=data.get("confirmed_on"),
            meeting=data.get("meeting"),
        )
        return self.represent_response(pledge)

    @extend_schema(
        summary="Withdraw a pledge",
        description="Any state before fulfilled; its allocations are released.",
        request=VersionSerializer,
        responses=schema.write_responses(PledgeSerializer),
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._transition(services.pledge_withdraw)


@schema.crud_schema(
    "disbursement",
    DisbursementSerializer,
    DisbursementUpdateSerializer,
    create_doc="Money paid against a confirmed (or disbursing) pledge, in its currency; the running total never "
    "exceeds the pledge. The pledge becomes disbursing, then fulfilled, by itself.",
)
class DisbursementViewSet(CreateMixin, UpdateMixin, DestroyMixin, APIViewSet):
    """Money paid against pledges, in each pledge's currency."""

    fingerprint_models = (Disbursement, Pledge)

    serializer_class = DisbursementSerializer
    update_serializer_class = DisbursementUpdateSerializer
    filterset_class = DisbursementFilterSet
    write_scope = "pledges"

    def get_queryset(self):
        return selectors.disbursement_list(self.request.user).order_by("-date", "-id")

    def perform_create(self, data):
        return services.disbursement_record(acting_user=self.request.user, **data)

    def perform_update(self, disbursement, data, *, version):
        return services.disbursement_update(
            acting_user=self.request.user, disbursement=disbursement, version=version, **data
        )

    def perform_destroy(self, disbursement, *, version):
        services.disbursement_delete(acting_user=self.request.user, disbursement=disbursement, version=version)


@schema.crud_schema(
    "priority purchase",
    PrioritySerializer,
    PriorityUpdateSerializer,
    create_doc="The secretariat's list of what the coalition buys; without a rank it goes to the end.",
    delete_doc="Only a priority without allocations; otherwise drop it (POST .../transition/).",
)
class PriorityViewSet(CreateMixin, UpdateMixin, DestroyMixin, APIViewSet):
    """Priority purchases with what is allocated to them, their coverage and the unfunded gap."""

    fingerprint_models = (PriorityPurchase, Allocation, Pledge)

    serializer_class = PrioritySerializer
    update_serializer_class = PriorityUpdateSerializer
    action_serializers = {"transition": PriorityTransitionSerializer, "rerank": PriorityRerankSerializer}
    filterset_class = PriorityFilterSet
    write_scope = "manage"

    def get_queryset(self):
        return selectors.priority_list(self.request.user)

    def perform_create(self, data):
        return services.priority_create(acting_user=self.request.user, **data)

    def perform_update(self, priority, data, *, version):
        return services.priority_update(acting_user=self.request.user, priority=priority, version=version, **data)

    def perform_destroy(self, priority, *, version):
        services.priority_delete(acting_user=self.request.user, priority=priority, version=version)

    @extend_schema(
        summary="Move a priority along procurement, or drop it",
        request=PriorityTransitionSerializer,
        responses=schema.write_responses(PrioritySerializer),
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        priority = self.get_object()
        data = self.validated(require_version=True)
        priority = services.priority_transition(
            acting_user=request.user,
            priority=priority,
            to_status=data["status"],
            version=data["version"],
            meeting=data.get("meeting"),
        )
        return self.represent_response(priority)

    @extend_schema(
        summary="Renumber a coalition's active priorities",
        request=PriorityRerankSerializer,
        responses=schema.write_responses(PrioritySerializer(many=True), conflict=False),
    )
    @action(detail=False, methods=["post"])
    def rerank(self, request):
        data = self.validated()
        services.priority_rerank(acting_user=request.user, coalition=data["coalition"], ordered_ids=data["ordered_ids"])
        queryset = self.get_queryset().filter(coalition=data["coalition"], pk__in=data["ordered_ids"])
        return self.list_response(queryset)


@schema.crud_schema(
    "allocation",
    AllocationSerializer,
    AllocationUpdateSerializer,
    create_doc="Earmark part of a published pledge's EUR value for a priority of its coalition; the allocations "
    "of a pledge never add up to more than its EUR value. One allocation per pledge and priority: change it "
    "with PUT or PATCH.",
)
class AllocationViewSet(CreateMixin, UpdateMixin, DestroyMixin, APIViewSet):
    """Parts of pledges' EUR values earmarked for priority purchases."""

    fingerprint_models = (Allocation, PriorityPurchase, Pledge)

    serializer_class = AllocationSerializer
    update_serializer_class = AllocationUpdateSerializer
    filterset_class = AllocationFilterSet
    write_scope = "manage"

    def get_queryset(self):
        return selectors.allocation_list(self.request.user).order_by("priority__rank", "-amount_eur", "id")

    def perform_create(self, data):
        return services.allocation_set(acting_user=self.request.user, create_only=True, **data)

    def perform_update(self, allocation, data, *, version):
        return services.allocation_set(
            acting_user=self.request.user,
            pledge=allocation.pledge,
            priority=allocation.priority,
            amount_eur=data.get("amount_eur", allocation.amount_eur),
            note=data.get("note", allocation.note),
            version=version,
        )

    def perform_destroy(self, allocation, *, version):
        services.allocation_delete(acting_user=self.request.user, allocation=allocation, version=version)


@schema.crud_schema(
    "ECB reference rate",
    ExchangeRateSerializer,
    description="The ECB euro reference rates pledges are converted at (imported, never typed).",
)
class ExchangeRateViewSet(APIViewSet):
    """The ECB euro reference rates pledges are converted at (imported, never typed)."""

    serializer_class = ExchangeRateSerializer
    filterset_class = ExchangeRateFilterSet

    def get_queryset(self):
        return selectors.exchange_rate_list(self.request.user).order_by("-date", "currency")
