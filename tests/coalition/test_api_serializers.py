"""The API serializers write their output by hand (lists are the hot path); here each hand-written
``to_representation`` is held to the fields its class declares for the schema: the same keys, in the
same order, and for every field DRF can read by itself, the same value DRF would write."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.test import APIRequestFactory

from coalition.api.serializers import CoalitionSerializer, MemberSerializer, with_visible_memberships
from coalition.models import Coalition, Member
from contributions import selectors
from contributions import services as contribution_services
from contributions.api.decisions import DecisionSerializer
from contributions.api.serializers import (
    AllocationSerializer,
    DisbursementSerializer,
    ExchangeRateSerializer,
    PledgeSerializer,
    PrioritySerializer,
)
from contributions.models import ExchangeRate
from meetings import selectors as meeting_selectors
from meetings import services as meeting_services
from meetings.api.serializers import ActionItemSerializer, MeetingSerializer
from tests import factories

pytestmark = pytest.mark.django_db


def drf_value(field, instance):
    """What DRF's own machinery writes for ``field`` of ``instance``, or SkipField when the value is
    computed (no attribute of that name)."""
    try:
        attribute = field.get_attribute(instance)
    except (AttributeError, KeyError, SkipField) as exc:
        raise SkipField from exc
    return None if attribute is None else field.to_representation(attribute)


def check(serializer_class, instance, user):
    request = APIRequestFactory().get("/")
    request.user = user
    serializer = serializer_class(context={"request": request})
    readable = [name for name, field in serializer.fields.items() if not field.write_only]
    output = serializer.to_representation(instance)
    assert list(output) == readable
    compared = 0
    for name in readable:
        field = serializer.fields[name]
        if isinstance(field, serializers.ListSerializer | serializers.ManyRelatedField):
            continue
        try:
            expected = drf_value(field, instance)
        except SkipField:
            continue
        assert output[name] == expected, name
        compared += 1
    return compared


@pytest.fixture
def world(coalition, member_a, member_b, secretariat, rates):
    meeting = meeting_services.meeting_create(
        acting_user=None, coalition=coalition, title="Steering", starts_at=datetime(2024, 2, 2, 8, 30, tzinfo=UTC)
    )
    meeting_services.attendance_set(acting_user=None, meeting=meeting, member=member_a, delegates="Jane Doe")
    pledge = factories.make_pledge(
        coalition=coalition,
        member=member_a,
        amount=Decimal("1234567.89"),
        currency="JPY",
        status="confirmed",
        confirmed_at_meeting=meeting,
        external_ref="X-1",
    )
    contribution_services.disbursement_record(
        acting_user=None, pledge=pledge, amount=Decimal("100.00"), date=date(2024, 3, 1)
    )
    priority = contribution_services.priority_create(
        acting_user=None, coalition=coalition, title="Servers", estimated_cost_eur=Decimal("3000.00")
    )
    contribution_services.allocation_set(acting_user=None, pledge=pledge, priority=priority, amount_eur=Decimal("1000"))
    decision = meeting_services.decision_record(acting_user=None, meeting=meeting, text="Confirmed.")
    contribution_services.decision_link(acting_user=None, decision=decision, pledges=[pledge])
    meeting_services.action_item_add(acting_user=None, meeting=meeting, text="Roadmap", owner=member_a)
    return secretariat


def test_pledge(world):
    pledge = selectors.pledge_list(world).get()
    assert check(PledgeSerializer, pledge, world) >= 20


def test_disbursement(world):
    assert check(DisbursementSerializer, selectors.disbursement_list(world).get(), world) >= 7


def test_priority(world):
    priority = selectors.priority_list(world).get()
    priority.coverage = selectors.coverage(priority.allocated_eur, priority.estimated_cost_eur)
    assert check(PrioritySerializer, priority, world) >= 14


def test_allocation(world):
    assert check(AllocationSerializer, selectors.allocation_list(world).get(), world) >= 7


def test_exchange_rate(world):
    assert check(ExchangeRateSerializer, ExchangeRate.objects.get(currency="JPY", date=date(2024, 2, 2)), world) == 5


def test_coalition(world):
    assert check(CoalitionSerializer, Coalition.objects.get(slug="test-coalition"), world) == 9


def test_member(world):
    member = with_visible_memberships(world, Member.objects.filter(code="EE")).get()
    assert check(MemberSerializer, member, world) == 4


def test_meeting(world):
    meeting = meeting_selectors.meeting_list(world).prefetch_related("attendances__member", "agenda_items").get()
    assert check(MeetingSerializer, meeting, world) >= 12


def test_decision(world):
    from django.db.models import Prefetch

    from contributions.models import Pledge

    decision = (
        meeting_selectors.decision_list(world)
        .prefetch_related(Prefetch("pledges", Pledge.objects.visible_to(world), to_attr="visible_pledges"))
        .get()
    )
    assert check(DecisionSerializer, decision, world) >= 4


def test_action_item(world):
    assert check(ActionItemSerializer, meeting_selectors.action_item_list(world).get(), world) >= 6
