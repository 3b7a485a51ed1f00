"""The meeting pages, checked for every persona by the generic page tests (tests/view_mixins.py) from
the role × action table the API tests share."""

from datetime import timedelta

import pytest
from django.utils import timezone

from meetings import services
from meetings.models import Meeting
from tests.view_mixins import (
    CreateViewTests,
    DetailViewTests,
    EditViewTests,
    ListViewTests,
    TransitionViewTests,
    pytest_generate_tests,  # noqa: F401 - parametrizes the personas from the table
)

pytestmark = pytest.mark.django_db


class TestMeetingPages(ListViewTests, DetailViewTests, CreateViewTests, EditViewTests, TransitionViewTests):
    object_type = "meeting"
    list_url_name = "meetings:list"
    detail_url_name = "meetings:detail"
    create_url_name = "meetings:create"
    edit_url_name = "meetings:edit"
    transition_url_name = "meetings:mark_held"

    @pytest.fixture
    def record(self, coalition):
        return services.meeting_create(
            acting_user=None,
            coalition=coalition,
            title="First steering group meeting",
            starts_at=timezone.now() - timedelta(hours=2),
        )

    @pytest.fixture
    def create_data(self, coalition):
        return {
            "coalition": coalition.pk,
            "title": "Expert group on networks",
            "kind": "expert_group",
            "starts_at": "2024-04-16T09:00",
        }

    def created(self, data):
        return Meeting.objects.filter(title=data["title"])

    @pytest.fixture
    def edit_data(self, record):
        starts = timezone.localtime(record.starts_at).strftime("%Y-%m-%dT%H:%M")
        return {
            "title": record.title,
            "kind": record.kind,
            "starts_at": starts,
            "location": "Tallinn",
            "minutes_status": "draft",
            "version": record.version,
        }

    def changed(self, record):
        return record.location == "Tallinn"

    @pytest.fixture
    def transition_data(self, record):
        return {"version": record.version}

    def transitioned(self, record):
        return record.status == Meeting.Status.HELD
