"""Decisions of meetings over the API, with the pledges and priorities they concern: the resource joins
meetings (below) and contributions, so it lives here, above both. Read by every role of the
coalition (pledges only those the reader may see), written by its secretariat."""

from django.db.models import Prefetch
from rest_framework import serializers

from coalition.api import schema
from coalition.api.serializers import (
    APISerializer,
    EditableFieldsMixin,
    UTCDateTimeField,
    VisibleRecordField,
    iso_datetime,
)
from coalition.api.viewsets import APIViewSet, CreateMixin, DestroyMixin, UpdateMixin
from contributions.models import Pledge, PriorityPurchase
from contributions.services import decision_link
from meetings import selectors, services
from meetings.api.serializers import COALITION_OF_MEETING, MEETING_COLUMNS, meeting_field
from meetings.filtersets import DecisionFilterSet
from meetings.models import Decision


class DecisionSerializer(APISerializer):
    """A decision of a meeting, with the pledges and priorities it concerns."""

    id = serializers.IntegerField(read_only=True)
    meeting = meeting_field(help_text="Id of the meeting that decided.")
    coalition = serializers.CharField(read_only=True, help_text="The meeting's coalition (slug).")
    text = serializers.CharField()
    kind = serializers.ChoiceField(choices=Decision.Kind.choices, required=False)
    pledges = VisibleRecordField(
        queryset=Pledge.objects.all(),
        many=True,
        required=False,
        help_text="Ids of the pledges it concerns (only those you may see are listed).",
    )
    priorities = VisibleRecordField(
        queryset=PriorityPurchase.objects.all(),
        many=True,
        required=False,
        help_text="Ids of the priority purchases it concerns.",
    )
    created_at = UTCDateTimeField(read_only=True)

    class Meta:
        csv_expand = {"meeting": MEETING_COLUMNS, "coalition": COALITION_OF_MEETING}

    def to_representation(self, d):
        return {
            "id": d.pk,
            "meeting": d.meeting_id,
            "coalition": d.meeting.coalition.slug,
            "text": d.text,
            "kind": d.kind,
            "pledges": [p.pk for p in d.visible_pledges],
            "priorities": [p.pk for p in d.priorities.all()],
            "created_at": iso_datetime(d.created_at),
        }

    def csv_row(self, instance, data):
        row = super().csv_row(instance, data)
        row["pledges"] = " ".join(str(pk) for pk in data["pledges"])
        row["priorities"] = " ".join(str(pk) for pk in data["priorities"])
        return row


class DecisionUpdateSerializer(EditableFieldsMixin, APISerializer):
    """A correction to a decision's wording or kind."""

    class Meta:
        model = Decision


@schema.crud_schema(
    "decision",
    DecisionSerializer,
    DecisionUpdateSerializer,
    description="What the coalition's meetings decided, with the pledges and priorities concerned.",
    create_doc="Records the decision and links the pledges and priorities it concerns (of the same coalition).",
    conflict=False,
)
class DecisionViewSet(CreateMixin, UpdateMixin, DestroyMixin, APIViewSet):
    """Decisions of meetings, with the pledges and priorities they concern."""

    serializer_class = DecisionSerializer
    update_serializer_class = DecisionUpdateSerializer
    filterset_class = DecisionFilterSet
    write_scope = "manage"

    def get_queryset(self):
        user = self.request.user
        return (
            selectors.decision_list(user)
            .prefetch_related(
                Prefetch("pledges", queryset=Pledge.objects.visible_to(user).only("id"), to_attr="visible_pledges"),
                "priorities",
            )
            .order_by("meeting__starts_at", "id")
        )

    def perform_create(self, data):
        user = self.request.user
        pledges, priorities = data.pop("pledges", []), data.pop("priorities", [])
        decision = services.decision_record(acting_user=user, **data)
        if pledges or priorities:
            decision_link(acting_user=user, decision=decision, pledges=pledges, priorities=priorities)
        return decision

    def perform_update(self, decision, data, *, version):
        return services.decision_update(acting_user=self.request.user, decision=decision, **data)

    def perform_destroy(self, decision, *, version):
        services.decision_delete(acting_user=self.request.user, decision=decision)
