"""Coalitions and members: read by every role in the coalition; written by the secretariat
(members, a coalition's description and target) and administrators (new coalitions)."""

from coalition import services
from coalition.api import schema
from coalition.api.serializers import (
    CoalitionSerializer,
    CoalitionUpdateSerializer,
    MemberSerializer,
    MemberUpdateSerializer,
    with_visible_memberships,
)
from coalition.api.viewsets import APIViewSet, CreateMixin, UpdateMixin
from coalition.filtersets import CoalitionFilterSet, MemberFilterSet
from coalition.models import Coalition, Member


@schema.crud_schema(
    "coalition",
    CoalitionSerializer,
    CoalitionUpdateSerializer,
    description="The coalitions you work in.",
    create_doc="Administrators only.",
)
class CoalitionViewSet(CreateMixin, UpdateMixin, APIViewSet):
    """Coalitions, by slug: read by every role in them; changed by their secretariat."""

    fingerprint_models = (Coalition,)

    serializer_class = CoalitionSerializer
    update_serializer_class = CoalitionUpdateSerializer
    filterset_class = CoalitionFilterSet
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    write_scope = "manage"

    def get_queryset(self):
        return Coalition.objects.visible_to(self.request.user).order_by("name", "pk")

    def perform_create(self, data):
        return services.coalition_create(acting_user=self.request.user, **data)

    def perform_update(self, coalition, data, *, version):
        return services.coalition_update(acting_user=self.request.user, coalition=coalition, version=version, **data)


@schema.crud_schema(
    "member",
    MemberSerializer,
    MemberUpdateSerializer,
    description="Countries and organisations seated in your coalitions, with their seats there (by code).",
    create_doc="The secretariat registers a member and seats it in one of its coalitions.",
    conflict=False,
)
class MemberViewSet(CreateMixin, UpdateMixin, APIViewSet):
    """Countries and organisations, by code, with their seats in your coalitions."""

    serializer_class = MemberSerializer
    update_serializer_class = MemberUpdateSerializer
    filterset_class = MemberFilterSet
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9]+"
    write_scope = "manage"

    def get_queryset(self):
        user = self.request.user
        return with_visible_memberships(user, Member.objects.visible_to(user).order_by("code"))

    def get_object(self):
        self.kwargs["code"] = str(self.kwargs.get("code", "")).upper()
        return super().get_object()

    def perform_create(self, data):
        return services.member_register(acting_user=self.request.user, **data)

    def perform_update(self, member, data, *, version):
        return services.member_update(acting_user=self.request.user, member=member, **data)
