"""The API's meetings, decisions and action items: every endpoint × role through the generic mixins,
delegates' names and draft minutes kept from partners, and the secretariat's actions."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from contributions import services as contribution_services
from meetings import services
from meetings.models import ActionItem, Decision, Meeting
from tests.api_mixins import (
    APITestBase,
    CreateTests,
    DeleteTests,
    ResourceTests,
    UpdateTests,
    VersionTests,
    pytest_generate_tests,  # noqa: F401 - parametrizes reader / writer / forbidden
)

pytestmark = pytest.mark.django_db

FEB_2 = datetime(2024, 2, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def meeting(coalition, member_a, member_b):
    meeting = services.meeting_create(
        acting_user=None, coalition=coalition, title="First steering group meeting", starts_at=FEB_2, location="Tallinn"
    )
    services.attendance_set(
        acting_user=None, meeting=meeting, member=member_a, role="chair", status="present", delegates="Jane Doe, Deputy"
    )
    services.attendance_set(acting_user=None, meeting=meeting, member=member_b, status="apologies")
    services.agenda_item_add(acting_user=None, meeting=meeting, title="Priorities for 2024")
    services.meeting_update(acting_user=None, meeting=meeting, minutes="The group met in Tallinn.")
    return Meeting.objects.get(pk=meeting.pk)


def meeting_url(meeting, action=None):
    if action:
        return reverse(f"api:meeting-{action}", args=[meeting.pk])
    return reverse("api:meeting-detail", args=[meeting.pk])


class TestMeetings(ResourceTests, CreateTests, UpdateTests, VersionTests, DeleteTests):
    basename = "meeting"
    model = Meeting
    csv_columns = ("id", "coalition_slug", "coalition_name", "title", "starts_at", "attendance")

    @pytest.fixture
    def record(self, meeting):
        return meeting

    @pytest.fixture
    def create_body(self, coalition):
        return {"coalition": "test-coalition", "title": "Expert group on networks", "starts_at": "2024-04-16T07:00:00Z"}

    @pytest.fixture
    def update_body(self):
        return {"title": "First steering group meeting (Tallinn)", "location": "Tallinn, Estonia"}


class TestWhatPartnersSee(APITestBase):
    def test_partner_sees_attendance_without_delegates_and_no_draft_minutes(self, api, meeting):
        data = api("partner").get(meeting_url(meeting)).json()
        assert [row["member"] for row in data["attendance"]] == ["EE", "LU"]
        assert all("delegates" not in row for row in data["attendance"])
        assert data["minutes"] is None and data["minutes_status"] == "draft"
        assert "Jane Doe" not in api("partner").get(reverse("api:meeting-list"), {"format": "csv"}).content.decode()

    @pytest.mark.parametrize("persona", ["secretariat", "editor_a", "steering"])
    def test_the_coalitions_own_roles_see_delegates_and_draft_minutes(self, api, meeting, persona):
        data = api(persona).get(meeting_url(meeting)).json()
        assert data["attendance"][0]["delegates"] == "Jane Doe, Deputy"
        assert data["minutes"] == "The group met in Tallinn."

    def test_approved_minutes_are_published(self, api, meeting):
        services.meeting_mark_held(acting_user=None, meeting=meeting)
        meeting.refresh_from_db()
        services.meeting_update(acting_user=None, meeting=meeting, minutes_status="approved")
        assert api("partner").get(meeting_url(meeting)).json()["minutes"] == "The group met in Tallinn."

    def test_agenda(self, api, meeting):
        agenda = api("partner").get(meeting_url(meeting)).json()["agenda"]
        assert agenda == [{"order": 1, "title": "Priorities for 2024", "notes": "", "outcome": ""}]


class TestMeetingActions(APITestBase):
    def test_mark_held_then_approve_the_minutes(self, api, meeting):
        client = api("secretariat")
        held = client.post(meeting_url(meeting, "mark-held"), {"version": meeting.version}, format="json")
        assert held.status_code == 200, held.content
        assert held.json()["status"] == "held" and held.json()["held_at"]
        approved = client.patch(
            meeting_url(meeting), {"minutes_status": "approved", "version": held.json()["version"]}, format="json"
        )
        assert approved.json()["minutes_status"] == "approved"
        again = client.patch(
            meeting_url(meeting), {"minutes": "Rewritten", "version": approved.json()["version"]}, format="json"
        )
        assert again.status_code == 400
        assert "approved" in again.json()["minutes"][0]

    def test_a_future_meeting_cannot_be_marked_held(self, api, coalition):
        future = services.meeting_create(
            acting_user=None, coalition=coalition, title="Later", starts_at=datetime(2099, 1, 1, tzinfo=UTC)
        )
        response = api("secretariat").post(meeting_url(future, "mark-held"), {"version": 1}, format="json")
        assert response.status_code == 400
        assert "before it starts" in response.json()["status"][0]

    def test_cancel(self, api, coalition):
        planned = services.meeting_create(acting_user=None, coalition=coalition, title="Later", starts_at=FEB_2)
        response = api("secretariat").post(meeting_url(planned, "cancel"), {"version": 1}, format="json")
        assert response.json()["status"] == "cancelled"

    def test_attendance_and_agenda(self, api, meeting, member_b):
        client = api("secretariat")
        response = client.post(
            meeting_url(meeting, "attendance"),
            {"member": "LU", "status": "present", "delegates": "John Roe"},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert response.json()["attendance"][1] == {
            "member": "LU",
            "member_name": "Luxembourg",
            "role": "participant",
            "status": "present",
            "delegates": "John Roe",
        }
        response = client.post(meeting_url(meeting, "agenda-items"), {"title": "Next steps"}, format="json")
        assert [item["order"] for item in response.json()["agenda"]] == [1, 2]

    def test_attendance_of_a_member_outside_the_coalition(self, api, meeting, other_coalition):
        response = api("secretariat").post(meeting_url(meeting, "attendance"), {"member": "XX"}, format="json")
        assert response.status_code == 400
        assert response.json()["member"] == ["Unknown member code XX."]

    def test_partner_cannot_act(self, api, meeting):
        assert api("partner").post(meeting_url(meeting, "cancel"), {"version": 1}, format="json").status_code == 403

    def test_a_held_meeting_cannot_be_deleted(self, api, meeting):
        services.meeting_mark_held(acting_user=None, meeting=meeting)
        response = api("secretariat").delete(meeting_url(meeting))
        assert response.status_code == 400
        assert "record" in response.json()["non_field_errors"][0]

    def test_meetings_of_other_coalitions_are_404(self, api, other_coalition):
        elsewhere = services.meeting_create(acting_user=None, coalition=other_coalition, title="X", starts_at=FEB_2)
        assert api("secretariat").get(meeting_url(elsewhere)).status_code == 404
        assert api("secretariat").patch(meeting_url(elsewhere), {"title": "Y", "version": 1}).status_code == 404

    def test_creating_in_a_coalition_one_does_not_serve(self, api, other_coalition):
        body = {"coalition": "other-coalition", "title": "X", "starts_at": "2024-04-16T07:00:00Z"}
        response = api("secretariat").post(reverse("api:meeting-list"), body, format="json")
        assert response.status_code == 400
        assert response.json()["coalition"] == ["Unknown coalition slug other-coalition."]


class TestDecisions(ResourceTests, CreateTests, UpdateTests, DeleteTests):
    basename = "decision"
    model = Decision
    versioned = False
    csv_columns = ("meeting_id", "meeting_title", "coalition_slug", "coalition_name", "text", "pledges")

    @pytest.fixture
    def record(self, meeting, pledge_b):
        decision = services.decision_record(acting_user=None, meeting=meeting, text="Confirm Luxembourg's pledge.")
        contribution_services.decision_link(acting_user=None, decision=decision, pledges=[pledge_b])
        return decision

    @pytest.fixture
    def create_body(self, meeting, pledge_b):
        return {
            "meeting": meeting.pk,
            "text": "The group set its priorities.",
            "kind": "other",
            "pledges": [pledge_b.pk],
        }

    @pytest.fixture
    def update_body(self):
        return {"text": "The group confirmed Luxembourg's pledge."}

    def test_created_decision_links_its_pledges(self, api, create_body, pledge_b):
        response = api("secretariat").post(self.list_url(), create_body, format="json")
        assert response.json()["pledges"] == [pledge_b.pk]
        assert list(Decision.objects.get(pk=response.json()["id"]).pledges.all()) == [pledge_b]

    def test_partner_does_not_see_draft_pledges_in_a_decision(self, api, record, coalition, member_a):
        from tests import factories

        draft = factories.make_pledge(coalition=coalition, member=member_a, status="draft")
        contribution_services.decision_link(acting_user=None, decision=record, pledges=[draft])
        assert draft.pk not in api("partner").get(self.detail_url(record)).json()["pledges"]
        assert draft.pk in api("secretariat").get(self.detail_url(record)).json()["pledges"]

    def test_empty_text_is_refused(self, api, record):
        response = api("secretariat").patch(self.detail_url(record), {"text": "   "}, format="json")
        assert response.status_code == 400
        assert list(response.json()) == ["text"]


class TestActionItems(ResourceTests, CreateTests, UpdateTests, VersionTests, DeleteTests):
    basename = "action-item"
    model = ActionItem
    csv_columns = ("meeting_id", "meeting_title", "coalition_slug", "owner_code", "owner_name", "text")

    @pytest.fixture
    def record(self, meeting, member_a):
        return services.action_item_add(
            acting_user=None, meeting=meeting, text="Draft the procurement roadmap", owner=member_a
        )

    @pytest.fixture
    def create_body(self, meeting):
        return {"meeting": meeting.pk, "text": "Set up four expert groups", "owner": "LU", "due_on": "2024-04-16"}

    @pytest.fixture
    def update_body(self):
        return {"status": "done"}

    def test_an_owner_outside_the_coalition_is_refused(self, api, record, other_coalition):
        from tests import factories

        factories.MembershipFactory(member=factories.MemberFactory(code="PL", name="Poland"), coalition=other_coalition)
        response = api("secretariat").patch(self.detail_url(record), {"owner": "PL", "version": 1}, format="json")
        assert response.status_code == 400
        assert response.json()["owner"] == ["Unknown member code PL."]

    def test_filter_by_owner_and_status(self, api, record):
        response = api("partner").get(self.list_url(), {"owner": "EE", "status": "open"})
        assert [row["id"] for row in response.json()["results"]] == [record.pk]
        assert api("partner").get(self.list_url(), {"status": "done"}).json()["results"] == []
