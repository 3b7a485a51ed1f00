"""Each record people edit declares its editable fields once (``Model.editable_fields``): its update
service accepts exactly those, and its form, its API update serializer and its admin show them."""

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from coalition.api.serializers import CoalitionUpdateSerializer, MemberUpdateSerializer
from coalition.models import Coalition, Member
from contributions.api.decisions import DecisionUpdateSerializer
from contributions.api.serializers import (
    AllocationUpdateSerializer,
    DisbursementUpdateSerializer,
    PledgeUpdateSerializer,
    PriorityUpdateSerializer,
)
from contributions.models import Allocation, Disbursement, Pledge, PriorityPurchase
from contributions.pledge_forms import AllocationForm, DisbursementForm, PledgeEditForm
from contributions.priority_forms import PriorityEditForm
from meetings.api.serializers import ActionItemUpdateSerializer, MeetingUpdateSerializer
from meetings.forms import MeetingEditForm
from meetings.models import ActionItem, Decision, Meeting

#: model -> (update serializer, the fields it declares besides the model's: version and fixed ones)
SERIALIZERS = {
    Coalition: (CoalitionUpdateSerializer, {"version"}),
    Member: (MemberUpdateSerializer, set()),
    Pledge: (PledgeUpdateSerializer, {"coalition", "member", "status", "version"}),
    Disbursement: (DisbursementUpdateSerializer, {"pledge", "version"}),
    PriorityPurchase: (PriorityUpdateSerializer, {"coalition", "rank", "status", "version"}),
    Allocation: (AllocationUpdateSerializer, {"pledge", "priority", "version"}),
    Meeting: (MeetingUpdateSerializer, {"version"}),
    Decision: (DecisionUpdateSerializer, set()),
    ActionItem: (ActionItemUpdateSerializer, {"version"}),
}
#: model -> (form, the fields it has besides the model's)
FORMS = {
    Pledge: (PledgeEditForm, {"version"}),
    Disbursement: (DisbursementForm, set()),
    PriorityPurchase: (PriorityEditForm, {"version"}),
    Allocation: (AllocationForm, {"priority"}),
    Meeting: (MeetingEditForm, {"version"}),
}


@pytest.mark.parametrize("model", list(SERIALIZERS), ids=lambda m: m.__name__)
def test_the_update_serializer_reads_the_declaration(model, rf):
    serializer, extra = SERIALIZERS[model]
    request = rf.patch("/")
    request.user = None
    fields = set(serializer(context={"request": request}).fields)
    assert fields - extra == set(model.editable_fields)


@pytest.mark.parametrize("model", list(FORMS), ids=lambda m: m.__name__)
def test_the_form_reads_the_declaration(model):
    form, extra = FORMS[model]
    assert set(form.base_fields) - extra == set(model.editable_fields)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "model", [Coalition, Member, Pledge, Disbursement, PriorityPurchase, Meeting], ids=lambda m: m.__name__
)
def test_the_admin_shows_the_declaration(model, admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    instance = model()
    instance.pk = 1
    shown = set(admin.site._registry[model].get_fields(request, instance))
    assert set(model.editable_fields) <= shown


SERVICES = {
    Pledge: ("contributions.services", "pledge_update", "pledge", "status"),
    PriorityPurchase: ("contributions.services", "priority_update", "priority", "rank"),
    Disbursement: ("contributions.services", "disbursement_update", "disbursement", "pledge"),
    Meeting: ("meetings.services", "meeting_update", "meeting", "status"),
    ActionItem: ("meetings.services", "action_item_update", "action_item", "meeting"),
    Decision: ("meetings.services", "decision_update", "decision", "meeting"),
    Coalition: ("coalition.services", "coalition_update", "coalition", "slug"),
    Member: ("coalition.services", "member_update", "member", "code"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("model", list(SERVICES), ids=lambda m: m.__name__)
def test_the_update_service_refuses_what_is_not_declared(model):
    from importlib import import_module

    module, name, argument, outside = SERVICES[model]
    service = getattr(import_module(module), name)
    assert outside not in model.editable_fields
    with pytest.raises(ValidationError) as excinfo:
        service(acting_user=None, **{argument: model(), outside: "x"})
    assert excinfo.value.message_dict == {outside: ["This field cannot be changed here."]}
