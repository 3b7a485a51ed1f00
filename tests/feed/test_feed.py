"""The change feed in-process: what each role learns, in which order, and that a mirror applying it
equals a fresh listing of every endpoint."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coalition import changes
from coalition import services as coalition_services
from coalition.models import Change
from contributions import services as contribution_services
from feed import events
from meetings import services as meeting_services
from tests import factories
from tests.api_mixins import APITestBase
from tests.feed.mirror import Mirror, full_listing

# The feed hands out only changes of transactions that have ended (coalition.changes): on PostgreSQL a
# test inside one open transaction would see none, so each write here commits.
pytestmark = pytest.mark.django_db(transaction=True)

ROLES = ("secretariat", "editor_a", "editor_b", "steering", "partner")


def keys_of(page, resource):
    return [e["key"] for e in page if e["resource"] == resource]


def test_cursor_round_trips_and_refuses_what_it_did_not_hand_out():
    assert events.decode_cursor(events.encode_cursor((812, 12345))) == (812, 12345)
    assert events.decode_cursor("") == events.START
    for bad in ("nonsense!", events.encode_cursor((0, 1))[:-1] + "*", "YWJj", "YzE6LTE", "YzI6MQ"):
        with pytest.raises(events.BadCursor):
            events.decode_cursor(bad)


def test_a_write_and_its_change_row_commit_or_roll_back_together(coalition, member_a, rates):
    before = Change.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.make_pledge(coalition=coalition, member=member_a)
        assert Change.objects.count() > before
        raise RuntimeError("roll back")
    assert Change.objects.count() == before


def test_partner_never_learns_of_a_draft_withdrawn_before_publication(personas, coalition, member_a, rates):
    draft = factories.make_pledge(coalition=coalition, member=member_a, status="draft")
    contribution_services.pledge_withdraw(acting_user=None, pledge=draft)
    partner_page, _next, _more = events.page(personas["partner"])
    assert str(draft.pk) not in keys_of(partner_page, "pledge")
    editor_page, _next, _more = events.page(personas["editor_a"])
    assert keys_of(editor_page, "pledge").count(str(draft.pk)) == 2
    assert [e["action"] for e in editor_page if e["resource"] == "pledge"] == ["draft", "withdrawn"]
    other_editor_page, _next, _more = events.page(personas["editor_b"])
    assert str(draft.pk) not in keys_of(other_editor_page, "pledge")


def test_every_change_of_a_pledge_reaches_the_partner_in_commit_order(personas, coalition, member_a, rates):
    partner = personas["partner"]
    mirror = Mirror(partner)
    mirror.sync()
    pledge = factories.make_pledge(coalition=coalition, member=member_a, status="draft")
    assert mirror.sync() == 0  # a draft: nothing for a partner
    pledge = contribution_services.pledge_announce(acting_user=None, pledge=pledge)
    pledge = contribution_services.pledge_update(acting_user=None, pledge=pledge, title="Servers")
    assert mirror.sync() == 2
    assert mirror.records["pledge"][str(pledge.pk)]["title"] == "Servers"
    contribution_services.pledge_delete(acting_user=None, pledge=pledge)
    page, _next, _more = events.page(partner, mirror.after)
    assert [(e["type"], e["data"]) for e in page] == [("pledge.deleted", None)]
    mirror.sync()
    assert mirror.records == full_listing(partner)
    assert len(mirror.seen) == len(set(mirror.seen))


def test_a_removed_seat_hides_what_its_holder_saw_and_a_new_one_shows_it(personas, coalition, member_a, rates):
    partner = personas["partner"]
    pledge = factories.make_pledge(coalition=coalition, member=member_a)
    mirror = Mirror(partner)
    mirror.sync()
    assert str(pledge.pk) in mirror.records["pledge"]
    coalition_services.seat_remove(acting_user=None, user=partner, coalition=coalition)
    page, _next, _more = events.page(partner, mirror.after)
    assert {"pledge.hidden", "coalition.hidden", "member.hidden"} <= {e["type"] for e in page}
    mirror.sync()
    assert mirror.records == full_listing(partner) == {name: {} for name in mirror.records}
    factories.seat(partner, coalition, "steering")
    mirror.sync()
    assert mirror.records == full_listing(partner)
    assert str(pledge.pk) in mirror.records["pledge"]


def test_a_draft_deleted_before_its_editor_became_a_partner_is_still_told_to_them_as_deleted(
    personas, coalition, member_a, rates
):
    # The editor's mirror holds the draft; it is deleted, then the editor becomes a partner before the
    # mirror syncs. As a partner they could never read the draft's rows, but they were written while
    # the editor's seat could: the feed judges them by that seat too.
    editor = personas["editor_a"]
    draft = factories.make_pledge(coalition=coalition, member=member_a, status="draft")
    mirror = Mirror(editor)
    mirror.sync()
    assert str(draft.pk) in mirror.records["pledge"]
    contribution_services.pledge_delete(acting_user=None, pledge=draft)
    coalition_services.seat_set(acting_user=None, user=editor, coalition=coalition, role="partner")
    page, _next, _more = events.page(editor, mirror.after)
    assert ("pledge.deleted", str(draft.pk)) in {(e["type"], e["key"]) for e in page}
    mirror.sync()
    assert mirror.records == full_listing(editor)
    assert str(draft.pk) not in mirror.records["pledge"]


def test_a_pledge_deleted_before_a_seat_was_removed_and_given_again_leaves_no_ghost(
    personas, coalition, member_a, rates
):
    partner = personas["partner"]
    pledge = factories.make_pledge(coalition=coalition, member=member_a)
    kept = factories.make_pledge(coalition=coalition, member=member_a, title="Kept")
    mirror = Mirror(partner)
    mirror.sync()
    contribution_services.pledge_delete(acting_user=None, pledge=pledge)
    coalition_services.seat_remove(acting_user=None, user=partner, coalition=coalition)
    mirror.sync()  # with no seat: everything is hidden, the deletion told by the seat it was written under
    assert mirror.records == {name: {} for name in mirror.records}
    factories.seat(partner, coalition, "steering")
    mirror.sync()
    assert mirror.records == full_listing(partner)
    assert set(mirror.records["pledge"]) == {str(kept.pk)}


def test_a_former_seat_is_read_only_while_the_cursor_is_behind_its_end(personas, coalition, member_a, rates):
    editor = personas["editor_a"]
    coalition_services.seat_set(acting_user=None, user=editor, coalition=coalition, role="partner")
    [former] = changes.former_seats(editor.pk, events.START)
    assert (former.coalition_id, former.role, former.member_id) == (coalition.pk, "member-editor", member_a.pk)
    _page, after, _more = events.page(editor)
    assert changes.former_seats(editor.pk, after) == []
    # A change that leaves the seat as it was records nothing.
    coalition_services.seat_set(acting_user=None, user=editor, coalition=coalition, role="partner")
    assert len(changes.former_seats(editor.pk, events.START)) == 1


def test_a_partner_does_not_learn_of_drafts_written_after_they_left_an_editors_seat(
    personas, coalition, member_a, rates
):
    editor = personas["editor_a"]
    coalition_services.seat_set(acting_user=None, user=editor, coalition=coalition, role="partner")
    draft = factories.make_pledge(coalition=coalition, member=member_a, status="draft")
    page, _next, _more = events.page(editor)
    assert str(draft.pk) not in keys_of(page, "pledge")


def test_mirrors_of_every_role_equal_a_fresh_listing_after_a_mixed_history(
    personas, coalition, member_a, member_b, rates
):
    mirrors = {role: Mirror(personas[role]) for role in ROLES}
    draft = factories.make_pledge(coalition=coalition, member=member_a, status="draft")
    confirmed = factories.make_pledge(coalition=coalition, member=member_b, status="confirmed", amount=Decimal(9000))
    for mirror in mirrors.values():
        mirror.sync(limit=3)
    priority = contribution_services.priority_create(
        acting_user=None, coalition=coalition, title="Servers", estimated_cost_eur=Decimal(5000)
    )
    allocation = contribution_services.allocation_set(
        acting_user=None, pledge=confirmed, priority=priority, amount_eur=Decimal(1000)
    )
    contribution_services.disbursement_record(
        acting_user=None, pledge=confirmed, amount=Decimal("100.00"), date=date(2024, 3, 1)
    )
    meeting = meeting_services.meeting_create(
        acting_user=None, coalition=coalition, title="Steering group", starts_at=datetime(2024, 2, 2, 9, tzinfo=UTC)
    )
    meeting_services.attendance_set(acting_user=None, meeting=meeting, member=member_a, delegates="Jane Doe")
    decision = meeting_services.decision_record(acting_user=None, meeting=meeting, text="Buy servers")
    contribution_services.decision_link(acting_user=None, decision=decision, pledges=[draft], priorities=[priority])
    meeting_services.action_item_add(acting_user=None, meeting=meeting, text="Procure", owner=member_a)
    contribution_services.pledge_announce(acting_user=None, pledge=draft)  # the decision now lists it to all
    contribution_services.allocation_delete(acting_user=None, allocation=allocation)
    meeting_services.meeting_mark_held(acting_user=None, meeting=meeting)
    coalition_services.coalition_update(acting_user=None, coalition=coalition, description="Renamed")
    extra = factories.MemberFactory(code="LV", name="Latvia")
    membership = coalition_services.membership_set(acting_user=None, coalition=coalition, member=extra)
    coalition_services.membership_remove(acting_user=None, membership=membership)
    for role, mirror in mirrors.items():
        mirror.sync(limit=4)
        assert mirror.records == full_listing(personas[role]), role
        assert len(mirror.seen) == len(set(mirror.seen)), role  # no repeats


def test_meeting_held_is_an_event_with_its_transition(personas, coalition):
    meeting = meeting_services.meeting_create(
        acting_user=None, coalition=coalition, title="Plenary", starts_at=datetime(2024, 2, 2, 9, tzinfo=UTC)
    )
    meeting_services.meeting_mark_held(acting_user=None, meeting=meeting)
    page, _next, _more = events.page(personas["partner"])
    held = [e for e in page if e["resource"] == "meeting" and e["action"] == "held"]
    assert len(held) == 1 and held[0]["data"]["status"] == "held"


class TestChangesEndpoint(APITestBase):
    url = reverse("api:changes")

    def test_pages_resume_exactly_without_gaps_or_repeats(self, api, coalition, member_a, rates):
        for i in range(7):
            factories.make_pledge(coalition=coalition, member=member_a, title=f"Pledge {i}")
        client = api("partner")
        seen, cursor = [], ""
        while True:
            body = client.get(self.url, {"cursor": cursor, "limit": 3}).json()
            seen.extend(e["seq"] for e in body["events"])
            cursor = body["next"]
            if not body["has_more"]:
                break
        everything = client.get(self.url, {"limit": 1000}).json()["events"]
        assert seen == [e["seq"] for e in everything]
        assert len(seen) == len(set(seen)) >= 7
        assert client.get(self.url, {"cursor": cursor}).json()["events"] == []

    def test_event_bodies_are_the_resource_endpoints_own(self, api, coalition, pledge_a):
        client = api("partner")
        event = next(e for e in client.get(self.url).json()["events"] if e["resource"] == "pledge")
        listed = client.get(reverse("api:pledge-list")).json()["results"]
        assert event["data"] == next(p for p in listed if p["id"] == pledge_a.pk)

    @pytest.mark.parametrize(
        "params, field",
        [({"cursor": "not-a-cursor"}, "cursor"), ({"limit": "0"}, "limit"), ({"limit": "1001"}, "limit")],
    )
    def test_bad_parameters_get_a_400_naming_them(self, api, coalition, params, field):
        response = api("partner").get(self.url, params)
        assert response.status_code == 400
        assert field in response.json()

    def test_needs_a_key_and_a_seat(self, api, coalition):
        assert api().get(self.url).status_code == 401
        assert api("outsider").get(self.url).status_code == 403

    @pytest.mark.parametrize("rows", [1, 20])
    def test_a_page_costs_the_same_queries_however_many_events(self, api, coalition, member_a, rates, rows):
        # Every resource in the page: pledges, their coalition and member, a priority, a meeting.
        for i in range(rows):
            factories.make_pledge(coalition=coalition, member=member_a, title=f"Pledge {i}")
            contribution_services.priority_create(
                acting_user=None, coalition=coalition, title=f"Priority {i}", estimated_cost_eur=Decimal(10)
            )
        client = api("partner")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(self.url, {"limit": 1000}).status_code == 200
        # the key and its last use (2), seats (1), the horizon (1), the seats left since the cursor (1),
        # the rows (1), then per resource present: coalition 1, member 2 (+ visible memberships),
        # pledge 1, priority 1.
        assert len(queries) == 11, "\n".join(q["sql"][:150] for q in queries)
