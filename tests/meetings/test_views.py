"""The meeting pages: every page × role, what each role sees (delegates, draft minutes), the
secretariat's forms, open action items carried to later meetings, and pinned query counts."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contributions import services as contribution_services
from meetings import services
from meetings.models import ActionItem, AgendaItem, Attendance, Decision, Meeting
from tests import factories

pytestmark = pytest.mark.django_db

FEB_2 = datetime(2024, 2, 2, 8, 0, tzinfo=UTC)


def make_meeting(coalition, title="First steering group meeting", starts_at=FEB_2, **extra):
    return services.meeting_create(acting_user=None, coalition=coalition, title=title, starts_at=starts_at, **extra)


@pytest.fixture
def meeting(coalition, member_a, member_b):
    meeting = make_meeting(coalition, location="Tallinn")
    services.attendance_set(
        acting_user=None, meeting=meeting, member=member_a, role="chair", status="present", delegates="Jane Doe, Deputy"
    )
    services.attendance_set(acting_user=None, meeting=meeting, member=member_b, status="apologies")
    services.agenda_item_add(acting_user=None, meeting=meeting, title="Priorities for 2024")
    services.decision_record(acting_user=None, meeting=meeting, text="The group set its priorities.")
    services.action_item_add(acting_user=None, meeting=meeting, text="Draft the procurement roadmap", owner=member_a)
    return meeting


@pytest.fixture
def other_meeting(other_coalition):
    return make_meeting(other_coalition, title="Somebody else's meeting")


def login(client, user):
    client.force_login(user)
    return client


# --- Who may see what -----------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, meeting):
    for url in (
        reverse("meetings:list"),
        reverse("meetings:detail", args=[meeting.pk]),
        reverse("meetings:ics", args=[meeting.pk]),
        reverse("coalition_calendar", args=["test-coalition"]),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))


def test_user_without_a_role_is_refused(client, outsider, meeting):
    login(client, outsider)
    assert client.get(reverse("meetings:list")).status_code == 403
    assert client.get(reverse("meetings:detail", args=[meeting.pk])).status_code == 404
    assert client.get(reverse("meetings:ics", args=[meeting.pk])).status_code == 404


@pytest.mark.parametrize("persona", ["secretariat", "editor_a", "editor_b", "steering", "partner"])
def test_coalition_roles_see_the_list_and_the_meeting(client, personas, meeting, persona):
    login(client, personas[persona])
    assert "First steering group meeting" in client.get(reverse("meetings:list")).content.decode()
    html = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert "Priorities for 2024" in html
    assert "The group set its priorities." in html
    assert "Draft the procurement roadmap" in html


def test_meetings_of_another_coalition_are_hidden(client, steering, meeting, other_meeting):
    login(client, steering)
    assert "Somebody else" not in client.get(reverse("meetings:list")).content.decode()
    assert client.get(reverse("meetings:detail", args=[other_meeting.pk])).status_code == 404
    assert client.get(reverse("coalition_calendar", args=["other-coalition"])).status_code == 404


@pytest.mark.parametrize("persona", ["secretariat", "editor_a", "steering"])
def test_delegates_are_shown_inside_the_coalition(client, personas, meeting, persona):
    html = login(client, personas[persona]).get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert "Jane Doe, Deputy" in html


def test_delegates_are_not_shown_to_partners(client, partner, meeting):
    html = login(client, partner).get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert "Jane Doe" not in html
    assert "Estonia" in html  # the attendance itself is not personal data


def test_draft_minutes_are_internal_approved_minutes_are_published(client, partner, steering, meeting):
    services.meeting_update(acting_user=None, meeting=meeting, minutes="We met and agreed.")
    url = reverse("meetings:detail", args=[meeting.pk])
    assert "We met and agreed." in login(client, steering).get(url).content.decode()
    assert "We met and agreed." not in login(client, partner).get(url).content.decode()
    services.meeting_mark_held(acting_user=None, meeting=meeting)
    services.meeting_update(acting_user=None, meeting=Meeting.objects.get(pk=meeting.pk), minutes_status="approved")
    assert "We met and agreed." in login(client, partner).get(url).content.decode()


def test_history_is_internal(client, partner, steering, meeting):
    url = reverse("meetings:detail", args=[meeting.pk])
    assert 'id="history"' in login(client, steering).get(url).content.decode()
    assert 'id="history"' not in login(client, partner).get(url).content.decode()


def test_list_splits_upcoming_from_past(client, steering, coalition, meeting):
    make_meeting(coalition, title="Next meeting", starts_at=timezone.now() + timedelta(days=30))
    response = login(client, steering).get(reverse("meetings:list"))
    assert [m.title for m in response.context["upcoming"]] == ["Next meeting"]
    assert [m.title for m in response.context["past"]] == ["First steering group meeting"]


def test_list_filters_with_the_shared_filter_set(client, steering, coalition, meeting):
    make_meeting(coalition, title="Expert group on networks", kind="expert_group")
    response = login(client, steering).get(reverse("meetings:list"), {"kind": "expert_group"})
    assert [m.title for m in response.context["past"]] == ["Expert group on networks"]


def test_pledges_confirmed_at_the_meeting_are_listed_drafts_hidden(
    client, steering, editor_b, coalition, member_a, meeting, rates
):
    confirmed = factories.make_pledge(coalition=coalition, member=member_a, title="Servers", status="announced")
    contribution_services.pledge_confirm(acting_user=None, pledge=confirmed, meeting=meeting, on_date=date(2024, 2, 2))
    decision = Decision.objects.get(meeting=meeting)
    draft = factories.make_pledge(coalition=coalition, member=member_a, title="Secret draft", status="draft")
    contribution_services.decision_link(acting_user=None, decision=decision, pledges=[confirmed, draft])
    html = login(client, steering).get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert "Servers" in html
    assert "100,000.00" in html
    assert "Secret draft" not in html


# --- Open action items follow to later meetings ---------------------------------------------------


def test_open_action_items_of_earlier_meetings_show_until_done(client, steering, secretariat, coalition, meeting):
    later = make_meeting(coalition, title="Luxembourg meeting", starts_at=datetime(2024, 4, 8, 8, tzinfo=UTC))
    url = reverse("meetings:detail", args=[later.pk])
    response = login(client, steering).get(url)
    assert [i.text for i in response.context["earlier_open_items"]] == ["Draft the procurement roadmap"]
    item = ActionItem.objects.get(meeting=meeting)
    login(client, secretariat).post(
        reverse("meetings:action_item_status", args=[later.pk, item.pk]), {"status": "done", "version": item.version}
    )
    item.refresh_from_db()
    assert item.status == "done"
    assert login(client, steering).get(url).context["earlier_open_items"] == []


def test_earlier_meeting_does_not_show_later_items(client, steering, coalition, meeting, member_a):
    later = make_meeting(coalition, title="Later", starts_at=datetime(2024, 4, 8, 8, tzinfo=UTC))
    services.action_item_add(acting_user=None, meeting=later, text="Something for May", owner=member_a)
    response = login(client, steering).get(reverse("meetings:detail", args=[meeting.pk]))
    assert response.context["earlier_open_items"] == []


# --- The secretariat's forms ----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["editor_a", "steering", "partner"])
def test_only_the_secretariat_gets_the_forms(client, personas, meeting, member_a, persona):
    login(client, personas[persona])
    html = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert reverse("meetings:edit", args=[meeting.pk]) not in html
    assert reverse("meetings:attendance", args=[meeting.pk]) not in html
    assert client.get(reverse("meetings:create")).status_code == 403
    assert client.get(reverse("meetings:edit", args=[meeting.pk])).status_code == 403
    item = ActionItem.objects.get(meeting=meeting)
    posts = {
        reverse("meetings:mark_held", args=[meeting.pk]): {"version": meeting.version},
        reverse("meetings:cancel", args=[meeting.pk]): {"version": meeting.version},
        reverse("meetings:agenda", args=[meeting.pk]): {"agenda-title": "Sneaky"},
        reverse("meetings:action_item", args=[meeting.pk]): {"action-text": "Sneaky"},
        reverse("decisions:create", args=[meeting.pk]): {"text": "Sneaky", "kind": "other"},
        reverse("meetings:attendance", args=[meeting.pk]): {
            "attendance-member": member_a.pk,
            "attendance-role": "participant",
            "attendance-status": "apologies",
        },
        reverse("meetings:action_item_status", args=[meeting.pk, item.pk]): {"status": "done", "version": 1},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    meeting.refresh_from_db()
    assert meeting.status == "planned"
    assert not AgendaItem.objects.filter(title="Sneaky").exists()
    assert ActionItem.objects.get(pk=item.pk).status == "open"


def test_secretariat_plans_a_meeting(client, secretariat, coalition):
    response = login(client, secretariat).post(
        reverse("meetings:create"),
        {
            "coalition": coalition.pk,
            "title": "Tallinn meeting",
            "kind": "steering_group",
            "starts_at": "2024-05-31T10:00",
            "ends_at": "2024-05-31T13:00",
            "location": "Tallinn",
        },
    )
    meeting = Meeting.objects.get(title="Tallinn meeting")
    assert response.status_code == 302
    # Typed in the portal's time zone (Europe/Kyiv, UTC+3 in summer).
    assert meeting.starts_at == datetime(2024, 5, 31, 7, 0, tzinfo=UTC)


def test_meeting_that_ends_before_it_starts_is_refused_on_the_field(client, secretariat, coalition):
    response = login(client, secretariat).post(
        reverse("meetings:create"),
        {
            "coalition": coalition.pk,
            "title": "Backwards",
            "kind": "plenary",
            "starts_at": "2024-05-31T10:00",
            "ends_at": "2024-05-31T09:00",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["ends_at"]
    assert not Meeting.objects.filter(title="Backwards").exists()


def test_stale_meeting_edit_is_refused_and_the_input_kept(client, secretariat, meeting):
    login(client, secretariat)
    data = client.get(reverse("meetings:edit", args=[meeting.pk])).context["form"].initial
    post = {k: v for k, v in data.items() if v is not None}
    post["starts_at"] = "2024-02-02T10:00"
    post.pop("ends_at", None)
    post["online"] = ""
    services.meeting_update(acting_user=None, meeting=meeting, location="Brussels")
    post.update(title="My retitled meeting")
    response = client.post(reverse("meetings:edit", args=[meeting.pk]), post)
    assert response.status_code == 200
    html = response.content.decode()
    assert "changed by someone else" in html
    assert 'value="My retitled meeting"' in html
    meeting.refresh_from_db()
    assert meeting.title == "First steering group meeting"


def test_secretariat_edits_minutes(client, secretariat, meeting):
    login(client, secretariat)
    post = {
        "title": meeting.title,
        "kind": meeting.kind,
        "starts_at": "2024-02-02T10:00",
        "location": "Tallinn",
        "minutes": "Minutes text",
        "minutes_status": "draft",
        "version": meeting.version,
    }
    assert client.post(reverse("meetings:edit", args=[meeting.pk]), post).status_code == 302
    meeting.refresh_from_db()
    assert meeting.minutes == "Minutes text"
    assert meeting.history.first().history_user == secretariat


def test_secretariat_marks_held_and_a_second_stale_click_is_refused(client, secretariat, meeting):
    login(client, secretariat)
    url = reverse("meetings:mark_held", args=[meeting.pk])
    assert client.post(url, {"version": meeting.version}).status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == "held" and meeting.held_by == secretariat
    response = client.post(reverse("meetings:cancel", args=[meeting.pk]), {"version": 1}, follow=True)
    assert "changed by someone else" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.status == "held"


def test_secretariat_cancels_a_planned_meeting(client, secretariat, coalition):
    planned = make_meeting(coalition, title="Maybe", starts_at=timezone.now() + timedelta(days=3))
    url = reverse("meetings:cancel", args=[planned.pk])
    page = login(client, secretariat).post(url, {"version": planned.version})
    assert page.status_code == 200 and "Cancel this meeting?" in page.content.decode()
    planned.refresh_from_db()
    assert planned.status == "planned", "nothing is cancelled before it is confirmed"
    assert client.post(url, {"version": planned.version, "confirm": "yes"}).status_code == 302
    planned.refresh_from_db()
    assert planned.status == "cancelled"


def test_secretariat_records_attendance_agenda_decision_and_action(
    client, secretariat, coalition, meeting, member_b, pledge_b
):
    login(client, secretariat)
    client.post(
        reverse("meetings:attendance", args=[meeting.pk]),
        {
            "attendance-member": member_b.pk,
            "attendance-role": "participant",
            "attendance-status": "present",
            "attendance-delegates": "John Roe",
        },
    )
    assert Attendance.objects.get(meeting=meeting, member=member_b).status == "present"
    client.post(reverse("meetings:agenda", args=[meeting.pk]), {"agenda-title": "Next steps"})
    assert list(meeting.agenda_items.values_list("order", "title")) == [(1, "Priorities for 2024"), (2, "Next steps")]
    priority = contribution_services.priority_create(
        acting_user=None, coalition=coalition, title="Servers", estimated_cost_eur=Decimal("1000")
    )
    response = client.post(
        reverse("decisions:create", args=[meeting.pk]),
        {
            "text": "Luxembourg's pledge is confirmed.",
            "kind": "pledge_confirmed",
            "pledges": [pledge_b.pk],
            "priorities": [priority.pk],
        },
    )
    assert response.status_code == 302
    decision = Decision.objects.get(text="Luxembourg's pledge is confirmed.")
    assert list(decision.pledges.all()) == [pledge_b]
    assert list(decision.priorities.all()) == [priority]
    client.post(
        reverse("meetings:action_item", args=[meeting.pk]),
        {"action-text": "Send the roadmap", "action-owner": member_b.pk, "action-due_on": "2024-03-01"},
    )
    item = ActionItem.objects.get(text="Send the roadmap")
    assert item.owner == member_b and item.due_on == date(2024, 3, 1)
    html = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert "Send the roadmap" in html and "John Roe" in html


def test_invalid_sub_form_shows_the_page_again_with_the_error_and_input(client, secretariat, meeting, other_coalition):
    stranger = factories.MemberFactory(code="JP", name="Japan")  # not seated in this coalition
    response = login(client, secretariat).post(
        reverse("meetings:action_item", args=[meeting.pk]),
        {"action-text": "Keep this text", "action-owner": stranger.pk},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Keep this text" in html
    assert response.context["action_form"].errors["owner"]


# --- Query counts ---------------------------------------------------------------------------------


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


LIST_QUERIES = 7  # 9 before seats: one query for the roles instead of three
DETAIL_QUERIES = 16  # 18 before seats


def test_list_query_count_is_pinned_and_independent_of_rows(client, steering, coalition):
    def add(n, offset):
        for i in range(n):
            m = make_meeting(coalition, title=f"M{offset + i}", starts_at=FEB_2 + timedelta(days=offset + i))
            services.decision_record(acting_user=None, meeting=m, text="d")
            services.action_item_add(acting_user=None, meeting=m, text="a")
            make_meeting(coalition, title=f"U{offset + i}", starts_at=timezone.now() + timedelta(days=offset + i + 1))

    add(1, 0)
    login(client, steering)
    one = _count(client, reverse("meetings:list"))
    add(19, 1)
    twenty = _count(client, reverse("meetings:list"))
    assert one == twenty == LIST_QUERIES


def test_detail_query_count_is_pinned_and_independent_of_rows(client, secretariat, coalition, rates):
    meeting = make_meeting(coalition, starts_at=datetime(2024, 4, 8, 8, tzinfo=UTC))
    earlier = make_meeting(coalition, title="Earlier")

    def add(n, offset):
        for i in range(n):
            code = f"M{offset + i}"
            member = factories.MemberFactory(code=code, name=f"Member {code}")
            factories.MembershipFactory(member=member, coalition=coalition)
            services.attendance_set(acting_user=None, meeting=meeting, member=member, status="present", delegates="X")
            services.agenda_item_add(acting_user=None, meeting=meeting, title=f"Item {code}")
            decision = services.decision_record(acting_user=None, meeting=meeting, text=f"Decision {code}")
            pledge = factories.make_pledge(coalition=coalition, member=member, title=f"Pledge {code}")
            contribution_services.pledge_confirm(acting_user=None, pledge=pledge, meeting=meeting)
            priority = contribution_services.priority_create(
                acting_user=None,
                coalition=coalition,
                title=f"P {code}",
                estimated_cost_eur=Decimal("10"),
                status="approved",
                approved_at_meeting=meeting,
            )
            contribution_services.decision_link(
                acting_user=None, decision=decision, pledges=[pledge], priorities=[priority]
            )
            services.action_item_add(acting_user=None, meeting=meeting, text=f"Do {code}", owner=member)
            services.action_item_add(acting_user=None, meeting=earlier, text=f"Earlier {code}", owner=member)
            services.meeting_update(acting_user=None, meeting=Meeting.objects.get(pk=meeting.pk), location=code)

    add(1, 0)
    login(client, secretariat)
    url = reverse("meetings:detail", args=[meeting.pk])
    one = _count(client, url)
    add(19, 1)
    twenty = _count(client, url)
    assert one == twenty == DETAIL_QUERIES
