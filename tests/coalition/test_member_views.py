"""The member profile page: who may open it, what it shows (visible pledges, totals by status,
meetings attended, open action items owned), and its pinned query count."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from meetings import services as meeting_services
from tests import factories

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def profile_data(coalition, member_a, member_b, rates):
    """Member A: one announced USD pledge, one confirmed EUR pledge, one draft; a meeting attended; one
    open and one done action item."""
    factories.make_pledge(
        coalition=coalition, member=member_a, title="Announced servers", amount=Decimal("1088300.00"), currency="USD"
    )
    factories.make_pledge(
        coalition=coalition,
        member=member_a,
        title="Confirmed laptops",
        amount=Decimal("2000000.00"),
        status="confirmed",
    )
    factories.make_pledge(coalition=coalition, member=member_a, title="Draft idea", status="draft")
    meeting = meeting_services.meeting_create(
        acting_user=None,
        coalition=coalition,
        title="First steering group",
        starts_at=datetime(2024, 2, 2, 8, tzinfo=UTC),
    )
    meeting_services.attendance_set(acting_user=None, meeting=meeting, member=member_a, status="present")
    skipped = meeting_services.meeting_create(
        acting_user=None, coalition=coalition, title="Skipped meeting", starts_at=datetime(2024, 3, 2, 8, tzinfo=UTC)
    )
    meeting_services.attendance_set(acting_user=None, meeting=skipped, member=member_a, status="apologies")
    meeting_services.action_item_add(acting_user=None, meeting=meeting, text="Write the roadmap", owner=member_a)
    done = meeting_services.action_item_add(acting_user=None, meeting=meeting, text="Book the room", owner=member_a)
    meeting_services.action_item_update(acting_user=None, action_item=done, status="done")
    return meeting


def test_anonymous_is_sent_to_sign_in(client, member_a):
    response = client.get(reverse("member_detail", args=["EE"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_user_without_a_role_gets_not_found(client, outsider, member_a):
    assert login(client, outsider).get(reverse("member_detail", args=["EE"])).status_code == 404


def test_member_outside_the_users_coalitions_is_not_found(client, steering, other_coalition):
    stranger = factories.MemberFactory(code="JP", name="Japan")
    factories.MembershipFactory(member=stranger, coalition=other_coalition)
    assert login(client, steering).get(reverse("member_detail", args=["JP"])).status_code == 404


@pytest.mark.parametrize("persona", ["secretariat", "editor_a", "editor_b", "steering", "partner"])
def test_profile_shows_pledges_totals_meetings_and_open_items(client, personas, profile_data, persona):
    response = login(client, personas[persona]).get(reverse("member_detail", args=["ee"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Estonia" in html
    assert "Announced servers" in html and "Confirmed laptops" in html
    totals = response.context["totals"]
    assert totals["confirmed"] == Decimal("2000000.00")
    assert totals["announced"] == Decimal("1000000.00")  # 1,088,300 USD at 1.0883
    assert totals["total"] == Decimal("3000000.00")
    assert [a.meeting.title for a in response.context["attended"]] == ["First steering group"]
    assert [i.text for i in response.context["open_items"]] == ["Write the roadmap"]
    assert "3,000,000.00" in html


@pytest.mark.parametrize(
    ("persona", "sees_draft"), [("editor_a", True), ("secretariat", True), ("editor_b", False), ("steering", False)]
)
def test_drafts_only_for_the_members_editors_and_the_secretariat(client, personas, profile_data, persona, sees_draft):
    response = login(client, personas[persona]).get(reverse("member_detail", args=["EE"]))
    assert ("Draft idea" in response.content.decode()) is sees_draft
    draft_row = next(row for row in response.context["status_rows"] if row["status"] == "draft")
    assert draft_row["count"] == (1 if sees_draft else 0)


def test_pledges_in_another_coalition_stay_hidden(client, steering, member_a, other_coalition, rates):
    factories.MembershipFactory(member=member_a, coalition=other_coalition)
    factories.make_pledge(coalition=other_coalition, member=member_a, title="Other coalition's pledge")
    html = login(client, steering).get(reverse("member_detail", args=["EE"])).content.decode()
    assert "Other coalition" not in html


#: Pinned: session, user, seats, member, then by-status, count, page, attended, open items, seats
#: (12 before seats, which read the roles in one query instead of three).
PROFILE_QUERIES = 10


def test_query_count_is_pinned_and_independent_of_rows(client, steering, coalition, member_a, rates):
    def add(n, offset):
        for i in range(n):
            factories.make_pledge(coalition=coalition, member=member_a, title=f"Pledge {offset + i}")
            meeting = meeting_services.meeting_create(
                acting_user=None,
                coalition=coalition,
                title=f"Meeting {offset + i}",
                starts_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=offset + i),
            )
            meeting_services.attendance_set(acting_user=None, meeting=meeting, member=member_a, status="present")
            meeting_services.action_item_add(acting_user=None, meeting=meeting, text="Do it", owner=member_a)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("member_detail", args=["EE"])).status_code == 200
        return len(queries)

    add(1, 0)
    login(client, steering)
    one = count()
    add(19, 1)
    assert one == count() == PROFILE_QUERIES
