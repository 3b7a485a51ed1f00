"""The pledge, priority, disbursement, allocation and decision pages, checked for every persona by the
generic page tests (tests/view_mixins.py) from the role × action table the API tests share."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from contributions import services
from contributions.models import Allocation, Disbursement, Pledge, PriorityPurchase
from meetings import services as meeting_services
from meetings.models import Decision
from tests.view_mixins import (
    CreateViewTests,
    DeleteViewTests,
    DetailViewTests,
    EditViewTests,
    ListViewTests,
    TransitionViewTests,
    pytest_generate_tests,  # noqa: F401 - parametrizes the personas from the table
)

pytestmark = pytest.mark.django_db


class TestPledgePages(
    ListViewTests, DetailViewTests, CreateViewTests, EditViewTests, DeleteViewTests, TransitionViewTests
):
    object_type = "pledge"
    list_url_name = "pledges:list"
    detail_url_name = "pledges:detail"
    create_url_name = "pledges:create"
    edit_url_name = "pledges:edit"
    delete_url_name = "pledges:delete"
    transition_url_name = "pledges:transition"

    @pytest.fixture
    def record(self, pledge_a):
        return pledge_a

    @pytest.fixture
    def create_data(self, coalition, member_a):
        return {
            "coalition": coalition.pk,
            "member": member_a.pk,
            "title": "Page-made pledge",
            "kind": "financial",
            "channel": "bilateral",
            "amount": "1000.00",
            "currency": "EUR",
            "announced_on": "2024-02-02",
            "status": "announced",
        }

    def created(self, data):
        return Pledge.objects.filter(title=data["title"], member_id=data["member"])

    @pytest.fixture
    def edit_data(self, record):
        return {
            "title": "Changed on the page",
            "kind": record.kind,
            "channel": record.channel,
            "amount": str(record.amount),
            "currency": record.currency,
            "announced_on": record.announced_on.isoformat(),
            "version": record.version,
        }

    def changed(self, record):
        return record.title == "Changed on the page"

    transition_confirms = True

    @pytest.fixture
    def transition_data(self, record):
        return {"to": "withdrawn", "version": record.version}

    def transitioned(self, record):
        return record.status == Pledge.Status.WITHDRAWN


class TestPriorityPages(ListViewTests, DetailViewTests, CreateViewTests, EditViewTests, TransitionViewTests):
    object_type = "priority"
    list_url_name = "priorities:list"
    detail_url_name = "priorities:detail"
    create_url_name = "priorities:create"
    edit_url_name = "priorities:edit"
    transition_url_name = "priorities:transition"

    @pytest.fixture
    def record(self, coalition):
        return services.priority_create(
            acting_user=None, coalition=coalition, title="Servers", estimated_cost_eur=Decimal("1000.00")
        )

    @pytest.fixture
    def create_data(self, coalition):
        return {"coalition": coalition.pk, "title": "Firewalls", "estimated_cost_eur": "2000.00", "status": "proposed"}

    def created(self, data):
        return PriorityPurchase.objects.filter(title=data["title"])

    @pytest.fixture
    def edit_data(self, record):
        return {"title": "Servers and storage", "estimated_cost_eur": "1500.00", "version": record.version}

    def changed(self, record):
        return record.title == "Servers and storage"

    @pytest.fixture
    def transition_data(self, record):
        return {"to_status": "approved", "version": record.version}

    def transitioned(self, record):
        return record.status == PriorityPurchase.Status.APPROVED


class TestDisbursementPages(CreateViewTests):
    object_type = "disbursement"

    @pytest.fixture
    def record(self, coalition, member_a, rates):
        from tests import factories

        return factories.make_pledge(coalition=coalition, member=member_a, status="confirmed", title="Paid")

    def create_url(self, record):
        return reverse("pledges:disbursement_create", args=[record.pk])

    @pytest.fixture
    def create_data(self):
        return {"amount": "100.00", "date": "2024-03-01", "reference": "TX-PAGE"}

    def created(self, data):
        return Disbursement.objects.filter(reference=data["reference"])


class TestAllocationPages(CreateViewTests):
    object_type = "allocation"

    @pytest.fixture
    def record(self, pledge_a):
        return pledge_a

    def create_url(self, record):
        return reverse("pledges:allocation_create", args=[record.pk])

    @pytest.fixture
    def create_data(self, coalition):
        priority = services.priority_create(
            acting_user=None, coalition=coalition, title="Laptops", estimated_cost_eur=Decimal("5000.00")
        )
        return {"priority": priority.pk, "amount_eur": "100.00", "note": "page"}

    def created(self, data):
        return Allocation.objects.filter(priority_id=data["priority"], note="page")


class TestDecisionPages(CreateViewTests):
    object_type = "decision"

    @pytest.fixture
    def record(self, coalition):
        return meeting_services.meeting_create(
            acting_user=None, coalition=coalition, title="Steering group", starts_at=timezone.now() - timedelta(days=1)
        )

    def create_url(self, record):
        return reverse("decisions:create", args=[record.pk])

    @pytest.fixture
    def create_data(self, pledge_a):
        return {"text": "Estonia's pledge is welcome.", "kind": "other", "pledges": [pledge_a.pk]}

    def created(self, data):
        return Decision.objects.filter(text=data["text"])
